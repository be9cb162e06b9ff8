/**
 * The Prometheus side: one prom-client `Registry` owned by the plugin (never the global default one).
 * Logbook's own metrics are prom-client histograms/gauges/counters; series per metric are capped
 * (past `maxSeries` a metric's new label sets are folded into one `_overflow` label set and counted).
 * Received statsd series are re-exported like statsd_exporter through small collector objects that
 * prom-client serialises like its own. Text 0.0.4 by default, OpenMetrics 1.0 by `Accept`.
 */
import { Counter, Gauge, type Metric, Registry } from "prom-client"
import type { Tags } from "../../src/plugin/contract"
import { type BoundFamily, boundCounter, boundGauge, boundHistogram, type Labels } from "./prom-bound"
import type { Series, SeriesStore } from "./series"

const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
const ROWS_BUCKETS = [1, 5, 10, 50, 100, 500, 1000, 5000, 10_000, 50_000]

/** `shop.checkout.count` → `shop_checkout_count` (statsd_exporter's escaping). */
export function promName(name: string): string {
  const n = name.replace(/[^a-zA-Z0-9_:]/g, "_")
  return /^[0-9]/.test(n) ? `_${n}` : n
}
export const promLabel = (name: string): string => {
  const n = name.replace(/[^a-zA-Z0-9_]/g, "_")
  return /^[0-9]/.test(n) || n.startsWith("__") ? `_${n.replace(/^_+/, "")}` : n
}

export interface PromSide {
  registry: Registry
  /** Observers bound to one label set (capped once, at binding); timers take milliseconds. */
  request(method: string, route: string, status: number): (ms: number) => void
  render(method: string, route: string, status: number): (ms: number) => void
  statement(sql: string): (ms: number) => void
  helper(kind: "c" | "g" | "ms", name: string, tags: Tags | undefined): ((value: number) => void) | undefined
  flush(rows: number, seconds: number): void
  /** Text for a scrape: OpenMetrics when `accept` asks for it. */
  expose(accept: string | null): Promise<{ body: string; contentType: string }>
}

