/**
 * The health page in a real browser (Debian chromium): an admin signs in, sees every check with badge,
 * latency sparkline and transitions, filters by group, and "Run now" replaces the row in place (htmx
 * POST carrying the CSRF token); the home widget shows the failing check. Nothing leaves 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { Browser, Page } from "playwright-core"
import { definePlugin } from "../../src/plugin/contract"
import { browserAvailable, externalRequests, openBrowser } from "../../test/browser"
import { createTestApp, type TestApp } from "../../test/support"
import healthPlugin from "./plugin"
import { sparkline } from "./ui"

let runs = 0
const counting = definePlugin({
  id: "counting",
  title: "Counting",
  checks: () => [
    {
      name: "counter",
      groups: ["ready", "batch"],
      check: () => ({ status: "pass", message: `run <${++runs}>` }),
    },
    { name: "broken", check: () => ({ status: "fail", message: "broken on purpose" }) },
  ],
})

test("the sparkline is an SVG polyline of the durations (no markup from data)", () => {
  const svg = sparkline([1, 2, 4]).value
  expect(svg).toStartWith("<svg")
  expect(svg).toContain('points="0.0,17.0 60.0,12.0 120.0,2.0"')
  expect(sparkline([1]).value).not.toContain("<svg")
})

test("the live stream sends re-rendered rows of its group, marked for an out-of-band swap", async () => {
  const app = await createTestApp({ plugins: [healthPlugin, counting], env: { LOGBOOK_ADMIN_TOKEN: "adm" } })
  try {
    const base = await app.listen()
    const abort = new AbortController()
    const res = await fetch(`${base}/ui/health/stream?group=batch`, { signal: abort.signal })
    expect(res.headers.get("content-type")).toBe("text/event-stream")
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    const decoder = new TextDecoder()
    let text = ""
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read()
        if (done) throw new Error(`stream ended before ${needle}`)
        text += decoder.decode(value)
      }
    }
    await readUntil(": connected")
    // "broken" is not in group batch: only counter's row is sent
    await app.request("/c2c/health_check?checks=counter,broken")
    await readUntil("</tr>")
    const message = text.slice(text.indexOf("data: "))
    expect(message).toContain(
      '<tr id="check-counter" data-check="counter" data-status="pass" hx-swap-oob="outerHTML">',
    )
    expect(message).not.toContain("check-broken")
    abort.abort()
  } finally {
    await app.close()
  }
})

describe.skipIf(!browserAvailable)("health page in a browser", () => {
  let app: TestApp
  let base: string
  let browser: Browser
  let page: Page

  /**
   * Navigates the one page. Leaving a page while a request is in flight (late favicon, widget load, the
   * live stream) sometimes trips playwright-core under Bun ("Cannot find parent object request@…"), so
   * the live stream is stopped (window.stop() aborts the document's fetches) and seen to end first.
   */
  const open = async (path: string, ready: (p: Page) => Promise<unknown>) => {
    if (await page.locator("#health-live").count())
      await Promise.all([
        page.waitForEvent("requestfailed", (r) => r.url().includes("/ui/health/stream")),
        page.evaluate(() => window.stop()),
      ])
    await Promise.all([ready(page), page.goto(`${base}${path}`)])
    return page
  }
  /** A health page, once its live stream is connected (it never goes network-idle). */
  const openHealth = (path: string) =>
    open(path, (p) => p.waitForResponse((r) => r.url().includes("/ui/health/stream")))

  beforeAll(async () => {
    app = await createTestApp({
      plugins: [healthPlugin, counting],
      env: { LOGBOOK_ADMIN_TOKEN: "adm-secret" },
    })
    base = await app.listen()
    browser = await openBrowser()
    page = await browser.newPage()
    const signin = await open("/ui/signin", (p) => p.waitForLoadState("load"))
    await signin.fill("#token", "adm-secret")
    await Promise.all([
      signin.waitForURL((u) => !u.pathname.startsWith("/ui/signin")),
      signin.click("button.primary"),
    ])
    await signin.waitForLoadState("networkidle")
  }, 30_000)

  afterAll(async () => {
    await browser?.close()
    await app?.close()
  })

  test("every check is listed; Run now updates its row in place", async () => {
    const page = await openHealth("/ui/health")
    const row = page.locator("#check-counter")
    await expect(row.locator(".badge").first().textContent()).resolves.toBe("pass")
    const before = (await row.locator("td").nth(2).textContent()) ?? ""
    expect(before).toMatch(/^run <\d+>$/)
    expect(await page.locator("#check-broken .badge").first().textContent()).toBe("fail")
    // a marker on the page survives only if the page is not reloaded
    await page.evaluate(() => {
      ;(window as unknown as { marker: number }).marker = 1
    })
    const n = runs
    await row.getByRole("button", { name: "Run now" }).click()
    await page.waitForFunction(
      (expected) => document.querySelector("#check-counter td:nth-child(3)")?.textContent === expected,
      `run <${n + 1}>`,
    )
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(1)
    // the server ran it once more and rendered a sparkline from the recent durations
    expect(await page.locator("#check-counter svg.sparkline").count()).toBe(1)
  })

  test("rows follow new results live (SSE), without a reload", async () => {
    const page = await openHealth("/ui/health")
    await page.evaluate(() => {
      ;(window as unknown as { marker: number }).marker = 2
    })
    // a run caused by someone else (here: the API) reaches the open page
    const r = await app.request("/api/v1/health/checks/counter/run", {
      method: "POST",
      headers: { authorization: "Bearer adm-secret" },
    })
    const { message } = (await r.json()) as { message: string }
    await page.waitForFunction(
      (expected) => document.querySelector("#check-counter td:nth-child(3)")?.textContent === expected,
      message,
    )
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(2)
    expect(await page.locator("#check-counter").count()).toBe(1)
  })

  test("filter by group", async () => {
    const page = await openHealth("/ui/health?group=batch")
    expect(await page.locator("#health-checks tbody tr").count()).toBe(1)
    expect(await page.locator("#check-counter").count()).toBe(1)
  })

  test("the home widget shows the overall status and the failing check", async () => {
    const page = await open("/", (p) => p.waitForResponse((r) => r.url().includes("/ui/health/widget")))
    await page.waitForSelector("#health-widget")
    expect(await page.locator("#health-widget").getAttribute("data-status")).toBe("fail")
    const items = await page.locator("#health-widget li").allTextContents()
    expect(items).toContain("fail broken broken on purpose")
    expect(items.some((i) => i.includes("counter"))).toBe(false)
    // nothing on the page points anywhere but this server (no CDN, no external URL)
    const urls = await page.evaluate(() =>
      Array.from(document.querySelectorAll("[src], [href], [hx-get], [hx-post], [hx-sse\\:connect]")).flatMap(
        (el) =>
          ["src", "href", "hx-get", "hx-post", "hx-sse:connect"]
            .map((a) => el.getAttribute(a))
            .filter((v) => v !== null),
      ),
    )
    expect(urls.length).toBeGreaterThan(3)
    expect(externalRequests(urls.map((u) => new URL(u as string, base).href))).toEqual([])
  })
})
