/**
 * The plugin host: opens the database, applies migrations, orders the plugins, builds each plugin's
 * context, runs setup → checks → routes → start, schedules jobs, and tears everything down in order.
 * It knows plugins only through the contract.
 */
import { hostname } from "node:os"
import type { AnyElysia } from "elysia"
import { tokenMigrations } from "../auth/tokens"
import {
  ConfigError,
  type CoreConfig,
  coreSettings,
  describeSettings,
  readSettings,
  type SettingsSpec,
} from "../config"
import { type Db, openDatabase } from "../db/database"
import { type Migration, migrate } from "../db/migrate"
import { createWriter, type Writer } from "../db/writer"
import { type AuthService, createAuth, sessionSecret } from "../http/auth"
import { createLogging, type Logging } from "../log"
import { VERSION } from "../version"
import type {
  ChangeTimeline,
  EventBus,
  FastRoute,
  HealthRegistry,
  Job,
  LogbookPlugin,
  Metrics,
  NavEntry,
  PluginContext,
  PluginInfo,
  ServiceRegistry,
  Ui,
  Widget,
} from "./contract"
import { fastRouteKey } from "./contract"
import { diskCheck } from "./disk-check"
import {
  countingWriter,
  createEventBus,
  createHealthRegistry,
  createMetrics,
  createServiceRegistry,
} from "./registries"

/** LOGBOOK_* variables that are read outside the settings (tests, build). */
const NOT_SETTINGS = new Set(["LOGBOOK_TEST_DATABASE_URL", "LOGBOOK_RELEASE_ID"])

export interface PluginSource {
  plugin: LogbookPlugin
  source: string
}

export interface LoadFailure {
  id: string
  source: string
  error: string
}

export interface HostOptions {
  config: CoreConfig
  env: Record<string, string | undefined>
  plugins: PluginSource[]
  /** Failures from discovery (drop-ins that did not import), shown on the plugins page. */
  loadFailures?: LoadFailure[]
  /** Checks exported by drop-in files (not plugins). */
  dropInChecks?: Array<{ check: import("./contract").HealthCheck; source: string }>
  logging?: Logging
  db?: Db
  now?: () => number
  /** Build the UI helper for a host (provided by src/http so the host stays HTTP-agnostic). */
  ui: (host: Host) => Ui
}

export interface MountedPlugin {
  plugin: LogbookPlugin
  ctx: PluginContext
  info: PluginInfo
  routes?: AnyElysia
  fastRoutes?: Record<string, FastRoute>
}

export interface Host {
  config: CoreConfig
  db: Db
  writer: Writer
  logging: Logging
  auth: AuthService
  events: EventBus
  metrics: Metrics
  health: HealthRegistry
  services: ServiceRegistry
  now: () => number
  instanceId: string
  mounted: MountedPlugin[]
  infos: PluginInfo[]
  nav(): NavEntry[]
  widgets(): Widget[]
  scripts(): string[]
  styles(): string[]
  claimHome(query: URLSearchParams): string | undefined
  /** Start plugins and jobs. */
  start(): Promise<void>
  /** Stop jobs and plugins, drain the writer, close the database. */
  stop(): Promise<void>
}

/** Orders by `requires`/`after`; a missing requirement or a cycle fails the plugin(s) concerned. */
export function orderPlugins(list: PluginSource[]): { ordered: PluginSource[]; failed: LoadFailure[] } {
  const byId = new Map<string, PluginSource>()
  const failed: LoadFailure[] = []
  for (const p of list) {
    if (byId.has(p.plugin.id)) {
      failed.push({
        id: p.plugin.id,
        source: p.source,
        error: `duplicate plugin id "${p.plugin.id}" (also ${byId.get(p.plugin.id)?.source})`,
      })
      continue
    }
    byId.set(p.plugin.id, p)
  }
  const ordered: PluginSource[] = []
  const state = new Map<string, "visiting" | "done" | "failed">()
  const visit = (id: string, path: string[]): boolean => {
    const s = state.get(id)
    if (s === "done") return true
    if (s === "failed") return false
    const p = byId.get(id)
    if (!p) return false
    if (s === "visiting") {
      failed.push({ id, source: p.source, error: `dependency cycle: ${[...path, id].join(" → ")}` })
      state.set(id, "failed")
      return false
    }
    state.set(id, "visiting")
    for (const r of p.plugin.requires ?? []) {
      if (!byId.has(r) || !visit(r, [...path, id])) {
        if (state.get(id) !== "failed")
          failed.push({
            id,
            source: p.source,
            error: `requires plugin "${r}", which is ${byId.has(r) ? "not available" : "missing"}`,
          })
        state.set(id, "failed")
        return false
      }
    }
    for (const a of p.plugin.after ?? []) if (byId.has(a)) visit(a, [...path, id])
    state.set(id, "done")
    ordered.push(p)
    return true
  }
  for (const id of [...byId.keys()].sort()) visit(id, [])
  return { ordered, failed }
}

