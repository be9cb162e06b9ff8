import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { createTestApp, type TestApp } from "../../test/support"
import { deserialise, quantile } from "./histogram"
import plugin from "./plugin"

describe("persistence at 1-minute resolution (LOGBOOK_METRICS_PERSIST=1)", () => {
  let app: TestApp
  beforeAll(async () => {
    app = await createTestApp({ plugins: [plugin], env: { LOGBOOK_METRICS_PERSIST: "1" } })
  })
  afterAll(() => app.close())

  test("a minute of 10-second points is rolled up per series and stored", async () => {
    const svc = app.host.services.get("metrics")
    if (!svc) throw new Error("no metrics service")
    const minuteStart = Math.floor(app.clock.now() / 60_000) * 60_000 + 60_000
    app.clock.set(minuteStart)
    for (let i = 0; i < 6; i++) {
      svc.receiver.ingest(`jobs.done:${(i + 1) * 10}|c\njobs.time:${i < 3 ? 100 : 300}|ms\njobs.queue:${i}|g`)
      app.clock.advance(10_000)
      if (i < 5) svc.tick(app.clock.now())
    }
    // the 6th interval closes exactly at the next minute: it belongs to the next minute's rollup
    await svc.persist(app.clock.now())
    const rows = await app.db.all<{ series: string; t: number; v: number; p50: number | null }>(
      "SELECT series, t, v, p50 FROM metrics_points WHERE series LIKE 'jobs.%' ORDER BY series",
    )
    expect(
      rows.map((r) => ({ ...r, t: Number(r.t), v: Number(r.v), p50: r.p50 === null ? null : Number(r.p50) })),
    ).toEqual([
      { series: "jobs.done|c", t: minuteStart + 60_000, v: 3, p50: null }, // (1+2+3+4+5)/5 per s
      { series: "jobs.queue|g", t: minuteStart + 60_000, v: 4, p50: null },
      // the minute's percentiles of every value (100, 100, 100, 300, 300), not a mean of interval ones (180)
      { series: "jobs.time|ms", t: minuteStart + 60_000, v: 5, p50: expect.closeTo(100, 0) }, // ±1 %
    ])
    const timer = await app.db.get<{ p90: number; p99: number; hist: string }>(
      "SELECT p90, p99, hist FROM metrics_points WHERE series = 'jobs.time|ms'",
    )
    expect([Number(timer?.p90), Number(timer?.p99)]).toEqual([300, 300])
    // the stored histogram merges: it reads back as the minute's 5 values
    const h = deserialise(timer?.hist ?? "")
    expect(h.count).toBe(5)
    expect([h.min, h.max]).toEqual([100, 300])
    expect(quantile(h, 0.5)).toBeCloseTo(100, 0)
  })

  test("charts and search read stored points when memory does not hold them", async () => {
    const t = app.clock.now() - 30 * 60_000
    await app.db.run(
      "INSERT INTO metrics_points (series, t, v, p50, p90, p99) VALUES (?, ?, ?, NULL, NULL, NULL)",
      ["before.restart|g", t, 42],
    )
    await app.db.run(
      "INSERT INTO metrics_points (series, t, v, p50, p90, p99) VALUES (?, ?, ?, NULL, NULL, NULL)",
      ["logbook.before.restart|g", t, 7],
    )
    const search = await (await app.request("/ui/metrics?q=before.rest")).text()
    // grouped by name when memory no longer knows their origin: the push prefix is Logbook's own
    expect(search).toMatch(
      /<ul class="series-group" data-origin="received"><li><a [^>]*><code>before\.restart<\/code>/,
    )
    expect(search).toMatch(
      /<ul class="series-group" data-origin="own"><li><a [^>]*><code>logbook\.before\.restart<\/code>/,
    )
    const page = await (
      await app.request(`/ui/metrics?w=1h&s=${encodeURIComponent("before.restart|g")}`)
    ).text()
    expect(page).toMatch(/<path class="series-line"[^>]* d="M[\d.]+,[\d.]+"/)
    expect(page).toContain("before.restart — last 42")
  })
})
