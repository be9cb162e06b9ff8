/**
 * The metrics page in a real browser (Debian chromium): search finds a received series, picking it
 * charts it with the window's change events as hoverable markers, pinning puts its sparkline in the
 * home widget, and nothing is loaded from outside 127.0.0.1. Changes come from a tiny test plugin that
 * provides the `changes` service (so this test does not depend on the changes plugin's state).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { Browser } from "playwright-core"
import { type ChangeEvent, definePlugin } from "../../src/plugin/contract"
import { browserAvailable, externalRequests, openBrowser, watchRequests } from "../../test/browser"
import { createTestApp, type TestApp } from "../../test/support"
import metrics from "./plugin"

const NOW = Date.UTC(2026, 10, 22, 10, 0, 0)
const MIN = 60_000

const change = (id: number, timestamp: number, description: string): ChangeEvent => ({
  id,
  timestamp,
  criticality: 2,
  category: "deploy",
  description,
  source: "api",
  service: "shop",
  environment: "prod",
  author: null,
  url: null,
  tags: {},
})
const events = [
  change(1, NOW - 15 * MIN, "Deploy shop v2 <b>bold</b>"),
  change(2, NOW - 3 * 3_600_000, "too old"),
]
const fakeChanges = definePlugin({
  id: "fakechanges",
  title: "fake changes",
  setup(ctx) {
    ctx.services.provide("changes", {
      record: async () => {},
      between: async (from, to) => events.filter((e) => e.timestamp >= from && e.timestamp <= to),
    })
  },
})

describe.skipIf(!browserAvailable)("metrics page in a browser", () => {
  let app: TestApp
  let base: string
  let browser: Browser
  beforeAll(async () => {
    app = await createTestApp({ plugins: [fakeChanges, metrics] })
    const svc = app.host.services.get("metrics")
    if (!svc) throw new Error("no metrics service")
    // 30 minutes of a received counter: the rate steps up 15 minutes ago (after the deploy)
    app.clock.set(NOW - 30 * MIN)
    // and two series whose keys hold commas (several tags): shop.checkout.{count,time}{env:prod,region:eu}
    for (let i = 0; i < 30; i++) {
      svc.receiver.ingest(`shop.orders:${i < 15 ? 60 : 600}|c|#env:prod`)
      svc.receiver.ingest(
        `shop.checkout.count:${6 * (i + 1)}|c|#env:prod,region:eu\nshop.checkout.time:${100 + i}|ms|#env:prod,region:eu`,
      )
      app.clock.advance(MIN)
      svc.tick(app.clock.now())
    }
    base = await app.listen()
    browser = await openBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    await app?.close()
  })

  test("search, chart with change markers, pin to the home widget", async () => {
    const page = await browser.newPage()
    const requests = watchRequests(page)
    await page.goto(`${base}/ui/metrics`)
    // typing is enough: htmx swaps the results in and pushes the URL (no page load)
    await page.locator('input[name="q"]').pressSequentially("shop.ord")
    await page.waitForURL(/q=shop\.ord/)
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("metrics-q")
    expect(await page.locator("#metrics-page").count()).toBe(1) // swapped, not nested
    const link = page.locator("#series-list a", { hasText: "shop.orders{env:prod}" })
    await link.click()
    await page.waitForSelector("svg.metrics-chart path.series-line")

    // one line with a point per interval; the step is visible as two levels of y
    const d = (await page.getAttribute("svg.metrics-chart path.series-line", "d")) ?? ""
    const ys = [...d.matchAll(/[ML][\d.]+,([\d.]+)/g)].map((m) => Number(m[1]))
    expect(ys.length).toBe(30)
    expect(new Set(ys).size).toBe(2)
    expect(ys[0]).toBeGreaterThan(ys[29]) // higher rate = smaller y

    // the deploy is a marker inside the window; the 3-hour-old change is not
    const markers = page.locator("svg.metrics-chart g.change-marker")
    expect(await markers.count()).toBe(1)
    const title = await markers.locator("title").textContent()
    expect(title).toContain("deploy: Deploy shop v2 <b>bold</b> (shop)")
    const x = Number(await markers.locator("line").getAttribute("x1"))
    const pathXs = [...d.matchAll(/[ML]([\d.]+),/g)].map((m) => Number(m[1]))
    expect(x).toBeGreaterThan(pathXs[0])
    expect(x).toBeLessThan(pathXs[29])
    // hovering the marker's hit area lands on the marker (its <title> is the tooltip)
    const hit = markers.locator("rect.hit")
    await hit.hover()
    const box = await hit.boundingBox()
    if (!box) throw new Error("the marker has no box")
    const under = await page.evaluate(
      ([px, py]) =>
        document.elementFromPoint(px, py)?.closest("g.change-marker")?.getAttribute("data-change-id"),
      [box.x + box.width / 2, box.y + box.height / 2],
    )
    expect(under).toBe("1")
    expect(await page.locator("svg.metrics-chart b").count()).toBe(0) // escaped, not markup

    // pin, then the home widget shows its sparkline
    await page.click('#selected-series button:has-text("Pin")')
    await page.waitForSelector('#selected-series button:has-text("Unpin")')
    await page.goto(`${base}/`)
    await page.waitForSelector("#widget-metrics-pins svg.sparkline path")
    expect(await page.locator("#widget-metrics-pins code").textContent()).toBe("shop.orders{env:prod}")
    expect(externalRequests(requests)).toEqual([])
  }, 30_000)

  test("two selected series with tags (commas in their keys) chart as two, through search, pin and remove", async () => {
    const count = "shop.checkout.count{env:prod,region:eu}"
    const time = "shop.checkout.time{env:prod,region:eu}"
    const page = await browser.newPage()
    const selected = () => page.locator("#selected-series code").allTextContents()
    const legend = () => page.locator(".chart-legend li").allTextContents()
    const expectBoth = async () => {
      expect(await selected()).toEqual([count, time])
      const items = await legend()
      expect(items.length).toBe(4) // the counter's rate and the timer's p50/p90/p99
      expect(items.filter((l) => l.includes("no data"))).toEqual([])
      for (const d of await page
        .locator("svg.metrics-chart path.series-line")
        .evaluateAll((ps) => ps.map((p) => p.getAttribute("d") ?? "")))
        expect(d).toMatch(/^M[\d.]+,[\d.]+( L[\d.]+,[\d.]+){29,}$/) // 30 intervals (and the flush job's)
    }
    await page.goto(`${base}/ui/metrics?q=shop.checkout`)
    await page.locator("#series-list a", { hasText: count }).click()
    await page.waitForSelector("#selected-series")
    expect(await selected()).toEqual([count])
    await page.locator("#series-list a", { hasText: time }).click()
    await page.waitForFunction(() => document.querySelectorAll("#selected-series li").length > 1)
    expect(new URL(page.url()).searchParams.getAll("s")).toEqual([`${count}|c`, `${time}|ms`])
    await expectBoth()

    // typing swaps the page in with htmx: the hidden inputs carry both keys whole
    await page.locator('input[name="q"]').fill("")
    await page.locator('input[name="q"]').pressSequentially("shop.ch")
    await page.waitForURL(/q=shop\.ch&/)
    await expectBoth()

    // pinning comes back to the same two series; so does unpinning
    await page.click('#selected-series li:first-child button:has-text("Pin")')
    await page.waitForSelector('#selected-series li:first-child button:has-text("Unpin")')
    await expectBoth()
    await page.click('#selected-series li:first-child button:has-text("Unpin")')
    await page.waitForSelector('#selected-series li:first-child button:has-text("Pin")')
    await expectBoth()

    // removing one keeps the other whole
    await page
      .locator("#selected-series li", { hasText: count })
      .getByRole("link", { name: "remove" })
      .click()
    await page.waitForFunction(() => document.querySelectorAll("#selected-series li").length === 1)
    expect(await selected()).toEqual([time])
    expect((await legend()).filter((l) => l.includes("no data"))).toEqual([])
  }, 30_000)

  test("the time axis and the change markers are in the viewer's local time, named, also after a swap", async () => {
    // New York is UTC−5 in November: the window 09:00–10:00 UTC reads 04:00–05:00
    const context = await browser.newContext({ timezoneId: "America/New_York" })
    const page = await context.newPage()
    // the x-axis labels: every text of the chart that ends in a time of day
    const ticks = async () =>
      (await page.locator("svg.metrics-chart text").allTextContents()).filter((t) => /\d\d:\d\d$/.test(t))
    await page.goto(`${base}/ui/metrics?w=1h&s=${encodeURIComponent("shop.orders{env:prod}|c")}`)
    await page.waitForSelector("svg.metrics-chart path.series-line")
    await page.waitForFunction(
      () => document.querySelector("svg.metrics-chart text.x-zone")?.textContent !== "time (UTC)",
    )
    expect(await ticks()).toEqual(["04:00", "04:15", "04:30", "04:45", "05:00"])
    expect(await page.locator("svg.metrics-chart text.x-zone").textContent()).toBe("time (America/New_York)")
    // the deploy 15 minutes before NOW (09:45 UTC), as the change pages show it
    expect(await page.locator("svg.metrics-chart g.change-marker title").textContent()).toStartWith(
      "2026-11-22 04:45:00 deploy: Deploy shop v2",
    )

    // changing the window swaps the page in with htmx: the new axis is local too, the day change dated
    await page.selectOption('select[name="w"]', "6h")
    await page.waitForURL(/w=6h/)
    await page.waitForFunction(
      () => document.querySelector("svg.metrics-chart text.x-tick")?.textContent === "23:00",
    )
    expect(await ticks()).toEqual(["23:00", "11-22 00:30", "02:00", "03:30", "05:00"])
    expect(await page.locator("svg.metrics-chart text.x-zone").textContent()).toBe("time (America/New_York)")
    await context.close()
  }, 30_000)

  test("legend items that wrap keep their bullets inside their own box, clear of the item before", async () => {
    const page = await browser.newPage({ viewport: { width: 480, height: 900 } })
    const keys = [
      "shop.orders{env:prod}|c",
      "shop.checkout.count{env:prod,region:eu}|c",
      "shop.checkout.time{env:prod,region:eu}|ms",
    ]
    await page.goto(`${base}/ui/metrics?w=1h&${keys.map((k) => `s=${encodeURIComponent(k)}`).join("&")}`)
    await page.waitForSelector("svg.metrics-chart path.series-line")
    const items = await page.locator(".chart-legend li").evaluateAll((lis) =>
      lis.map((li) => {
        const style = getComputedStyle(li)
        const r = li.getBoundingClientRect()
        const swatch = li.querySelector(".swatch")?.getBoundingClientRect()
        return {
          text: li.textContent ?? "",
          // a list marker is painted outside the item's box (over the previous item's text)
          outsideMarker:
            style.display === "list-item" &&
            style.listStyleType !== "none" &&
            style.listStylePosition === "outside",
          box: { left: r.left, right: r.right, top: r.top, bottom: r.bottom },
          swatch: swatch && {
            left: swatch.left,
            right: swatch.right,
            top: swatch.top,
            bottom: swatch.bottom,
          },
        }
      }),
    )
    expect(items.length).toBe(5)
    expect(items.filter((i) => i.outsideMarker).map((i) => i.text)).toEqual([])
    const legend = await page.locator(".chart-legend").boundingBox()
    if (!legend) throw new Error("no legend box")
    const rows = new Set(items.map((i) => Math.round(i.box.top)))
    expect(rows.size).toBeGreaterThan(1) // the items do wrap at this width
    for (const [n, item] of items.entries()) {
      // the bullet is the item's own swatch, inside its box
      expect(item.swatch).toBeDefined()
      if (!item.swatch) continue
      expect(item.swatch.left).toBeGreaterThanOrEqual(item.box.left)
      expect(item.swatch.right).toBeLessThanOrEqual(item.box.right)
      // inside the legend: a wrapped item starts at the legend's left edge, none overflows its right
      expect(item.box.left).toBeGreaterThanOrEqual(legend.x - 0.5)
      expect(item.box.right).toBeLessThanOrEqual(legend.x + legend.width + 0.5)
      const before = items[n - 1]
      if (before && Math.round(before.box.top) === Math.round(item.box.top))
        expect(item.box.left - before.box.right).toBeGreaterThanOrEqual(8) // clear of the text before
      else expect(item.box.left).toBeCloseTo(legend.x, 0)
    }
    await page.close()
  }, 30_000)
})
