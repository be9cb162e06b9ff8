/**
 * The small registries the host hands to plugins through the context: events, services, health checks,
 * metrics fan-out. No plugin-specific knowledge lives here.
 */
import type { Writer } from "../db/writer"
import type {
  EventBus,
  HealthCheck,
  HealthRegistry,
  LogbookEvents,
  LogbookServices,
  Metrics,
  MetricsSink,
  ServiceRegistry,
  Tags,
} from "./contract"

export function createEventBus(onListenerError: (name: string, e: unknown) => void): EventBus {
  const listeners = new Map<string, Array<(p: unknown) => void>>()
  return {
    on(name, listener) {
      const list = listeners.get(name) ?? []
      list.push(listener as (p: unknown) => void)
      listeners.set(name, list)
      return () => {
        const i = list.indexOf(listener as (p: unknown) => void)
        if (i >= 0) list.splice(i, 1)
      }
    },
    emit<K extends keyof LogbookEvents>(name: K, payload: LogbookEvents[K]) {
      const list = listeners.get(name)
      if (!list) return
      for (const l of list) {
        try {
          l(payload)
        } catch (e) {
          onListenerError(name, e)
        }
      }
    },
    has: (name) => (listeners.get(name)?.length ?? 0) > 0,
  }
}

export function createServiceRegistry(): ServiceRegistry {
  const services = new Map<string, unknown>()
  return {
    provide(name, impl) {
      if (services.has(name)) throw new Error(`service ${String(name)} is already provided`)
      services.set(name, impl)
    },
    get: <K extends keyof LogbookServices>(name: K) => services.get(name) as LogbookServices[K] | undefined,
  }
}

export const CHECK_NAME = /^[A-Za-z0-9_.-]{1,64}$/

export function createHealthRegistry(): HealthRegistry {
  const checks: HealthCheck[] = []
  const listeners: Array<(c: HealthCheck) => void> = []
  return {
    register(check, source) {
      if (!check || typeof check.check !== "function")
        throw new Error("a health check needs a check() function")
      if (!CHECK_NAME.test(check.name ?? ""))
        throw new Error(`health check name ${JSON.stringify(check.name)} must be 1–64 of A-Z a-z 0-9 _ . -`)
      const taken = checks.find((c) => c.name === check.name)
      if (taken)
        throw new Error(
          `health check "${check.name}" is already registered by ${taken.source ?? "another source"}`,
        )
      const c = { ...check, source: source ?? check.source ?? "core" }
      checks.push(c)
      for (const l of listeners) l(c)
    },
    list: () => checks,
    onRegister(listener) {
      listeners.push(listener)
      for (const c of checks) listener(c)
    },
  }
}

/** The metrics fan-out: the core's `Metrics`, and `forPlugin(id)` for each plugin's `ctx.metrics` (same sinks, told the id). */
export function createMetrics(): Metrics & { forPlugin(pluginId: string): Metrics } {
  const sinks: MetricsSink[] = []
  const metricsOf = (plugin: string | undefined): Metrics => {
    const metrics: Metrics = {
      increment(name, tags, value = 1) {
        for (const s of sinks) s.increment(name, value, tags, plugin)
      },
      gauge(name, value, tags) {
        for (const s of sinks) s.gauge(name, value, tags, plugin)
      },
      timer(name, ms, tags) {
        for (const s of sinks) s.timer(name, ms, tags, plugin)
      },
      async time<T>(name: string, fn: () => Promise<T> | T, tags?: Tags): Promise<T> {
        const t0 = performance.now()
        try {
          return await fn()
        } finally {
          metrics.timer(name, performance.now() - t0, tags)
        }
      },
      addSink(sink) {
        sinks.push(sink)
      },
    }
    return metrics
  }
  return { ...metricsOf(undefined), forPlugin: metricsOf }
}

/**
 * A plugin's `ctx.writer`: the shared group-commit writer, counting the rows each plugin gets committed
 * (`ingest.rows` by table, through that plugin's `ctx.metrics`, so every output sees them per plugin).
 */
export function countingWriter(writer: Writer, metrics: Metrics): Writer {
  return {
    ...writer,
    async insert(op) {
      const ids = await writer.insert(op)
      metrics.increment("ingest.rows", { table: op.table }, op.rows.length)
      return ids
    },
  }
}
