/**
 * The records UI in a real browser (Debian chromium): search narrows the list, a histogram click and a
 * drag zoom the window (URL and list follow), a record's detail opens, and the live tail shows a record
 * posted after the page opened (with pause/resume). Conditions are awaited with deadlines, never slept.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { Browser, Page } from "playwright-core"
import { definePlugin, type PluginContext } from "../../src/plugin/contract"
import { browserAvailable, externalRequests, openBrowser, watchRequests } from "../../test/browser"
import { createTestApp, type TestApp } from "../../test/support"
import recordsPlugin from "./plugin"
import { ingest, type NormalisedRecord } from "./service"
import { tailWake } from "./tail-wake"

const NOW = Date.UTC(2026, 10, 22, 10, 0, 0)
const MIN = 60_000

let ctx: PluginContext
const capture = definePlugin({
  id: "uibrowsertest",
  title: "context capture",
  setup(c) {
    ctx = c
  },
})

const rec = (at: number, level: number, name: string, message: string, logrec = {}): NormalisedRecord => ({
  ts: at * 1000,
  level,
  name,
  message,
  logrec,
})

let app: TestApp
let base: string
let browser: Browser
let page: Page
let requests: string[]
let ids: number[]

/** Polls `get` until it deep-equals `expected` or the deadline passes, then asserts (for the message). */
async function eventually<T>(get: () => Promise<T> | T, expected: T, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  let last = await get()
  while (!Bun.deepEquals(last, expected) && Date.now() < deadline) {
    await Bun.sleep(25)
    last = await get()
  }
  expect(last as unknown).toEqual(expected)
}

/** POSTs a record the way Python's logging.handlers.HTTPHandler does (form-encoded record.__dict__). */
async function postRecord(name: string, levelno: number, msg: string): Promise<number> {
  const levelname = { 20: "INFO", 30: "WARNING", 40: "ERROR" }[levelno] ?? "ERROR"
  const body = new URLSearchParams({
    name,
    msg,
    args: "()",
    levelname,
    levelno: String(levelno),
    created: String(NOW / 1000),
    pathname: "/srv/app.py",
    lineno: "1",
    funcName: "main",
    process: "4242",
  })
  const res = await fetch(`${base}/api/v1/record`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
  })
  expect(res.status).toBeLessThan(300)
  const posted = (await res.json()) as { id?: number }
  return Number(posted.id)
}

const rows = (p: Page, tbody = "#records-rows") => p.locator(`${tbody} tr.record`)
const rowIds = async (p: Page, tbody = "#records-rows") =>
  await rows(p, tbody).evaluateAll((trs) => trs.map((tr) => Number((tr as HTMLElement).dataset.id)))