export function createPromSide(opts: {
  maxSeries: number
  queueDepth: () => number
  overrides: () => number
  received: SeriesStore
  counters: () => Record<string, number>
}): PromSide {
  const registry = new Registry()
  const registers = [registry]
  const overflow = new Counter({
    name: "logbook_metrics_series_overflow_total",
    help: "Measurements folded into the _overflow label set because a metric reached LOGBOOK_STATSD_MAX_SERIES.",
    labelNames: ["metric"],
    registers,
  })
  // own metrics on the hot path: children bound once per label set (prom-bound.ts)
  const capped = { maxSeries: opts.maxSeries, onOverflow: (metric: string) => overflow.inc({ metric }) }
  const requests = boundHistogram(registry, {
    name: "logbook_http_request_duration_seconds",
    help: "HTTP requests by route template (unmatched: _not_found), method and status.",
    labelNames: ["method", "route", "status"],
    buckets: SECONDS_BUCKETS,
    ...capped,
  })
  const renders = boundHistogram(registry, {
    name: "logbook_render_duration_seconds",
    help: "Page rendering (layout) by route template, method and status.",
    labelNames: ["method", "route", "status"],
    buckets: SECONDS_BUCKETS,
    ...capped,
  })
  const statements = boundHistogram(registry, {
    name: "logbook_db_statement_duration_seconds",
    help: "Database statements, normalised (literals and placeholders as ?, IN (?)).",
    labelNames: ["statement"],
    buckets: SECONDS_BUCKETS,
    ...capped,
  })
  const flushRows = boundHistogram(registry, {
    name: "logbook_writer_flush_rows",
    help: "Rows committed per group-commit flush.",
    labelNames: [],
    buckets: ROWS_BUCKETS,
    ...capped,
  }).bind({})
  const flushSeconds = boundHistogram(registry, {
    name: "logbook_writer_flush_duration_seconds",
    help: "Duration of each group-commit flush (one transaction).",
    labelNames: [],
    buckets: SECONDS_BUCKETS,
    ...capped,
  }).bind({})
  new Gauge({
    name: "logbook_writer_queue_depth",
    help: "Rows waiting in the group-commit writer.",
    registers,
    collect() {
      this.set(opts.queueDepth())
    },
  })
  new Gauge({
    name: "logbook_log_level_overrides",
    help: "Active run-time log level overrides.",
    registers,
    collect() {
      this.set(opts.overrides())
    },
  })
  new Counter({
    name: "process_cpu_seconds_total",
    help: "Total user and system CPU time spent in seconds.",
    registers,
    collect() {
      const { user, system } = process.cpuUsage()
      this.reset()
      this.inc((user + system) / 1e6)
    },
  })
  new Gauge({
    name: "process_resident_memory_bytes",
    help: "Resident memory size in bytes.",
    registers,
    collect() {
      this.set(process.memoryUsage.rss())
    },
  })
  new Gauge({
    name: "logbook_metrics_plugin_events",
    help: "Counts kept by the metrics plugin itself (statsd push and receiver), by event.",
    labelNames: ["event"],
    registers,
    collect() {
      for (const [event, v] of Object.entries(opts.counters())) this.set({ event }, v)
    },
  })

  // plugins' and drop-ins' ctx.metrics: one family per name, labels fixed at first use
  const helpers = new Map<string, { family: BoundFamily; labelNames: string[] } | null>()
  function helperFamily(kind: "c" | "g" | "ms", name: string, tags: Tags | undefined) {
    const id = `${kind}:${name}`
    let h = helpers.get(id)
    if (h === undefined) {
      if (helpers.size >= opts.maxSeries) return undefined
      const base = `logbook_${promName(name)}`
      const full = kind === "c" ? `${base}_total` : kind === "g" ? base : `${base}_seconds`
      const labelNames = [...new Set(Object.keys(tags ?? {}).map(promLabel))].sort()
      // no quotes: a raw `"` is not allowed in an OpenMetrics HELP text
      const help = `ctx.metrics.${kind === "c" ? "increment" : kind === "g" ? "gauge" : "timer"} ${name.replace(/["\\\n]/g, "_")}`
      const spec = { name: full, help, labelNames, ...capped }
      try {
        if (registry.getSingleMetric(full)) throw new Error(`${full} is taken`)
        const family =
          kind === "c"
            ? boundCounter(registry, spec)
            : kind === "g"
              ? boundGauge(registry, spec)
              : boundHistogram(registry, { ...spec, buckets: SECONDS_BUCKETS })
        h = { family, labelNames }
      } catch {
        h = null // the name is taken (by a built-in or another kind): statsd and stats.json still get it
      }
      helpers.set(id, h)
    }
    return h ?? undefined
  }

  // received series, re-exported like statsd_exporter (timers as summaries in seconds)
  const families = new Map<string, { type: "counter" | "gauge" | "summary"; metric: Metric }>()
  /** Received series by exported name, as of the scrape in progress (families read it). */
  let current = new Map<string, { type: "counter" | "gauge" | "summary"; list: Series[] }>()
  function syncReceived() {
    const live = new Map<string, { type: "counter" | "gauge" | "summary"; list: Series[] }>()
    for (const s of opts.received.all()) {
      if (s.origin !== "received") continue
      const name = promName(s.name)
      const type = s.type === "c" ? "counter" : s.type === "ms" ? "summary" : "gauge"
      const f = live.get(name)
      if (!f) live.set(name, { type, list: [s] })
      else if (f.type === type) f.list.push(s)
    }
    current = live
    for (const [name, f] of families)
      if (!live.has(name) || live.get(name)?.type !== f.type) {
        registry.removeSingleMetric(name)
        families.delete(name)
      }
    for (const [name, f] of live) {
      if (families.has(name)) continue
      if (registry.getSingleMetric(name)) continue // an own metric has this name: own wins
      const metric = receivedFamily(name, f.type, () => current.get(name)?.list ?? [])
      registry.registerMetric(metric)
      families.set(name, { type: f.type, metric })
    }
  }

  let exposing: Promise<unknown> = Promise.resolve()
  return {
    registry,
    request: (method, route, status) => {
      const record = requests.bind({ method, route, status })
      return (ms) => record(ms / 1000)
    },
    render: (method, route, status) => {
      const record = renders.bind({ method, route, status })
      return (ms) => record(ms / 1000)
    },
    statement: (statement) => {
      const record = statements.bind({ statement })
      return (ms) => record(ms / 1000)
    },
    flush(rows, seconds) {
      flushRows(rows)
      flushSeconds(seconds)
    },
    helper(kind, name, tags) {
      const h = helperFamily(kind, name, tags)
      if (!h) return undefined
      const labels: Labels = {}
      for (const l of h.labelNames) labels[l] = ""
      if (tags) for (const k in tags) if (h.labelNames.includes(promLabel(k))) labels[promLabel(k)] = tags[k]
      const record = h.family.bind(labels)
      return kind === "ms" ? (ms) => record(ms / 1000) : record
    },
    expose(accept) {
      const open = prefersOpenMetrics(accept)
      // prom-client's OpenMetrics output renames counters in place (drops `_total`); scrapes are
      // serialised and the names restored so a later 0.0.4 scrape is unaffected
      const run = async () => {
        syncReceived()
        if (!open) return { body: await registry.metrics(), contentType: Registry.PROMETHEUS_CONTENT_TYPE }
        const metrics = registry.getMetricsAsArray() as unknown as Array<{ name: string }>
        const names = metrics.map((m) => m.name)
        registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as never)
        try {
          return { body: await registry.metrics(), contentType: Registry.OPENMETRICS_CONTENT_TYPE }
        } finally {
          registry.setContentType(Registry.PROMETHEUS_CONTENT_TYPE as never)
          metrics.forEach((m, i) => {
            m.name = names[i]
          })
        }
      }
      const result = exposing.then(run, run)
      exposing = result.catch(() => undefined)
      return result
    },
  }
}

