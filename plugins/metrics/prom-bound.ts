/**
 * Prometheus families whose children are bound to one label set once, for the hot path. prom-client's
 * `observe(labels, v)` / `inc(labels, v)` validate and hash the label object on every call (its
 * `labels()` child too), which was ~5 % of the main thread under POST /api/events; a bound child here is
 * a few additions on its own counts. The families are registered in the plugin's prom-client `Registry`,
 * which serialises them like its own (text 0.0.4 and OpenMetrics), so names, escaping and content
 * negotiation stay prom-client's.
 */
import { type Metric, type Registry, validateMetricName } from "prom-client"

export type Labels = Record<string, string | number>

interface Value {
  value: number
  labels: Labels
  /** Printed after `labels` (prom-client's histograms: `le` first, then the child's labels). */
  sharedLabels?: Labels
  metricName?: string
}

export interface BoundFamily {
  readonly name: string
  /**
   * A recorder for one label set (histograms: values in the metric's unit, e.g. seconds). The same label
   * values give the same child; past `maxSeries` children, new label sets share one child whose every
   * label is `_overflow`, and `onOverflow` is called for each such binding.
   */
  bind(labels: Labels): (value: number) => void
}

export interface FamilySpec {
  name: string
  help: string
  labelNames: readonly string[]
  maxSeries: number
  onOverflow?: (metric: string) => void
}

export const OVERFLOW = "_overflow"

/**
 * Children by label values, capped: the label set as given, or past the cap the shared `_overflow` one,
 * whose recorder counts every measurement it takes through `onOverflow`.
 */
function childrenOf<C extends { record: (v: number) => void }>(
  spec: FamilySpec,
  make: (labels: Labels) => C,
) {
  const byKey = new Map<string, C>()
  const keyOf = (labels: Labels) => {
    let key = ""
    for (const l of spec.labelNames) key += `${labels[l] ?? ""}\u0000`
    return key
  }
  return {
    all: () => byKey.values(),
    bind(labels: Labels): (v: number) => void {
      const key = keyOf(labels)
      let c = byKey.get(key)
      if (c === undefined && byKey.size < spec.maxSeries) {
        c = make(labels)
        byKey.set(key, c)
      }
      if (c !== undefined) return c.record
      const overflow: Labels = {}
      for (const l of spec.labelNames) overflow[l] = OVERFLOW
      const okey = keyOf(overflow)
      let o = byKey.get(okey)
      if (o === undefined) {
        o = make(overflow)
        byKey.set(okey, o)
      }
      const record = o.record
      return (v) => {
        spec.onOverflow?.(spec.name)
        record(v)
      }
    },
  }
}

const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/** Registers a family object that prom-client serialises (the shape of its own metrics' `get()`). */
function register(
  registry: Registry,
  spec: FamilySpec,
  type: "counter" | "gauge" | "histogram",
  values: () => Value[],
): void {
  if (!validateMetricName(spec.name)) throw new Error(`invalid metric name ${spec.name}`)
  for (const l of spec.labelNames)
    if (!LABEL.test(l) || l.startsWith("__")) throw new Error(`invalid label name ${l}`)
  const { name, help } = spec
  const family = {
    name,
    help,
    type,
    aggregator: "sum",
    collect: undefined,
    reset() {},
    get: async () => ({ name: family.name, help, type, aggregator: "sum", values: values() }),
  }
  registry.registerMetric(family as unknown as Metric)
}

/** A histogram; children keep per-bucket (non-cumulative) counts, sum and count. */
export function boundHistogram(
  registry: Registry,
  spec: FamilySpec & { buckets: readonly number[] },
): BoundFamily {
  const bounds = [...spec.buckets].sort((a, b) => a - b)
  const children = childrenOf(spec, (labels) => {
    const c = { labels, counts: new Float64Array(bounds.length), sum: 0, count: 0 }
    const record = (v: number) => {
      if (!Number.isFinite(v)) return
      c.sum += v
      c.count++
      for (let i = 0; i < bounds.length; i++)
        if (v <= (bounds[i] as number)) {
          c.counts[i]++
          return
        }
    }
    return { c, record }
  })
  register(registry, spec, "histogram", () => {
    const out: Value[] = []
    const bucket = `${spec.name}_bucket`
    for (const { c } of children.all()) {
      if (c.count === 0) continue
      let acc = 0
      for (let i = 0; i < bounds.length; i++) {
        acc += c.counts[i] as number
        out.push({
          value: acc,
          labels: { le: bounds[i] as number },
          sharedLabels: c.labels,
          metricName: bucket,
        })
      }
      const shared = { sharedLabels: c.labels, labels: {} }
      out.push({ value: c.count, labels: { le: "+Inf" }, sharedLabels: c.labels, metricName: bucket })
      out.push({ value: c.sum, ...shared, metricName: `${spec.name}_sum` })
      out.push({ value: c.count, ...shared, metricName: `${spec.name}_count` })
    }
    return out
  })
  return { name: spec.name, bind: children.bind }
}

/** A counter (`name` ends in `_total`); negative increments are ignored. */
export function boundCounter(registry: Registry, spec: FamilySpec): BoundFamily {
  const children = childrenOf(spec, (labels) => {
    const c = { labels, value: 0 }
    const record = (v: number) => {
      if (v >= 0 && Number.isFinite(v)) c.value += v
    }
    return { c, record }
  })
  register(registry, spec, "counter", () =>
    [...children.all()].map(({ c }) => ({ value: c.value, labels: c.labels })),
  )
  return { name: spec.name, bind: children.bind }
}

/** A gauge: the last value set. A child appears once it has been set. */
export function boundGauge(registry: Registry, spec: FamilySpec): BoundFamily {
  const children = childrenOf(spec, (labels) => {
    const c = { labels, value: 0, set: false }
    const record = (v: number) => {
      if (!Number.isFinite(v)) return
      c.value = v
      c.set = true
    }
    return { c, record }
  })
  register(registry, spec, "gauge", () =>
    [...children.all()].filter(({ c }) => c.set).map(({ c }) => ({ value: c.value, labels: c.labels })),
  )
  return { name: spec.name, bind: children.bind }
}
