/**
 * The health page in a real browser (Debian chromium): an admin signs in, sees every check with badge,
 * latency sparkline and transitions, filters by group, and "Run now" replaces the row in place (htmx
 * POST carrying the CSRF token); the home widget shows the failing check. Nothing leaves 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { Browser, Page } from "playwright-core"
import { definePlugin } from "../../src/plugin/contract"
import { browserAvailable, externalRequests, openBrowser, watchRequests } from "../../test/browser"
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

describe.skipIf(!browserAvailable)("health page in a browser", () => {
  let app: TestApp
  let base: string
  let browser: Browser
  let page: Page
  let requests: string[]

  beforeAll(async () => {
    app = await createTestApp({
      plugins: [healthPlugin, counting],
      env: { LOGBOOK_ADMIN_TOKEN: "adm-secret" },
    })
    base = await app.listen()
    browser = await openBrowser()
    page = await browser.newPage()
    requests = watchRequests(page)
    await page.goto(`${base}/ui/signin`, { waitUntil: "networkidle" })
    await page.fill("#token", "adm-secret")
    await Promise.all([
      page.waitForURL((u) => !u.pathname.startsWith("/ui/signin")),
      page.click("button.primary"),
    ])
    // every navigation waits for the network to settle: a response arriving for a request of a page
    // already left (late favicon, widget load) sometimes trips playwright-core under Bun
    await page.waitForLoadState("networkidle")
  }, 30_000)
  afterAll(async () => {
    await browser?.close()
    await app?.close()
  })

  test("every check is listed; Run now updates its row in place", async () => {
    await page.goto(`${base}/ui/health`, { waitUntil: "networkidle" })
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

  test("filter by group", async () => {
    await page.goto(`${base}/ui/health?group=batch`, { waitUntil: "networkidle" })
    expect(await page.locator("#health-checks tbody tr").count()).toBe(1)
    expect(await page.locator("#check-counter").count()).toBe(1)
  })

  test("the home widget shows the overall status and the failing check", async () => {
    await page.goto(`${base}/`, { waitUntil: "networkidle" })
    await page.waitForSelector("#health-widget")
    expect(await page.locator("#health-widget").getAttribute("data-status")).toBe("fail")
    const items = await page.locator("#health-widget li").allTextContents()
    expect(items).toContain("fail broken broken on purpose")
    expect(items.some((i) => i.includes("counter"))).toBe(false)
    expect(externalRequests(requests)).toEqual([])
  })
})
