/**
 * The metrics plugin's settings (all `LOGBOOK_*` environment variables). `LOGBOOK_STATSD_TAG_<NAME>`
 * global tags are dynamic names, so they are read from `process.env` at setup (see `globalTags`).
 */
import { Type } from "@sinclair/typebox"
import { type SettingsOf, setting } from "../../src/config"

const HOST_PORT = "^(|[^\\s:]+:[0-9]{1,5}|\\[[0-9A-Fa-f:.]+\\]:[0-9]{1,5})$"

export const metricsSettings = {
  statsdAddress: setting(Type.String({ default: "", pattern: HOST_PORT }), {
    env: "LOGBOOK_STATSD_ADDRESS",
    description: "`host:port` to push Logbook's own metrics to over UDP (statsd); empty = no push.",
  }),
  statsdPrefix: setting(Type.String({ default: "logbook" }), {
    env: "LOGBOOK_STATSD_PREFIX",
    description: "Prefix of every pushed key (a `.` is appended when missing; not sanitised).",
  }),
  statsdTags: setting(Type.Boolean({ default: false }), {
    env: "LOGBOOK_STATSD_TAGS",
    description:
      "`1`: DogStatsD tags (`logbook.route:12|ms|#method:GET,…`) instead of c2cwsgiutils dotted names; also selects the tagged key style of /c2c/stats.json.",
  }),
  listen: setting(Type.String({ default: "", pattern: HOST_PORT }), {
    env: "LOGBOOK_STATSD_LISTEN",
    description: "`host:port` of the statsd/DogStatsD UDP receiver (e.g. `127.0.0.1:8125`); empty = off.",
  }),
  flushSeconds: setting(Type.Integer({ default: 10, minimum: 1, maximum: 3600 }), {
    env: "LOGBOOK_STATSD_FLUSH_SECONDS",
    description: "Aggregation interval of received (and charted own) metrics.",
  }),
  maxSeries: setting(Type.Integer({ default: 2000, minimum: 1 }), {
    env: "LOGBOOK_STATSD_MAX_SERIES",
    description:
      "Most series kept per origin (received / own) and per Prometheus metric; the excess is folded into one `_overflow` series and counted.",
  }),
  retentionMinutes: setting(Type.Integer({ default: 360, minimum: 1 }), {
    env: "LOGBOOK_METRICS_RETENTION_MINUTES",
    description:
      "How long series stay in memory (ring buffer per series) and in the database when persisted.",
  }),
  persist: setting(Type.Boolean({ default: false }), {
    env: "LOGBOOK_METRICS_PERSIST",
    description: "`1`: also store series at 1-minute resolution in the database (table metrics_points).",
  }),
} as const

export type MetricsSettings = SettingsOf<typeof metricsSettings>

/** `LOGBOOK_STATSD_TAG_<NAME>=value` → `{ name: value }` (name lower-cased), like c2c's `STATSD_TAG_<NAME>`. */
export function globalTags(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {}
  const PREFIX = "LOGBOOK_STATSD_TAG_"
  for (const [k, v] of Object.entries(env))
    if (k.startsWith(PREFIX) && k.length > PREFIX.length && v !== undefined)
      out[k.slice(PREFIX.length).toLowerCase()] = v
  return out
}

/** `host:port` / `[v6]:port` → parts. */
export function parseHostPort(s: string): { hostname: string; port: number } {
  const i = s.lastIndexOf(":")
  const host = s.slice(0, i)
  return { hostname: host.startsWith("[") ? host.slice(1, -1) : host, port: Number(s.slice(i + 1)) }
}
