import { describe, expect, test } from "bun:test"
import {
  createHistogram,
  deserialise,
  type Histogram,
  MAX_BINS,
  merge,
  quantile,
  record,
  serialise,
} from "./histogram"

/** A deterministic pseudo-random sequence (no Math.random in tests). */
function lcg(seed: number) {
  let s = seed
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31
    return s / 2 ** 31
  }
}

const exact = (values: number[], q: number) => {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number
}

const of = (values: number[]): Histogram => {
  const h = createHistogram()
  for (const v of values) record(h, v)
  return h
}

describe("log-bucket histogram", () => {
  const rnd = lcg(7)
  // latencies spread over four decades: 0.1 ms … 1 s
  const values = Array.from({ length: 5000 }, () => 0.1 * 10 ** (4 * rnd()))

  test("quantiles within 1 % of the exact nearest-rank value; min and max exact", () => {
    const h = of(values)
    for (const q of [0.01, 0.5, 0.9, 0.99, 0.999])
      expect(Math.abs((quantile(h, q) as number) / exact(values, q) - 1)).toBeLessThanOrEqual(0.0101)
    expect(quantile(h, 1)).toBe(Math.max(...values))
    expect(quantile(h, 0)).toBeGreaterThanOrEqual(Math.min(...values))
    expect(quantile(createHistogram(), 0.5)).toBeUndefined()
  })

  test("merging interval histograms equals recording everything; averaging interval p99s does not", () => {
    // a quiet interval with many fast requests and a busy one with a few slow ones
    const fast = Array.from({ length: 900 }, (_, i) => 1 + (i % 10) / 10)
    const slow = Array.from({ length: 100 }, (_, i) => 500 + i)
    const merged = of(fast)
    merge(merged, of(slow))
    const all = of([...fast, ...slow])
    for (const q of [0.5, 0.9, 0.99]) expect(quantile(merged, q)).toBe(quantile(all, q) as number)
    const p99 = quantile(merged, 0.99) as number
    expect(Math.abs(p99 / exact([...fast, ...slow], 0.99) - 1)).toBeLessThanOrEqual(0.0101)
    // what the 1-minute rollup used to store: count-weighted mean of the intervals' p99s (~ 60 ms, wrong)
    const weighted =
      ((quantile(of(fast), 0.99) as number) * 900 + (quantile(of(slow), 0.99) as number) * 100) / 1000
    expect(weighted).toBeLessThan(p99 / 5)
  })

  test("sample-rate weights count as that many values", () => {
    const h = createHistogram()
    record(h, 10, 10) // one value sent at @0.1
    for (let i = 0; i < 10; i++) record(h, 100)
    expect(h.count).toBe(20)
    expect(Math.abs((quantile(h, 0.25) as number) / 10 - 1)).toBeLessThanOrEqual(0.01)
    expect(quantile(h, 0.75)).toBe(100)
  })

  test("zero and sub-microsecond values; the number of buckets stays bounded", () => {
    const h = createHistogram()
    record(h, 0)
    record(h, 0)
    record(h, 5)
    expect(quantile(h, 0.5)).toBe(0)
    const wide = createHistogram()
    for (let e = -5; e < 12; e += 0.005) record(wide, 10 ** e)
    expect(wide.bins.size).toBeLessThanOrEqual(MAX_BINS)
    expect(quantile(wide, 1)).toBe(wide.max)
    expect(Math.abs((quantile(wide, 0.9) as number) / 10 ** (-5 + 17 * 0.9) - 1)).toBeLessThan(0.02)
  })

  test("serialise / deserialise round trip; stored minutes merge", () => {
    const h = of(values.slice(0, 1000))
    const back = deserialise(serialise(h))
    expect(back.count).toBeCloseTo(h.count, 6)
    for (const q of [0.5, 0.9, 0.99]) expect(quantile(back, q)).toBe(quantile(h, q) as number)
    const a = deserialise(serialise(of(values.slice(0, 2500))))
    merge(a, deserialise(serialise(of(values.slice(2500)))))
    expect(quantile(a, 0.99)).toBe(quantile(of(values), 0.99) as number)
    expect(() => deserialise("1 2 0 x:y")).toThrow()
  })
})
