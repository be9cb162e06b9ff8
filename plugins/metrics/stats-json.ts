/**
 * c2cwsgiutils' in-memory stats backend, served as /c2c/stats.json (ops-formats §8.3): timers keep
 * count/sum/min/max (ms), gauges the last value, counters the sum. Entries are bounded; measurements
 * for new keys past the bound are counted in `overflow` instead of being stored.
 */
import { roundHalfEven } from "./statsd-format"

export interface TimerStat {
  nb: number
  sum: number
  min: number
  max: number
}

export interface StatsMemory {
  timer(key: string, ms: number): void
  gauge(key: string, value: number): void
  counter(key: string, value: number): void
  snapshot(): {
    timers: Record<string, { nb: number; avg_ms: number; min_ms: number; max_ms: number }>
    gauges: Record<string, number>
    counters: Record<string, number>
  }
  reset(): void
  overflow(): number
}

export function createStatsMemory(maxEntries: number): StatsMemory {
  let timers = new Map<string, TimerStat>()
  let gauges = new Map<string, number>()
  let counters = new Map<string, number>()
  let overflow = 0
  const room = () => timers.size + gauges.size + counters.size < maxEntries
  return {
    timer(key, ms) {
      const t = timers.get(key)
      if (t) {
        t.nb++
        t.sum += ms
        if (ms < t.min) t.min = ms
        if (ms > t.max) t.max = ms
      } else if (room()) timers.set(key, { nb: 1, sum: ms, min: ms, max: ms })
      else overflow++
    },
    gauge(key, value) {
      if (gauges.has(key) || room()) gauges.set(key, value)
      else overflow++
    },
    counter(key, value) {
      const c = counters.get(key)
      if (c !== undefined) counters.set(key, c + value)
      else if (room()) counters.set(key, value)
      else overflow++
    },
    snapshot() {
      const out: ReturnType<StatsMemory["snapshot"]> = { timers: {}, gauges: {}, counters: {} }
      for (const [k, t] of [...timers].sort(([a], [b]) => (a < b ? -1 : 1)))
        out.timers[k] = {
          nb: t.nb,
          avg_ms: roundHalfEven(t.sum / t.nb),
          min_ms: roundHalfEven(t.min),
          max_ms: roundHalfEven(t.max),
        }
      for (const [k, v] of [...gauges].sort(([a], [b]) => (a < b ? -1 : 1))) out.gauges[k] = v
      for (const [k, v] of [...counters].sort(([a], [b]) => (a < b ? -1 : 1))) out.counters[k] = v
      return out
    },
    reset() {
      timers = new Map()
      gauges = new Map()
      counters = new Map()
      overflow = 0
    },
    overflow: () => overflow,
  }
}
