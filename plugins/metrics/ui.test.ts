/**
 * The metrics page over HTTP: the series list (received series before Logbook's own, a cut list says
 * so) and the chart's SVG as the server renders it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { createTestApp, type TestApp } from "../../test/support"
import metrics from "./plugin"

/** The label (key without `|type`) of every listed series of an origin, in page order. */
const listed = (page: string, origin: "received" | "own"): string[] => {
  const ul =
    new RegExp(`<ul class="series-group" data-origin="${origin}">(.*?)</ul>`, "s").exec(page)?.[1] ?? ""
  return [...ul.matchAll(/<code>([^<]*)<\/code>/g)].map((m) => m[1])
}
const cutNote = (page: string, origin: "received" | "own") =>
  new RegExp(`<p class="small muted list-cut" data-origin="${origin}">([^<]*)</p>`).exec(page)?.[1]

describe("metrics page over HTTP", () => {
  let app: TestApp
  beforeAll(async () => {
    app = await createTestApp({ plugins: [metrics] })
  }, 30_000)
  afterAll(() => app.close(), 30_000)

  test("the default list shows received series before Logbook's own, and says when a list is cut", async () => {
    const svc = app.host.services.get("metrics")
    if (!svc) throw new Error("no metrics service")
    // 60 of Logbook's own series sort before the application's `shop.*` (the old list: the first 50 keys)
    for (let i = 0; i < 60; i++) svc.store.add(svc.store.series("own", `logbook.fake.${i}`, "g", []), i)
    svc.receiver.ingest("shop.checkout.count:3|c|#env:prod\nshop.checkout.time:120|ms")
    app.clock.advance(10_000)
    svc.tick(app.clock.now())

    const page = await (await app.request("/ui/metrics")).text()
    expect(listed(page, "received")).toEqual(["shop.checkout.count{env:prod}", "shop.checkout.time"])
    expect(cutNote(page, "received")).toBeUndefined()
    const own = listed(page, "own")
    expect(own.length).toBe(50)
    // 60 plus the series the page's own request and statements add while it renders
    const shown = /^showing 50 of (\d+) — type to narrow$/.exec(cutNote(page, "own") ?? "")
    expect(Number(shown?.[1])).toBeGreaterThanOrEqual(60)
    expect(Number(shown?.[1])).toBeLessThanOrEqual(
      [...svc.store.all()].filter((s) => s.origin === "own").length,
    )
    // received series first on the page
    expect(page.indexOf("shop.checkout.count")).toBeLessThan(page.indexOf("logbook.fake.0"))

    // many received series: cut too, and typing narrows to a whole list
    for (let i = 0; i < 120; i++) svc.receiver.ingest(`app.queue.${String(i).padStart(3, "0")}:${i}|g`)
    app.clock.advance(10_000)
    svc.tick(app.clock.now())
    const many = await (await app.request("/ui/metrics")).text()
    expect(listed(many, "received").length).toBe(50)
    expect(cutNote(many, "received")).toBe("showing 50 of 122 — type to narrow")
    const narrowed = await (await app.request("/ui/metrics?q=app.queue.11")).text()
    expect(listed(narrowed, "received")).toEqual([
      "app.queue.110",
      "app.queue.111",
      "app.queue.112",
      "app.queue.113",
      "app.queue.114",
      "app.queue.115",
      "app.queue.116",
      "app.queue.117",
      "app.queue.118",
      "app.queue.119",
    ])
    expect(cutNote(narrowed, "received")).toBeUndefined()
    expect(narrowed).toContain("No own series match.")
  })

  test("without the page's script the time axis is UTC and says so; its script is served", async () => {
    const page = await (
      await app.request(`/ui/metrics?w=24h&s=${encodeURIComponent("shop.checkout.time|ms")}`)
    ).text()
    // the test clock stands at 2026-11-22 10:00:20 UTC: 24 hours in ticks of 6, the day change dated
    const ticks = [...page.matchAll(/<text class="x-tick" data-t="(\d+)"[^>]*>([^<]*)<\/text>/g)]
    expect(ticks.map((m) => m[2])).toEqual(["10:00", "16:00", "22:00", "11-22 04:00", "10:00"])
    expect(Number(ticks[4][1])).toBe(app.clock.now())
    expect(page).toContain(">time (UTC)</text>")
    expect(page).toContain('<script src="/ui/metrics/assets/metrics.js" defer></script>')
    const js = await app.request("/ui/metrics/assets/metrics.js")
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8")
    expect(await js.text()).toContain("x-tick")
    // an htmx swap of the page does not carry the script again
    const partial = await (
      await app.request("/ui/metrics?w=24h", {
        headers: { "hx-request": "true", "hx-request-type": "partial" },
      })
    ).text()
    expect(partial.startsWith('<div id="metrics-page">')).toBe(true)
  })

  test("a counter and a timer charted together get one y axis each, titled with its unit", async () => {
    const svc = app.host.services.get("metrics")
    if (!svc) throw new Error("no metrics service")
    // a counter at 0.5/s and a timer at 200 ms: on one shared scale the counter was a flat line at 0
    for (let i = 0; i < 6; i++) {
      svc.receiver.ingest("pay.requests:5|c\npay.latency:200|ms")
      app.clock.advance(10_000)
      svc.tick(app.clock.now())
    }
    const chartOf = async (...keys: string[]) => {
      const page = await (
        await app.request(`/ui/metrics?w=15m&${keys.map((k) => `s=${encodeURIComponent(k)}`).join("&")}`)
      ).text()
      const svg = /<svg class="metrics-chart".*?<\/svg>/s.exec(page)?.[0] ?? ""
      const axes = [
        ...svg.matchAll(/<g class="y-axis" data-unit="([^"]*)" data-side="([^"]*)">(.*?)<\/g>/gs),
      ].map((m) => ({
        unit: m[1],
        side: m[2],
        ticks: [...m[3].matchAll(/<text x[^>]*>([^<]*)<\/text>/g)].map((t) => t[1]),
        title: /<text class="y-title"[^>]*>([^<]*)<\/text>/.exec(m[3])?.[1],
      }))
      // the top-most point of each line, as a fraction of the plot's height (1 = the top)
      const rect = /<rect x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"/.exec(svg)
      const [top, height] = [Number(rect?.[1]), Number(rect?.[2])]
      const heights = Object.fromEntries(
        [...svg.matchAll(/<path class="series-line" data-series="([^"]*)"[^>]* d="([^"]*)"/g)].map((m) => [
          m[1],
          1 - (Math.min(...[...m[2].matchAll(/,([\d.]+)/g)].map((y) => Number(y[1]))) - top) / height,
        ]),
      )
      const legend = [
        ...page.matchAll(/<li><span class="swatch"[^>]*>■<\/span> <span>(.*?)<\/span><\/li>/g),
      ].map((m) => m[1].replace(/<[^>]*>/g, ""))
      return { axes, heights, legend }
    }

    const both = await chartOf("pay.requests|c", "pay.latency|ms")
    expect(both.axes).toEqual([
      { unit: "/s", side: "left", ticks: ["0.00", "0.20", "0.40", "0.60", "0.80"], title: "rate (/s)" },
      { unit: "ms", side: "right", ticks: ["0.00", "50", "100", "150", "200"], title: "duration (ms)" },
    ])
    expect(both.heights["pay.requests (/s)"]).toBeCloseTo(0.5 / 0.8, 2) // on its own axis, not flat at 0
    expect(both.heights["pay.latency p99 (ms)"]).toBeCloseTo(1, 2)
    expect(both.legend).toEqual([
      "pay.requests (/s) — last 0.50 · left: rate (/s)",
      "pay.latency p50 (ms) — last 200 · right: duration (ms)",
      "pay.latency p90 (ms) — last 200 · right: duration (ms)",
      "pay.latency p99 (ms) — last 200 · right: duration (ms)",
    ])

    // one unit: one axis, titled; the legend names no axis
    const one = await chartOf("pay.latency|ms")
    expect(one.axes.map((a) => [a.unit, a.side, a.title])).toEqual([["ms", "left", "duration (ms)"]])
    expect(one.legend[0]).toBe("pay.latency p50 (ms) — last 200")
  })
})
