/**
 * The metrics service: builds the pieces (series store, stats memory, statsd push, Prometheus registry,
 * receiver) from the settings and hooks them to the context. No HTTP here.
 */
import type { PluginContext } from "../../src/plugin/contract"
import { createMeasurer, type Measurer } from "./measure"
import { persistMinute, pruneStored } from "./persist"
import { createPromSide, type PromSide } from "./prometheus"
import { createReceiver, listenUdp, type Receiver } from "./receiver"
import { createSeriesStore, type SeriesStore } from "./series"
import { globalTags, type metricsSettings, parseHostPort } from "./settings"
import { createStatsMemory, type StatsMemory } from "./stats-json"
import { createStatsdClient, type StatsdClient } from "./statsd-client"

export type MetricsContext = PluginContext<typeof metricsSettings>

export interface MetricsService {
  store: SeriesStore
  stats: StatsMemory
  prom: PromSide
  measurer: Measurer
  receiver: Receiver
  statsd: StatsdClient | undefined
  /** Closes the current interval (every LOGBOOK_STATSD_FLUSH_SECONDS). */
  tick(now: number): void
  /** Persists the last whole minute and prunes old rows (every minute when persisting). */
  persist(now: number): Promise<void>
  /** Starts the UDP receiver when configured; resolves to its port. */
  listen(): Promise<number | undefined>
  close(): void
}

export function createMetricsService(ctx: MetricsContext): MetricsService {
  const s = ctx.settings
  const log = ctx.log
  const store = createSeriesStore({
    maxSeries: s.maxSeries,
    flushSeconds: s.flushSeconds,
    retentionMinutes: s.retentionMinutes,
  })
  const stats = createStatsMemory(s.maxSeries)
  let sendErrorsLogged = 0
  const statsd = s.statsdAddress
    ? createStatsdClient(parseHostPort(s.statsdAddress), (e) => {
        // counted always; logged rarely so a dead collector cannot flood the log
        if (sendErrorsLogged++ % 1000 === 0) log.warning("statsd send failed", { error: e })
      })
    : undefined
  const receiver = createReceiver(store, s.maxSeries * 4)
  const prom = createPromSide({
    maxSeries: s.maxSeries,
    queueDepth: () => ctx.writer.stats().queuedRows,
    overrides: () => ctx.logLevels.overrides().size,
    received: store,
    counters: () => {
      const push = statsd?.stats()
      const st = store.stats()
      return {
        received_datagrams: receiver.counts.datagrams,
        received_lines: receiver.counts.lines,
        received_malformed: receiver.counts.malformed,
        received_skipped: receiver.counts.skipped,
        series_overflowed: st.overflowed,
        series_received: st.series.received,
        series_own: st.series.own,
        stats_json_overflowed: stats.overflow(),
        ...(push
          ? {
              statsd_datagrams: push.datagrams,
              statsd_lines: push.lines,
              statsd_dropped: push.dropped,
              statsd_errors: push.errors,
            }
          : {}),
      }
    },
  })
  const measurer = createMeasurer({
    prefix: s.statsdPrefix,
    tagged: s.statsdTags,
    // dynamic names (LOGBOOK_STATSD_TAG_<NAME>) cannot be declared as settings: read at setup
    globalTags: globalTags(process.env),
    statsd,
    stats,
    series: store,
    prom,
    maxInstruments: s.maxSeries * 4,
  })
  let udp: { port: number; close(): void } | undefined
  return {
    store,
    stats,
    prom,
    measurer,
    receiver,
    statsd,
    tick(now) {
      measurer.sample(ctx.writer.stats().queuedRows, ctx.logLevels.overrides().size)
      store.flush(now)
      measurer.forget()
      receiver.forget()
    },
    async persist(now) {
      const minuteEnd = Math.floor(now / 60_000) * 60_000
      await persistMinute(store, ctx.writer, minuteEnd)
      await pruneStored(ctx.db, now - s.retentionMinutes * 60_000)
    },
    async listen() {
      if (!s.listen) return undefined
      udp = await listenUdp(receiver, parseHostPort(s.listen))
      log.info("statsd receiver listening", { address: s.listen, port: udp.port })
      return udp.port
    },
    close() {
      udp?.close()
      statsd?.close()
    },
  }
}
