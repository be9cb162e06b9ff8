/**
 * In-memory time series: measurements (received over UDP, or Logbook's own) are aggregated per flush
 * interval into one point per series, kept in a ring buffer per series for the retention window.
 * Cardinality is bounded per origin: a new series past `maxSeries` is folded into the `_overflow` series
 * of its type and counted. Timers go into a mergeable log-bucket histogram per interval (histogram.ts,
 * percentiles within 1 %), merged into one per minute for the 1-minute persistence. Everything allocated
 * per series is bounded (histogram buckets, set members, ring length), so memory stays flat under load.
 */
import { createHistogram, type Histogram, merge, quantile, record } from "./histogram"

export type SeriesType = "c" | "g" | "ms" | "s"
export type Origin = "own" | "received"

const MAX_SET_MEMBERS = 10_000
export const OVERFLOW_NAME = "_overflow"

export interface Point {
  /** Epoch ms of the end of the interval. */
  t: number
  /** Counter: rate per second; gauge: value; set: unique members; timer: count. */
  v: number
  p50?: number
  p90?: number
  p99?: number
}

export interface Series {
  readonly key: string
  readonly name: string
  readonly tags: ReadonlyArray<readonly [string, string]>
  readonly type: SeriesType
  readonly origin: Origin
  // current interval
  sum: number
  count: number
  gauge: number
  hasGauge: boolean
  /** Timers: the current interval's values. */
  hist: Histogram | undefined
  /** Timers: the intervals of the minute ending at `end` (and the one before), merged. */
  minutes: Array<{ end: number; hist: Histogram }>
  members: Set<string> | undefined
  touched: boolean
  lastSeen: number
  // since start, for the Prometheus re-export
  total: number
  totalCount: number
  last: Point | undefined
  // ring buffer
  ring: Point[]
  head: number
}

export interface SeriesStore {
  /** Finds or creates the series (folded into `_overflow` past the bound). `tags` as `k:v` list, any order. */
  series(origin: Origin, name: string, type: SeriesType, tags: readonly string[]): Series
  add(s: Series, value: number, rate?: number, relative?: boolean): void
  addMember(s: Series, member: string): void
  /** Closes the interval: one point per active series; drops series idle longer than the retention. */
  flush(nowMs: number): void
  all(): Iterable<Series>
  get(key: string): Series | undefined
  points(s: Series, fromMs: number, toMs: number): Point[]
  stats(): { series: Record<Origin, number>; overflowed: number }
}

/** The minute a point at `t` belongs to, by its end: [end − 60 s, end). */
export const minuteEnd = (t: number): number => Math.floor(t / 60_000) * 60_000 + 60_000

/** Merges an interval's histogram into its minute's; keeps that minute and the one before (persisted next). */
function addToMinute(s: Series, t: number, h: Histogram): void {
  const end = minuteEnd(t)
  let m = s.minutes.find((x) => x.end === end)
  if (m === undefined) {
    m = { end, hist: h }
    s.minutes = [...s.minutes.filter((x) => x.end === end - 60_000), m]
  } else merge(m.hist, h)
}

export function seriesKey(
  type: SeriesType,
  name: string,
  tags: ReadonlyArray<readonly [string, string]>,
): string {
  return `${name}${tags.length ? `{${tags.map(([k, v]) => (v === "" ? k : `${k}:${v}`)).join(",")}}` : ""}|${type}`
}

function splitTag(t: string): [string, string] {
  const i = t.indexOf(":")
  return i < 0 ? [t, ""] : [t.slice(0, i), t.slice(i + 1)]
}

export function createSeriesStore(opts: {
  maxSeries: number
  flushSeconds: number
  retentionMinutes: number
}): SeriesStore {
  const byKey = new Map<string, Series>()
  const counts: Record<Origin, number> = { own: 0, received: 0 }
  let overflowed = 0
  const ringSize = Math.max(1, Math.ceil((opts.retentionMinutes * 60) / opts.flushSeconds))
  const retentionMs = opts.retentionMinutes * 60_000

  const make = (
    origin: Origin,
    name: string,
    type: SeriesType,
    tags: ReadonlyArray<readonly [string, string]>,
    key: string,
  ): Series => ({
    key,
    name,
    tags,
    type,
    origin,
    sum: 0,
    count: 0,
    gauge: 0,
    hasGauge: false,
    hist: undefined,
    minutes: [],
    members: undefined,
    touched: false,
    lastSeen: 0,
    total: 0,
    totalCount: 0,
    last: undefined,
    ring: [],
    head: 0,
  })

  const store: SeriesStore = {
    series(origin, name, type, rawTags) {
      const tags = rawTags.map(splitTag).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      const key = seriesKey(type, name, tags)
      let s = byKey.get(key)
      if (s) return s
      if (counts[origin] >= opts.maxSeries) {
        overflowed++
        const okey = seriesKey(type, OVERFLOW_NAME, [["origin", origin]])
        s = byKey.get(okey)
        if (!s) {
          s = make(origin, OVERFLOW_NAME, type, [["origin", origin]], okey)
          byKey.set(okey, s)
        }
        return s
      }
      s = make(origin, name, type, tags, key)
      byKey.set(key, s)
      counts[origin]++
      return s
    },
    add(s, value, rate = 1, relative = false) {
      s.touched = true
      if (s.type === "c") {
        s.sum += value / rate
      } else if (s.type === "g") {
        s.gauge = relative ? s.gauge + value : value
        s.hasGauge = true
      } else {
        s.count += 1 / rate
        s.sum += value / rate
        if (s.hist === undefined) s.hist = createHistogram()
        record(s.hist, value, 1 / rate)
      }
    },
    addMember(s, member) {
      s.touched = true
      if (s.members === undefined) s.members = new Set()
      if (s.members.size < MAX_SET_MEMBERS) s.members.add(member)
    },
    flush(now) {
      for (const s of byKey.values()) {
        if (s.touched) s.lastSeen = now
        else if (now - s.lastSeen > retentionMs && s.lastSeen > 0) {
          byKey.delete(s.key)
          if (s.name !== OVERFLOW_NAME) counts[s.origin]--
          continue
        }
        let p: Point | undefined
        if (s.type === "c") {
          s.total += s.sum
          p = { t: now, v: s.sum / opts.flushSeconds }
          s.sum = 0
        } else if (s.type === "g") {
          if (s.hasGauge) p = { t: now, v: s.gauge }
        } else if (s.type === "s") {
          p = { t: now, v: s.members?.size ?? 0 }
          s.members?.clear()
        } else if (s.count > 0 && s.hist) {
          const h = s.hist
          p = { t: now, v: s.count, p50: quantile(h, 0.5), p90: quantile(h, 0.9), p99: quantile(h, 0.99) }
          addToMinute(s, now, h)
          s.total += s.sum
          s.totalCount += s.count
          s.count = 0
          s.sum = 0
          s.hist = undefined
        }
        s.touched = false
        if (!p) continue
        s.last = p
        if (s.ring.length < ringSize) s.ring.push(p)
        else {
          s.ring[s.head] = p
          s.head = (s.head + 1) % ringSize
        }
      }
    },
    all: () => byKey.values(),
    get: (key) => byKey.get(key),
    points(s, from, to) {
      const out: Point[] = []
      const n = s.ring.length
      for (let i = 0; i < n; i++) {
        const p = s.ring[(s.head + i) % n]
        if (p.t >= from && p.t <= to) out.push(p)
      }
      return out
    },
    stats: () => ({ series: { ...counts }, overflowed }),
  }
  return store
}