const routeList = (app: AnyElysia | undefined): string[] =>
  app ? app.routes.map((r) => `${r.method} ${r.path}`) : []

export async function createHost(opts: HostOptions): Promise<Host> {
  const { config } = opts
  const now = opts.now ?? Date.now
  const logging =
    opts.logging ?? createLogging({ rootLevel: config.logLevel as never, format: config.logFormat, now })
  const log = logging.logger("logbook.host")
  const strict = config.strictPlugins
  const instanceId = config.instanceId || `${hostname()}-${process.pid}`
  const infos: PluginInfo[] = []
  const fail = (f: LoadFailure) => {
    if (strict) throw new Error(`plugin ${f.id} (${f.source}) failed: ${f.error}`)
    log.error("plugin failed", { plugin: f.id, source: f.source, error: f.error })
    infos.push({
      id: f.id,
      title: f.id,
      source: f.source,
      status: "failed",
      error: f.error,
      routes: [],
      checks: [],
    })
  }
  for (const f of opts.loadFailures ?? []) fail(f)

  // settings first: a bad value stops start-up before anything is touched
  const settings = new Map<string, Record<string, unknown>>()
  const problems: string[] = []
  for (const { plugin } of opts.plugins) {
    try {
      settings.set(
        plugin.id,
        readSettings((plugin.settings ?? {}) as SettingsSpec, opts.env) as Record<string, unknown>,
      )
    } catch (e) {
      if (e instanceof ConfigError) problems.push(e.message)
      else throw e
    }
  }
  if (problems.length) throw new ConfigError(problems.join("\n"))
  for (const { plugin } of opts.plugins)
    if (plugin.settings && Object.keys(plugin.settings).length)
      log.info("plugin configuration", {
        plugin: plugin.id,
        settings: describeSettings(plugin.settings as SettingsSpec, settings.get(plugin.id) ?? {}),
      })
  // a misspelt variable would otherwise be ignored without a word
  const known = new Set(
    [coreSettings, ...opts.plugins.map((p) => p.plugin.settings ?? {})].flatMap((spec) =>
      Object.values(spec as SettingsSpec).map((s) => s.env),
    ),
  )
  const prefixes = opts.plugins.flatMap((p) => p.plugin.envPrefixes ?? [])
  const unknown = Object.keys(opts.env).filter(
    (k) =>
      k.startsWith("LOGBOOK_") &&
      !known.has(k) &&
      !NOT_SETTINGS.has(k) &&
      !prefixes.some((prefix) => k.startsWith(prefix) && k.length > prefix.length),
  )
  if (unknown.length)
    log.warning("unknown LOGBOOK_* variables (misspelt?) are ignored", { variables: unknown })

  const { ordered, failed } = orderPlugins(opts.plugins)
  for (const f of failed) fail(f)

  const db = opts.db ?? openDatabase(config.databaseUrl, config.dataDir)
  const events = createEventBus((name, e) => log.error("event listener failed", { event: name, error: e }))
  const migrations: Migration[] = [...tokenMigrations, ...ordered.flatMap((p) => p.plugin.migrations ?? [])]
  const applied = await migrate(db, migrations, now)
  if (applied.length) log.info("migrations applied", { ids: applied })

  const metrics = createMetrics()
  const writer = createWriter(db, {
    maxQueuedRows: config.writerQueueMax,
    onFlush: (rows, durationMs, queued) => {
      if (events.has("writer.flush")) events.emit("writer.flush", { rows, durationMs, queued })
    },
  })
  const auth = createAuth({ db, config, secret: await sessionSecret(db, config.secret), now })
  const health = createHealthRegistry()
  const services = createServiceRegistry()
  const changeLog = logging.logger("logbook.changes")
  const changes: ChangeTimeline = {
    async record(input) {
      const impl = services.get("changes")
      if (impl) return impl.record(input)
      changeLog.info("change (no changes plugin to store it)", { ...input })
    },
    between: async (from, to, o) => (await services.get("changes")?.between(from, to, o)) ?? [],
  }

  const mounted: MountedPlugin[] = []
  const host: Host = {
    config,
    db,
    writer,
    logging,
    auth,
    events,
    metrics,
    health,
    services,
    now,
    instanceId,
    mounted,
    infos,
    nav: () => mounted.flatMap((m) => m.plugin.nav ?? []).sort((a, b) => (a.order ?? 100) - (b.order ?? 100)),
    widgets: () =>
      mounted.flatMap((m) => m.plugin.widgets ?? []).sort((a, b) => (a.order ?? 100) - (b.order ?? 100)),
    scripts: () => mounted.flatMap((m) => m.plugin.scripts ?? []),
    styles: () => mounted.flatMap((m) => m.plugin.styles ?? []),
    claimHome(query) {
      for (const m of mounted) {
        const url = m.plugin.claimHome?.(query)
        if (url) return url
      }
      return undefined
    },
    start: async () => {},
    stop: async () => {},
  }
  const ui = opts.ui(host)

  const contextFor = (plugin: LogbookPlugin): PluginContext => ({
    pluginId: plugin.id,
    config,
    settings: settings.get(plugin.id) ?? {},
    db,
    writer: countingWriter(writer, metrics.forPlugin(plugin.id)),
    log: logging.logger(`logbook.plugin.${plugin.id}`),
    logger: (name) => logging.logger(name),
    logLevels: logging.levels,
    metrics: metrics.forPlugin(plugin.id),
    changes: {
      record: (input) => changes.record({ ...input, source: input.source ?? plugin.id }),
      between: changes.between,
    },
    health: {
      register: (check, source) => health.register(check, source ?? plugin.id),
      list: health.list,
      onRegister: health.onRegister,
    },
    events,
    services,
    auth,
    ui,
    now,
    instanceId,
    version: VERSION,
    plugins: () => infos,
  })

  // core checks: the database answers and its migrations are current; the data dir has room
  health.register(
    {
      name: "database",
      componentType: "datastore",
      groups: ["ready"],
      timeoutMs: 2000,
      async check() {
        const t0 = performance.now()
        // read-only: no CREATE TABLE IF NOT EXISTS (DDL, locks) on every probe
        const applied = new Set(
          (await db.all<{ id: string }>("SELECT id FROM logbook_migrations")).map((r) => r.id),
        )
        const missing = migrations.filter((m) => !applied.has(m.id))
        const ms = Math.round((performance.now() - t0) * 100) / 100
        if (missing.length)
          return { status: "fail", message: `migrations not applied: ${missing.map((m) => m.id).join(", ")}` }
        return {
          status: "pass",
          message: `${db.dialect} is available`,
          observedValue: ms,
          observedUnit: "ms",
        }
      },
    },
    "core",
  )
  if (db.dialect === "sqlite") health.register(diskCheck(config.dataDir), "core")
  for (const { check, source } of opts.dropInChecks ?? []) {
    try {
      health.register(check, source)
    } catch (e) {
      fail({ id: check?.name ?? "?", source, error: (e as Error).message })
    }
  }

  for (const { plugin, source } of ordered) {
    const ctx = contextFor(plugin)
    const info: PluginInfo = {
      id: plugin.id,
      title: plugin.title,
      source,
      status: "started",
      routes: [],
      checks: [],
    }
    try {
      await plugin.setup?.(ctx)
      for (const c of plugin.checks?.(ctx) ?? []) health.register(c, plugin.id)
      const routes = plugin.routes?.(ctx)
      const fastRoutes = plugin.fastRoutes?.(ctx)
      const fast = Object.keys(fastRoutes ?? {}).map((key) => {
        const { method, path } = fastRouteKey(key) // a malformed key fails this plugin, reported
        return `${method} ${path}`
      })
      info.routes = [...new Set([...fast, ...routeList(routes)])]
      info.checks = health
        .list()
        .filter((c) => c.source === plugin.id)
        .map((c) => c.name)
      mounted.push({ plugin, ctx, info, routes, fastRoutes })
      infos.push(info)
    } catch (e) {
      fail({ id: plugin.id, source, error: (e as Error).stack ?? String(e) })
    }
  }

  const timers: Array<ReturnType<typeof setInterval>> = []
  const runJob = (job: Job, owner: string) => {
    let running = false
    return async () => {
      if (running) return
      running = true
      try {
        await job.run()
      } catch (e) {
        logging.logger(`logbook.plugin.${owner}`).error("job failed", { job: job.name, error: e })
      } finally {
        running = false
      }
    }
  }

  host.start = async () => {
    for (const m of [...mounted]) {
      try {
        await m.plugin.start?.(m.ctx)
        for (const job of m.plugin.jobs?.(m.ctx) ?? []) {
          const run = runJob(job, m.plugin.id)
          if (job.runAtStart) void run()
          const t = setInterval(run, job.intervalMs)
          t.unref?.()
          timers.push(t)
        }
      } catch (e) {
        m.info.status = "failed"
        m.info.error = (e as Error).stack ?? String(e)
        if (strict) throw e
        log.error("plugin failed to start", { plugin: m.plugin.id, error: e })
      }
    }
  }
  let stopped = false
  host.stop = async () => {
    if (stopped) return
    stopped = true
    for (const t of timers) clearInterval(t)
    for (const m of [...mounted].reverse()) {
      try {
        await m.plugin.stop?.(m.ctx)
      } catch (e) {
        log.error("plugin failed to stop", { plugin: m.plugin.id, error: e })
      }
    }
    await writer.close()
    await db.close()
  }
  return host
}
