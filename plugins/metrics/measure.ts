/**
 * Turns what the core and plugins report (the `http.request` event, database statement timings,
 * writer flushes, ctx.metrics calls) into measurements for every output at once: the statsd push,
 * the /c2c/stats.json memory, the charted series and the Prometheus registry. Each distinct measurement
 * (route × method × status, statement, helper name × tags) is an `Instrument` built once and cached
 * (bounded), so the per-request cost is one map lookup and a few additions.
 */

import { routeName } from "../../src/http/app"
import type { LogbookEvents, MetricsSink, Tags } from "../../src/plugin/contract"
import { normaliseSql } from "./normalise-sql"
import type { PromSide } from "./prometheus"
import type { Series, SeriesStore } from "./series"
import type { StatsMemory } from "./stats-json"
import type { StatsdClient } from "./statsd-client"
import { formatTags, statsdKey, statsdLines, statsJsonKey, withDot } from "./statsd-format"

type Kind = "c" | "g" | "ms"

/** No character past U+007F (a line of such text is as many bytes as characters). */
const NOT_ASCII = /[^\p{ASCII}]/u

interface Instrument {
  kind: Kind
  statsdKey: string
  statsdTail: string
  /** Key and tags are ASCII: a line's UTF-8 length is its string length (no byteLength per line). */
  ascii: boolean
  /** Key, type and tags: what the statsd client aggregates counters and gauges by. */
  statsdId: string
  statsKey: string
  series: Series
  prom: ((value: number) => void) | undefined
}

export interface Measurer {
  sink: MetricsSink
  request(e: LogbookEvents["http.request"]): void
  statement(sql: string, ms: number): void
  flush(e: LogbookEvents["writer.flush"]): void
  /** Gauges sampled once per interval (queue depth, log-level overrides). */
  sample(queueDepth: number, overrides: number): void
  /** Drops cached instruments (after the series store evicted idle series). */
  forget(): void
}

