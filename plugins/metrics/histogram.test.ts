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

/**
 * Nearest rank, the reference: the smallest value with at least ⌈q·n⌉ of the n values at or below it (the
 * first value for q = 0). The rank is computed in integers (q to 6 decimals), free of q·n rounding.
 */
const exact = (values: number[], q: number) => {
  const s = [...values].sort((a, b) => a - b)
  const rank = Math.max(1, Math.ceil((Math.round(q * 1e6) * s.length) / 1e6))
  return s[rank - 1] as number
}

const within1pc = (actual: number | undefined, expected: number) =>
  expect(Math.abs((actual as number) / expected - 1)).toBeLessThanOrEqual(0.0101)

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
    for (const q of [0.01, 0.5, 0.9, 0.99, 0.999]) within1pc(quantile(h, q), exact(values, q))
    expect(quantile(h, 1)).toBe(Math.max(...values))
    expect(quantile(h, 0)).toBe(Math.min(...values))
    expect(quantile(createHistogram(), 0.5)).toBeUndefined()
  })

  test("small samples: the nearest rank, not the value above it", () => {
    within1pc(quantile(of([80, 120]), 0.5), 80)
    within1pc(quantile(of([5, 500]), 0.5), 5)
    within1pc(quantile(of([10, 20, 30, 40]), 0.5), 20)
    within1pc(quantile(of([10, 20, 30, 40]), 0.75), 30)
    within1pc(quantile(of([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]), 0.9), 90)
    expect(quantile(of([5, 500]), 0)).toBe(5)
    expect(quantile(of([5, 500]), 1)).toBe(500)
    expect(quantile(of([42]), 0.5)).toBe(42)
    // q·n a rounding error off an integer: 0.07·100 = 7.000000000000001, 0.57·100 = 56.99999999999999
    const hundred = Array.from({ length: 100 }, (_, i) => 1.05 ** i)
    for (const q of [0.07, 0.29, 0.57]) within1pc(quantile(of(hundred), q), exact(hundred, q))
    // every q·n on and between integers, for samples whose values lie far apart (≥ 5 % between neighbours)
    const next = lcg(11)
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + Math.floor(next() * 12)
      let v = 0.5 + next() * 10
      const sample = Array.from({ length: n }, () => (v *= 1.05 + next() * 3))
      const h = of(sample)
      for (const q of [0.01, 0.1, 0.2, 0.25, 0.3, 1 / 3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 0.95, 0.99])
        within1pc(quantile(h, q), exact(sample, q))
    }
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
    // the 10th of 20 is the last of the ten weighed ones
    expect(Math.abs((quantile(h, 0.5) as number) / 10 - 1)).toBeLessThanOrEqual(0.01)
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
