import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { createTestApp, type TestApp } from "../../test/support"
import metrics from "./plugin"
import { createReceiver } from "./receiver"
import { createSeriesStore, OVERFLOW_NAME } from "./series"
import { readExposition, until } from "./testing"

describe("receiver over real UDP", () => {
  let app: TestApp
  beforeAll(async () => {
    app = await createTestApp({
      plugins: [metrics],
      env: { LOGBOOK_STATSD_LISTEN: "127.0.0.1:0", LOGBOOK_STATSD_MAX_SERIES: "6" },
    })
  })
  afterAll(() => app.close())

  test("lines of every type are aggregated per interval and re-exported on /metrics", async () => {
    const svc = app.host.services.get("metrics")
    if (!svc?.udpPort) throw new Error("the receiver did not start")
    const sender = await Bun.udpSocket({})
    const datagram = [
      "shop.checkout.count:3|c|@0.1|#env:prod",
      "shop.checkout.count:1.5:0.5|c|#env:prod", // DogStatsD 1.1: two values, 2 in all
      "queue.size:10|g",
      "queue.size:+5|g",
      "queue.size:-3|g",
      "api.latency:100|ms|#route:home",
      "api.latency:200|ms|#route:home|c:abc|T1656581400",
      "api.latency:300|h|#route:home",
      "visitors:alice|s",
      "visitors:bob|s",
      "visitors:alice|s",
      "_sc|redis|0|m:ok",
      "this is not statsd",
    ].join("\n")
    sender.send(datagram, svc.udpPort, "127.0.0.1")
    sender.send("shop.checkout.count:5|c|#env:prod", svc.udpPort, "127.0.0.1")
    await until(() => svc.receiver.counts.lines >= 14, "14 received lines")
    sender.close()
    expect(svc.receiver.counts).toEqual({ lines: 14, malformed: 1, skipped: 1, datagrams: 2 })

    app.clock.advance(10_000)
    svc.tick(app.clock.now())
    const counter = svc.store.get("shop.checkout.count{env:prod}|c")
    expect(counter?.last).toEqual({ t: app.clock.now(), v: 3.7 }) // (30 + 2 + 5) / 10 s
    expect(svc.store.get("queue.size|g")?.last?.v).toBe(12)
    const timer = svc.store.get("api.latency{route:home}|ms")?.last
    expect(timer?.v).toBe(3)
    // p50 of 100, 200, 300 within 1 % (log buckets); the top is the exact max
    expect(Math.abs((timer?.p50 ?? 0) / 200 - 1)).toBeLessThanOrEqual(0.01)
    expect([timer?.p90, timer?.p99]).toEqual([300, 300])
    expect(svc.store.get("visitors|s")?.last?.v).toBe(2)

    const text = await (await app.request("/metrics")).text()
    const samples = readExposition(text)
    const value = (name: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels))?.value
    expect(value("shop_checkout_count", { env: "prod" })).toBe(37)
    expect(value("queue_size")).toBe(12)
    expect(value("visitors")).toBe(2)
    expect(value("api_latency_count", { route: "home" })).toBe(3)
    expect(value("api_latency_sum", { route: "home" })).toBe(0.6)
    expect(
      Math.abs((value("api_latency", { route: "home", quantile: "0.5" }) ?? 0) / 0.2 - 1),
    ).toBeLessThanOrEqual(0.01)
    expect(text).toContain("# TYPE shop_checkout_count counter")
    expect(text).toContain("# TYPE api_latency summary")
    expect(value("logbook_metrics_plugin_events", { event: "received_malformed" })).toBe(1)

    // the next interval: counters drop to 0, gauges keep their value
    app.clock.advance(10_000)
    svc.tick(app.clock.now())
    expect(svc.store.get("shop.checkout.count{env:prod}|c")?.last?.v).toBe(0)
    expect(svc.store.get("queue.size|g")?.last?.v).toBe(12)
  })

  test("cardinality is bounded: new series past the limit fold into _overflow and are counted", async () => {
    const svc = app.host.services.get("metrics")
    if (!svc?.udpPort) throw new Error("the receiver did not start")
    const before = svc.store.stats()
    const sender = await Bun.udpSocket({})
    const lines = Array.from({ length: 10 }, (_, i) => `burst.${i}:1|c`).join("\n")
    sender.send(lines, svc.udpPort, "127.0.0.1")
    await until(() => svc.receiver.counts.lines >= 24, "the burst")
    sender.close()
    const after = svc.store.stats()
    expect(after.series.received).toBe(6)
    expect(after.overflowed - before.overflowed).toBe(10 - (6 - before.series.received))
    app.clock.advance(10_000)
    svc.tick(app.clock.now())
    const overflow = svc.store.get(`${OVERFLOW_NAME}{origin:received}|c`)
    expect((overflow?.last?.v ?? 0) * 10).toBe(after.overflowed - before.overflowed)
  })
})

describe("series store and receiver (unit)", () => {
  test("idle series are dropped after the retention window; memory stays bounded per series", () => {
    const store = createSeriesStore({ maxSeries: 100, flushSeconds: 10, retentionMinutes: 1 })
    const r = createReceiver(store, 100)
    r.ingest("a:1|c\nb:5|ms")
    let now = 0
    for (let i = 0; i < 20; i++) {
      now += 10_000
      if (i < 3) r.ingest("a:1|c")
      store.flush(now)
      r.forget()
    }
    expect(store.get("a|c")).toBeUndefined()
    expect(store.get("b|ms")).toBeUndefined()
    for (let i = 0; i < 30; i++) {
      r.ingest(`c:${i}|g`)
      now += 10_000
      store.flush(now)
      r.forget()
    }
    // one point per interval; the ring holds one minute of them
    const gauge = store.get("c|g")
    if (!gauge) throw new Error("gauge c is gone")
    expect(gauge.ring.length).toBe(6)
    expect(store.points(gauge, 0, now).map((p) => p.v)).toEqual([24, 25, 26, 27, 28, 29])
  })

  test("timer percentiles from a bounded log-bucket histogram (within 1 %), merged per minute", () => {
    const store = createSeriesStore({ maxSeries: 10, flushSeconds: 1, retentionMinutes: 1 })
    const r = createReceiver(store, 10)
    for (let i = 1; i <= 5000; i++) r.ingest(`t:${i}|ms`)
    store.flush(1000)
    const s = store.get("t|ms")
    const p = s?.last
    expect(p?.v).toBe(5000)
    expect(Math.abs((p?.p50 ?? 0) / 2501 - 1)).toBeLessThanOrEqual(0.01)
    expect(Math.abs((p?.p99 ?? 0) / 4951 - 1)).toBeLessThanOrEqual(0.01)
    expect(s?.hist).toBeUndefined() // the interval's histogram went into its minute
    expect(s?.minutes.map((m) => [m.end, m.hist.count])).toEqual([[60_000, 5000]])
  })
})