export function createMeasurer(opts: {
  prefix: string
  tagged: boolean
  globalTags: Readonly<Record<string, string>>
  statsd: StatsdClient | undefined
  stats: StatsMemory
  series: SeriesStore
  prom: PromSide
  maxInstruments: number
}): Measurer {
  const { statsd, stats, series, prom, tagged } = opts
  const cache = new Map<string, Instrument>()
  const bySql = new Map<string, Instrument>()
  const seriesPrefix = withDot(opts.prefix)

  function build(
    kind: Kind,
    plain: Array<string | number>,
    taggedParts: string[],
    tags: Tags | undefined,
    promObserver: ((value: number) => void) | undefined,
  ): Instrument {
    const tagList = tags ? Object.keys(tags).map((k) => `${k}:${tags[k]}`) : []
    const key = statsdKey(opts.prefix, tagged ? taggedParts : plain)
    const tail = tagged ? formatTags(tags, opts.globalTags) : ""
    return {
      kind,
      statsdKey: key,
      statsdTail: tail,
      ascii: !NOT_ASCII.test(key) && !NOT_ASCII.test(tail),
      statsdId: `${key}|${kind}${tail}`,
      statsKey: tagged ? statsJsonKey(taggedParts, tags) : statsJsonKey(plain),
      series: series.series("own", seriesPrefix + taggedParts.join("."), kind, tagList),
      prom: promObserver,
    }
  }

  function instrument(
    key: string,
    kind: Kind,
    plain: () => Array<string | number>,
    taggedParts: string[],
    tags?: () => Tags,
    promObserver?: () => ((value: number) => void) | undefined,
  ): Instrument {
    let i = cache.get(key)
    if (i === undefined) {
      i = build(kind, plain(), taggedParts, tags?.(), promObserver?.())
      if (cache.size < opts.maxInstruments) cache.set(key, i)
    }
    return i
  }

  function emit(i: Instrument, value: number) {
    if (statsd)
      if (i.kind === "ms") statsd.send(statsdLines(i.statsdKey, i.kind, value, i.statsdTail), i.ascii)
      else statsd.aggregate(i.statsdId, i.statsdKey, i.kind, value, i.statsdTail, i.ascii)
    if (i.kind === "ms") stats.timer(i.statsKey, value)
    else if (i.kind === "c") stats.counter(i.statsKey, value)
    else stats.gauge(i.statsKey, value)
    series.add(i.series, value)
    i.prom?.(value)
  }

  /** Route instruments by route template, then method, then status: no key string built per request. */
  const byRoute = { route: new Map<string, Map<string, Map<number, Instrument>>>(), render: new Map() }
  let routeInstruments = 0
  const routeMeasure = (what: "route" | "render", method: string, route: string, status: number) => {
    const routes: Map<string, Map<string, Map<number, Instrument>>> = byRoute[what]
    let methods = routes.get(route)
    if (methods === undefined) {
      methods = new Map()
      routes.set(route, methods)
    }
    let statuses = methods.get(method)
    if (statuses === undefined) {
      statuses = new Map()
      methods.set(method, statuses)
    }
    let i = statuses.get(status)
    if (i === undefined) {
      const name = routeName(route)
      i = build(
        "ms",
        [what, method, name, status],
        [what],
        { method, route: name, status, group: Math.floor(status / 100) },
        (what === "route" ? prom.request : prom.render)(method, route, status),
      )
      // bounded like the other instruments (methods and statuses come from the client)
      if (routeInstruments++ < opts.maxInstruments) statuses.set(status, i)
    }
    return i
  }

  /**
   * ctx.metrics measurements. The measuring plugin's id becomes a `plugin` tag in the tagged outputs
   * (DogStatsD tags, Prometheus label, tagged stats.json keys, charted series) unless the call has its own
   * `plugin` tag; plain statsd and stats.json keys stay c2c's (name parts, then tag values by key).
   */
  const helper = (
    kind: Kind,
    name: string,
    value: number,
    tags: Tags | undefined,
    plugin: string | undefined,
  ) => {
    // found by the call as made (tags in their given order): no sorting or splitting per measurement
    let key = plugin === undefined ? `${kind} ${name}` : `${kind} ${name}\u0000${plugin}`
    if (tags) for (const k in tags) key += `\u0000${k}\u0000${tags[k]}`
    let i = cache.get(key)
    if (i === undefined) {
      const own = tags ?? {}
      const keys = Object.keys(own).sort()
      const parts = name.split(".")
      const labelled = plugin === undefined || "plugin" in own ? own : { ...own, plugin }
      i = build(
        kind,
        [...parts, ...keys.map((k) => own[k] ?? "")],
        parts,
        labelled,
        prom.helper(kind, name, labelled),
      )
      if (cache.size < opts.maxInstruments) cache.set(key, i)
    }
    emit(i, value)
  }

  return {
    sink: {
      increment: (name, value, tags, plugin) => helper("c", name, value, tags, plugin),
      gauge: (name, value, tags, plugin) => helper("g", name, value, tags, plugin),
      timer: (name, ms, tags, plugin) => helper("ms", name, ms, tags, plugin),
    },
    request({ method, route, status, durationMs, renderMs }) {
      emit(routeMeasure("route", method, route, status), durationMs)
      if (renderMs !== undefined) emit(routeMeasure("render", method, route, status), renderMs)
    },
    statement(sql, ms) {
      // keyed by the statement text as run (no string built per statement); texts are few and repeat
      let i = bySql.get(sql)
      if (i === undefined) {
        const q = normaliseSql(sql)
        i = instrument(
          `sql ${q}`,
          "ms",
          () => ["sql", q],
          ["sql"],
          () => ({ query: q }),
          () => prom.statement(q),
        )
        if (bySql.size < opts.maxInstruments) bySql.set(sql, i)
      }
      emit(i, ms)
    },
    flush({ rows, durationMs, queued }) {
      emit(
        instrument("writer.flush", "ms", () => ["writer", "flush"], ["writer", "flush"]),
        durationMs,
      )
      emit(
        instrument("writer.rows", "c", () => ["writer", "rows"], ["writer", "rows"]),
        rows,
      )
      emit(
        instrument("writer.queue", "g", () => ["writer", "queue"], ["writer", "queue"]),
        queued,
      )
      prom.flush(rows, durationMs / 1000)
    },
    forget() {
      cache.clear()
      bySql.clear()
      byRoute.route.clear()
      byRoute.render.clear()
      routeInstruments = 0
    },
    sample(queueDepth, overrides) {
      emit(
        instrument("writer.queue", "g", () => ["writer", "queue"], ["writer", "queue"]),
        queueDepth,
      )
      emit(
        instrument("log_levels", "g", () => ["log_levels", "overrides"], ["log_levels", "overrides"]),
        overrides,
      )
    },
  }
}
