/**
 * A mergeable timer histogram with logarithmic buckets (DDSketch's index mapping, sparse store): a value
 * v > 0 falls in bucket ⌈log_γ v⌉ with γ = (1 + α) / (1 − α), and a bucket stands for 2γⁱ / (γ + 1), so
 * every quantile read back is within α = 1 % of a value that was recorded (relative error). Unlike a
 * sample reservoir, two histograms merge exactly (bucket counts add), so 10-second intervals roll up into
 * correct 1-minute percentiles, and stored minutes into longer ones. At most MAX_BINS buckets are kept:
 * past that the lowest two merge (only the lowest quantiles lose accuracy), so memory stays bounded.
 * Counts may be fractional (statsd sample rates weigh a value 1/rate).
 */
const ALPHA = 0.01
const GAMMA = (1 + ALPHA) / (1 - ALPHA)
const LN_GAMMA = Math.log(GAMMA)
/** Values at or below this (ms) count in the zero bucket. */
const MIN_VALUE = 1e-6
export const MAX_BINS = 512

export interface Histogram {
  bins: Map<number, number>
  zero: number
  count: number
  min: number
  max: number
}

export const createHistogram = (): Histogram => ({
  bins: new Map(),
  zero: 0,
  count: 0,
  min: Number.POSITIVE_INFINITY,
  max: Number.NEGATIVE_INFINITY,
})

const bucketIndex = (v: number): number => Math.ceil(Math.log(v) / LN_GAMMA)
const bucketValue = (i: number): number => (2 * GAMMA ** i) / (GAMMA + 1)

function collapse(h: Histogram): void {
  while (h.bins.size > MAX_BINS) {
    let lowest = Number.POSITIVE_INFINITY
    let next = Number.POSITIVE_INFINITY
    for (const i of h.bins.keys())
      if (i < lowest) {
        next = lowest
        lowest = i
      } else if (i < next) next = i
    h.bins.set(next, (h.bins.get(next) as number) + (h.bins.get(lowest) as number))
    h.bins.delete(lowest)
  }
}

/** Records `value` (≥ 0) with `weight` (1 / sample rate). */
export function record(h: Histogram, value: number, weight = 1): void {
  h.count += weight
  if (value < h.min) h.min = value
  if (value > h.max) h.max = value
  if (value <= MIN_VALUE) {
    h.zero += weight
    return
  }
  const i = bucketIndex(value)
  const c = h.bins.get(i)
  h.bins.set(i, c === undefined ? weight : c + weight)
  if (c === undefined && h.bins.size > MAX_BINS) collapse(h)
}

/** Adds `from` into `into`. */
export function merge(into: Histogram, from: Histogram): void {
  into.count += from.count
  into.zero += from.zero
  if (from.min < into.min) into.min = from.min
  if (from.max > into.max) into.max = from.max
  for (const [i, c] of from.bins) into.bins.set(i, (into.bins.get(i) ?? 0) + c)
  collapse(into)
}

/**
 * The nearest-rank quantile: the smallest recorded value v with at least ⌈q·n⌉ of the n recorded values
 * (weights) at or below it — p50 of [80, 120] is 80, p0 the min, p100 the max — read as the value of v's
 * bucket (within 1 %), clamped to the exact min and max; undefined when empty.
 */
export function quantile(h: Histogram, q: number): number | undefined {
  if (h.count <= 0) return undefined
  if (q <= 0) return h.min
  if (q >= 1) return h.max
  // ⌈q·n⌉, minus a hair so that q·n one rounding error above an integer k still means rank k (0.07·100)
  const rank = q * h.count * (1 - 1e-12)
  let acc = h.zero
  if (acc >= rank) return Math.max(h.min, 0)
  const keys = [...h.bins.keys()].sort((a, b) => a - b)
  for (const i of keys) {
    acc += h.bins.get(i) as number
    if (acc >= rank) return Math.min(h.max, Math.max(h.min, bucketValue(i)))
  }
  return h.max
}

/** Compact text for storage: `min max zero i:c,i:c…` (counts to 6 significant digits). */
export function serialise(h: Histogram): string {
  const bins = [...h.bins].sort((a, b) => a[0] - b[0])
  const n = (x: number) => String(Number(x.toPrecision(6)))
  return `${n(h.min)} ${n(h.max)} ${n(h.zero)} ${bins.map(([i, c]) => `${i}:${n(c)}`).join(",")}`
}

/** The inverse of `serialise`; throws on text it did not write. */
export function deserialise(text: string): Histogram {
  const [min, max, zero, bins = ""] = text.split(" ")
  const h = createHistogram()
  h.min = Number(min)
  h.max = Number(max)
  h.zero = Number(zero)
  h.count = h.zero
  if (bins !== "")
    for (const pair of bins.split(",")) {
      const [i, c] = pair.split(":").map(Number) as [number, number]
      if (!Number.isInteger(i) || !(c >= 0)) throw new Error(`bad histogram bin ${pair}`)
      h.bins.set(i, c)
      h.count += c
    }
  if (Number.isNaN(h.min) || Number.isNaN(h.max) || Number.isNaN(h.zero)) throw new Error("bad histogram")
  return h
}