describe.skipIf(!browserAvailable)("records UI in a browser", () => {
  beforeAll(async () => {
    app = await createTestApp({ plugins: [capture, recordsPlugin] })
    ids = await ingest(ctx, [
      rec(NOW - 50 * MIN, 20, "app.web", "GET /cart 200"),
      rec(NOW - 50 * MIN + 2000, 40, "app.db", "deadlock detected"),
      rec(NOW - 50 * MIN + 4000, 30, "app.db", "slow query"),
      rec(NOW - 20 * MIN, 50, "app.db.pool", "pool exhausted"),
      rec(NOW - 10 * MIN, 40, "app.web", "needle in the haystack", {
        meta: { funcName: "handle_cart", lineno: 7 },
        error: { exc_text: "Traceback (most recent call last):\nKeyError: 'sku'" },
      }),
    ])
    base = await app.listen()
    browser = await openBrowser()
    page = await browser.newPage()
    requests = watchRequests(page)
  }, 30_000)
  afterAll(async () => {
    await browser?.close()
    await app?.close()
  }, 20_000)

  test("search narrows the list and the URL keeps the state", async () => {
    await page.goto(`${base}/ui/records`)
    expect(await rowIds(page)).toEqual([...ids].reverse())
    await page.fill("#records-q", "needle")
    await page.press("#records-q", "Enter")
    await page.waitForURL((u) => u.searchParams.get("q") === "needle", { timeout: 5000 })
    // empty fields stay out of the permalink
    expect(new URL(page.url()).search).toBe("?q=needle&window=1h")
    await eventually(() => rowIds(page), [ids[4]])
    // level selector alone submits
    await page.fill("#records-q", "")
    await page.selectOption("#records-level", "error")
    await page.waitForURL((u) => u.searchParams.get("level") === "error" && !u.searchParams.get("q"), {
      timeout: 5000,
    })
    await eventually(() => rowIds(page), [ids[4], ids[3], ids[1]])
    // the permalink reproduces the view on a fresh load
    await page.reload()
    expect(await rowIds(page)).toEqual([ids[4], ids[3], ids[1]])
    expect(await page.inputValue("#records-level")).toBe("error")
  }, 20_000)

  test("the custom range fields show and take local time; a bad end is named, not replaced by now", async () => {
    const zurich = await browser.newContext({ timezoneId: "Europe/Zurich" })
    try {
      const p = await zurich.newPage()
      await p.goto(`${base}/ui/records?window=custom&from=2026-11-22T09:00:00Z&to=2026-11-22T09:30:00Z`)
      // November: Zurich is UTC+1
      await eventually(() => p.inputValue("#records-from"), "2026-11-22 10:00:00")
      expect(await p.inputValue("#records-to")).toBe("2026-11-22 10:30:00")
      // the histogram's time axis and its tooltips are in local time too (5-minute ticks in 30 minutes)
      expect(await p.locator("#records-results .records-axis time").allTextContents()).toEqual([
        "10:05",
        "10:10",
        "10:15",
        "10:20",
        "10:25",
      ])
      expect(
        await p.textContent(`svg.records-histogram a.bar[data-from="${NOW - 50 * MIN}"] title`),
      ).toStartWith("2026-11-22 10:10:00 – 2026-11-22 10:10:30: 3 (ERROR 1, WARNING 1, INFO 1)")
      await p.fill("#records-from", "2026-11-22 10:10:01")
      await p.press("#records-from", "Enter")
      await p.waitForURL((u) => u.searchParams.get("from") === "2026-11-22T09:10:01.000Z", { timeout: 5000 })
      expect(new URL(p.url()).searchParams.get("to")).toBe("2026-11-22T09:30:00.000Z")
      await eventually(() => rowIds(p), [ids[2], ids[1]])
      await p.fill("#records-to", "garbage")
      await p.press("#records-to", "Enter")
      await p.waitForURL((u) => u.searchParams.get("to") === "garbage", { timeout: 5000 })
      await eventually(
        async () => (await p.textContent("#records-results"))?.includes('end "garbage" is not a time'),
        true,
      )
    } finally {
      await zurich.close()
    }
  }, 20_000)

  test("clicking a histogram bar zooms to its bucket; dragging zooms to a range", async () => {
    await page.goto(`${base}/ui/records`)
    await page.click(`svg.records-histogram a.bar[data-from="${NOW - 50 * MIN}"]`)
    await page.waitForURL((u) => u.searchParams.get("window") === "custom", { timeout: 5000 })
    const url = new URL(page.url())
    expect(url.searchParams.get("from")).toBe(new Date(NOW - 50 * MIN).toISOString())
    expect(url.searchParams.get("to")).toBe(new Date(NOW - 49 * MIN).toISOString())
    await eventually(() => rowIds(page), [ids[2], ids[1], ids[0]])
    expect(await page.inputValue("#records-window")).toBe("custom")

    // brush across the whole last hour's two busy bars, from the 50-minute bar to the 20-minute one
    await page.goto(`${base}/ui/records`)
    const box = await page.locator("svg.records-histogram").boundingBox()
    if (!box) throw new Error("no histogram")
    const xAt = (t: number) => box.x + ((t - (NOW - 60 * MIN)) / (60 * MIN)) * box.width
    await page.mouse.move(xAt(NOW - 50 * MIN) + 2, box.y + box.height / 2)
    await page.mouse.down()
    await page.mouse.move(xAt(NOW - 35 * MIN), box.y + box.height / 2, { steps: 4 })
    await page.mouse.move(xAt(NOW - 20 * MIN) + 2, box.y + box.height / 2, { steps: 4 })
    await page.mouse.up()
    await page.waitForURL((u) => u.searchParams.get("window") === "custom", { timeout: 5000 })
    const brushed = new URL(page.url())
    expect(brushed.searchParams.get("from")).toBe(new Date(NOW - 50 * MIN).toISOString())
    expect(brushed.searchParams.get("to")).toBe(new Date(NOW - 19 * MIN).toISOString())
    await eventually(() => rowIds(page), [ids[3], ids[2], ids[1], ids[0]])
    // back goes to the un-zoomed view
    await page.goBack()
    await page.waitForURL((u) => !u.searchParams.has("from"), { timeout: 5000 })
    await eventually(() => rowIds(page), [...ids].reverse())
  }, 20_000)

  test("a record's detail opens with its meta and traceback", async () => {
    await page.goto(`${base}/ui/records?q=needle`)
    await page.click(`#record-${ids[4]} td.msg a`)
    await page.waitForURL(`${base}/ui/records/${ids[4]}`, { timeout: 5000 })
    expect(await page.textContent("#record-traceback")).toBe(
      "Traceback (most recent call last):\nKeyError: 'sku'",
    )
    expect(await page.textContent('#record-meta tr[data-field="funcName"] pre')).toBe("handle_cart")
    // around this record loads by itself
    // the other four records and this one, marked as current
    await eventually(() => page.locator("#records-around-list tr.record").count(), ids.length)
    expect(await page.getAttribute("#records-around-list tr.current", "data-id")).toBe(String(ids[4]))
  }, 20_000)

  test("the live tail shows records posted after the page opened; pause holds them", async () => {
    await page.goto(`${base}/ui/records?q=tailme`)
    await page.click("#records-live button")
    await page.waitForSelector("#records-tail-rows", { state: "attached", timeout: 5000 })
    // the URL says the tail is open, so a bookmark or a reload reopens it (next test)
    await page.waitForURL((u) => u.searchParams.get("live") === "1" && u.searchParams.get("q") === "tailme", {
      timeout: 5000,
    })
    // connected once the server holds a listener for new records
    await eventually(() => tailWake(ctx).size(), 1)
    const first = await postRecord("tail.app", 40, "tailme first <b>bold</b>")
    await postRecord("tail.app", 40, "not for this search")
    await eventually(() => rowIds(page, "#records-tail-rows"), [first])
    expect(await page.textContent(`#records-tail-rows #record-${first} td.msg a`)).toBe(
      "tailme first <b>bold</b>",
    )

    await page.click("#records-tail .tail-pause")
    const second = await postRecord("tail.app", 40, "tailme second")
    await page.waitForSelector("#records-tail .tail-queued:not([hidden])", { timeout: 5000 })
    expect(await page.textContent("#records-tail .tail-queued")).toBe("1 row waiting")
    expect(await rowIds(page, "#records-tail-rows")).toEqual([first])
    await page.click("#records-tail .tail-pause")
    await eventually(() => rowIds(page, "#records-tail-rows"), [second, first])
    // a resumed stream may send a row again (PostgreSQL, ui-tail.ts): the page keeps the older copy only
    await page.evaluate((id) => {
      const body = document.getElementById("records-tail-rows") as HTMLTableSectionElement
      const copy = body.querySelector(`tr[data-id="${id}"]`)?.cloneNode(true) as HTMLElement
      copy.classList.add("repeat")
      body.prepend(copy)
      document.dispatchEvent(new CustomEvent("htmx:sse:after:message", { detail: {} }))
    }, first)
    expect(await rowIds(page, "#records-tail-rows")).toEqual([second, first])
    expect(await page.locator("#records-tail-rows tr.repeat").count()).toBe(0)

    // the buffer is bounded: after 2 × 300 more, the newest 500 rows stay
    const bulk = [
      ...(await ingest(
        ctx,
        Array.from({ length: 300 }, (_, i) => rec(NOW, 40, "tail.bulk", `tailme bulk ${i}`)),
      )),
      ...(await ingest(
        ctx,
        Array.from({ length: 300 }, (_, i) => rec(NOW, 40, "tail.bulk", `tailme bulk ${300 + i}`)),
      )),
    ]
    await eventually(async () => (await rowIds(page, "#records-tail-rows"))[0], bulk[bulk.length - 1])
    await eventually(() => rows(page, "#records-tail-rows").count(), 500)
    expect(await rowIds(page, "#records-tail-rows")).toEqual(bulk.slice(-500).reverse())

    // paused, the rows held are bounded the same way (whole batches, the oldest dropped first)
    await page.click("#records-tail .tail-pause")
    for (const [size, waiting] of [
      [300, "300 rows waiting"],
      [150, "450 rows waiting"],
      [100, "250 rows waiting"], // 550 > 500: the batch of 300 went
    ] as const) {
      await ingest(
        ctx,
        Array.from({ length: size }, (_, i) => rec(NOW, 40, "tail.bulk", `tailme held ${size}-${i}`)),
      )
      await eventually(() => page.textContent("#records-tail .tail-queued"), waiting)
    }
    await page.click("#records-tail .tail-pause")
    await eventually(() => page.isHidden("#records-tail .tail-queued"), true)
    await eventually(() => rows(page, "#records-tail-rows").count(), 500)

    // leaving the page closes the stream and the server drops its listener
    await page.goto(`${base}/ui/records`)
    await eventually(() => tailWake(ctx).size(), 0)
    expect(externalRequests(requests)).toEqual([])
  }, 20_000)

  test("a bookmarked live tail (live=1) opens with the page; Stop closes it and drops live from the URL", async () => {
    await page.goto(`${base}/ui/records?q=bookmarked&live=1`)
    await eventually(() => tailWake(ctx).size(), 1)
    const id = await postRecord("tail.app", 40, "bookmarked tail")
    await eventually(() => rowIds(page, "#records-tail-rows"), [id])
    await page.click("#records-tail button:has-text('Stop')")
    await page.waitForURL((u) => u.searchParams.get("q") === "bookmarked" && !u.searchParams.has("live"), {
      timeout: 5000,
    })
    await eventually(() => tailWake(ctx).size(), 0)
    expect(await page.locator("#records-live button").textContent()).toContain("Live tail of this search")
  }, 20_000)
})