function labelsOf(s: Series): Labels {
  const out: Labels = {}
  for (const [k, v] of s.tags) if (v !== "" && k !== "") out[promLabel(k)] = v
  return out
}

/** A prom-client-compatible metric object over received series (read at scrape time). */
function receivedFamily(name: string, type: "counter" | "gauge" | "summary", list: () => Series[]): Metric {
  const help = `statsd metric received by Logbook (${type === "summary" ? "timer, seconds" : type})`
  const family = {
    name,
    help,
    type,
    aggregator: "sum",
    collect: undefined,
    reset() {},
    async get() {
      const values: Array<{ value: number; labels: Labels; metricName?: string }> = []
      for (const s of list()) {
        const labels = labelsOf(s)
        if (type === "counter") values.push({ value: s.total, labels })
        else if (type === "gauge") {
          if (s.last) values.push({ value: s.last.v, labels })
        } else {
          const p = s.last
          if (p?.p50 !== undefined)
            for (const [q, v] of [
              ["0.5", p.p50],
              ["0.9", p.p90 ?? p.p50],
              ["0.99", p.p99 ?? p.p50],
            ] as const)
              values.push({ value: v / 1000, labels: { ...labels, quantile: q } })
          values.push({ value: s.total / 1000, labels, metricName: `${family.name}_sum` })
          values.push({ value: s.totalCount, labels, metricName: `${family.name}_count` })
        }
      }
      return { name: family.name, help, type, aggregator: "sum", values }
    },
  }
  return family as unknown as Metric
}

/**
 * Whether an Accept header asks for OpenMetrics rather than the 0.0.4 text format: media types compared
 * without case, q-values weighed (q=0 refuses; the text format, or any type, with a higher q wins; a
 * tie goes to OpenMetrics, as Prometheus itself lists it first). Prometheus sends
 * `application/openmetrics-text;…;q=0.5,…,text/plain;version=0.0.4;q=0.3` and any type at q=0.2.
 */
export function prefersOpenMetrics(accept: string | null | undefined): boolean {
  if (!accept) return false
  let open = 0
  let text = 0
  for (const part of accept.split(",")) {
    const [type, ...params] = part.split(";").map((p) => p.trim().toLowerCase())
    const qParam = params.find((p) => p.startsWith("q="))
    const q = qParam === undefined ? 1 : Number(qParam.slice(2))
    if (!Number.isFinite(q)) continue
    if (type === "application/openmetrics-text") open = Math.max(open, q)
    else if (type === "text/plain" || type === "text/*" || type === "*/*") text = Math.max(text, q)
  }
  return open > 0 && open >= text
}
