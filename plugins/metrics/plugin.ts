/**
 * Plugin "metrics": Logbook's own metrics out (statsd push in c2cwsgiutils or DogStatsD style,
 * Prometheus /metrics, c2c /c2c/stats.json), a statsd receiver in, and charts with change markers.
 */
import { definePlugin, type Job } from "../../src/plugin/contract"
import { compatRoutes } from "./compat"
import { migrations } from "./schema"
import { createMetricsService, type MetricsService } from "./service"
import { metricsSettings } from "./settings"
import { uiRoutes } from "./ui"

declare module "../../src/plugin/contract" {
  interface LogbookServices {
    /** The metrics plugin's internals, for its tests and benchmark (tick = close an interval now). */
    metrics: Pick<MetricsService, "tick" | "persist" | "receiver" | "store" | "statsd"> & { udpPort?: number }
  }
}

/** One service per plugin context (per app), reached from setup, routes, jobs, start and stop. */
const services = new WeakMap<object, MetricsService>()

export default definePlugin({
  id: "metrics",
  title: "Metrics",
  description: "statsd out and in, Prometheus /metrics, c2c stats.json, charts with change markers.",
  settings: metricsSettings,
  envPrefixes: ["LOGBOOK_STATSD_TAG_"],
  migrations,
  nav: [{ title: "Metrics", href: "/ui/metrics", order: 40 }],
  widgets: [{ id: "metrics-pins", title: "Pinned metrics", url: "/ui/metrics/widget", order: 40 }],
  setup(ctx) {
    const svc = createMetricsService(ctx)
    services.set(ctx, svc)
    ctx.metrics.addSink(svc.measurer.sink)
    ctx.events.on("http.request", svc.measurer.request)
    ctx.events.on("writer.flush", svc.measurer.flush)
    ctx.db.observe(svc.measurer.statement)
    ctx.services.provide("metrics", svc)
  },
  routes(ctx) {
    const svc = services.get(ctx) as MetricsService
    return compatRoutes(ctx, svc).use(uiRoutes(ctx, svc))
  },
  jobs(ctx) {
    const svc = services.get(ctx) as MetricsService
    const jobs: Job[] = [
      { name: "flush", intervalMs: ctx.settings.flushSeconds * 1000, run: () => svc.tick(ctx.now()) },
    ]
    if (ctx.settings.persist)
      jobs.push({ name: "persist", intervalMs: 60_000, run: () => svc.persist(ctx.now()) })
    return jobs
  },
  async start(ctx) {
    const svc = services.get(ctx) as MetricsService
    const port = await svc.listen()
    const provided = ctx.services.get("metrics")
    if (provided) provided.udpPort = port
  },
  stop(ctx) {
    services.get(ctx)?.close()
  },
})
