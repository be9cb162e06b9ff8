import { describe, expect, test } from "bun:test"
import { Counter, Gauge, Histogram, Registry } from "prom-client"
import { boundCounter, boundGauge, boundHistogram } from "./prom-bound"

const BUCKETS = [0.001, 0.01, 0.1, 1]
const VALUES = [0.0005, 0.001, 0.002, 0.05, 0.5, 3, 0.05]

/** The same observations through prom-client's own metrics and through bound children. */
async function both(format: "text" | "openmetrics") {
  const own = new Registry()
  const bound = new Registry()
  if (format === "openmetrics") {
    own.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as never)
    bound.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as never)
  }
  const labelNames = ["route", "status"]
  const spec = { help: "h", labelNames, maxSeries: 100 }
  const h = new Histogram({ name: "x_seconds", help: "h", labelNames, buckets: BUCKETS, registers: [own] })
  const c = new Counter({ name: "x_total", help: "h", labelNames, registers: [own] })
  const g = new Gauge({ name: "x_depth", help: "h", labelNames, registers: [own] })
  const bh = boundHistogram(bound, { ...spec, name: "x_seconds", buckets: BUCKETS })
  const bc = boundCounter(bound, { ...spec, name: "x_total" })
  const bg = boundGauge(bound, { ...spec, name: "x_depth" })
  for (const labels of [
    { route: "/a", status: 200 },
    { route: '/b"\\\n', status: 500 },
  ]) {
    const [oh, oc, og] = [bh.bind(labels), bc.bind(labels), bg.bind(labels)]
    for (const v of VALUES) {
      h.observe(labels, v)
      oh(v)
      c.inc(labels, v)
      oc(v)
      g.set(labels, v)
      og(v)
    }
  }
  return { own: await own.metrics(), bound: await bound.metrics() }
}

describe("bound Prometheus families", () => {
  test("serialise exactly like prom-client's Histogram, Counter and Gauge (text 0.0.4)", async () => {
    const { own, bound } = await both("text")
    expect(bound).toBe(own)
    expect(bound).toContain('x_seconds_bucket{le="0.001",route="/a",status="200"} 2')
    expect(bound).toContain('x_seconds_bucket{le="+Inf",route="/a",status="200"} 7')
  })

  test("and in OpenMetrics", async () => {
    const { own, bound } = await both("openmetrics")
    expect(bound).toBe(own)
  })

  test("the same label values bind the same child; past the cap new label sets share _overflow, counted per measurement", async () => {
    const registry = new Registry()
    const overflowed: string[] = []
    const f = boundCounter(registry, {
      name: "y_total",
      help: "h",
      labelNames: ["k"],
      maxSeries: 2,
      onOverflow: (m) => overflowed.push(m),
    })
    f.bind({ k: "a" })(1)
    f.bind({ k: "a" })(2)
    f.bind({ k: "b" })(1)
    const c = f.bind({ k: "c" })
    c(1)
    c(1)
    f.bind({ k: "d" })(5)
    const text = await registry.metrics()
    expect(text).toContain('y_total{k="a"} 3')
    expect(text).toContain('y_total{k="b"} 1')
    expect(text).toContain('y_total{k="_overflow"} 7')
    expect(text).not.toContain('k="c"')
    expect(overflowed).toEqual(["y_total", "y_total", "y_total"])
  })

  test("names and label names are validated; a taken name is refused", () => {
    const registry = new Registry()
    const spec = { help: "h", labelNames: [], maxSeries: 1 }
    expect(() => boundGauge(registry, { ...spec, name: "1bad" })).toThrow()
    expect(() => boundGauge(registry, { ...spec, name: "ok", labelNames: ["__x"] })).toThrow()
    boundGauge(registry, { ...spec, name: "taken" })
    expect(() => boundCounter(registry, { ...spec, name: "taken" })).toThrow()
  })
})
