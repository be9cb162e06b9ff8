/**
 * The plugin contract: the one interface every plugin — built-in (plugins/<id>/plugin.ts) or drop-in
 * file — satisfies, and the context through which it reaches the host. Every capability is optional.
 * Plugins never import each other; they talk through the context (`ctx.changes.record`, `ctx.health`,
 * `ctx.metrics`, `ctx.events`, `ctx.services`). The core never imports a plugin.
 */
import type { AnyElysia } from "elysia"
import type { Html } from "../../views/html"
import type { CoreConfig, SettingsOf, SettingsSpec } from "../config"
import type { Db } from "../db/database"
import type { Migration } from "../db/migrate"
import type { Writer } from "../db/writer"
import type { Logger, LogLevels } from "../log"

export type Role = "read" | "ingest" | "admin"

export interface Principal {
  /** Token name, or "anonymous". */
  name: string
  roles: ReadonlySet<Role>
  via: "anonymous" | "token" | "admin-token" | "session"
  tokenId?: number
}

export interface NavEntry {
  title: string
  href: string
  /** Lower comes first; core entries use 0 and 1000. */
  order?: number
}

export interface Widget {
  id: string
  title: string
  /** Fragment URL fetched with hx-get. */
  url: string
  /** htmx trigger, default "load, every 30s". */
  trigger?: string
  order?: number
}

export interface Job {
  name: string
  intervalMs: number
  /** Run once right after start as well. */
  runAtStart?: boolean
  run(): Promise<void> | void
}

// ---- health --------------------------------------------------------------------------------------

export type CheckStatus = "pass" | "warn" | "fail"

/** What a check returns (or throws). Extra keys are passed through to every format. */
export interface CheckResult {
  /** panopticon style; `status` wins when both are given. */
  healthy?: boolean
  status?: CheckStatus
  message?: string
  observedValue?: unknown
  observedUnit?: string
  [extra: string]: unknown
}

export interface HealthCheck {
  name: string
  // biome-ignore lint/suspicious/noConfusingVoidType: a check may return nothing (= pass)
  check(): Promise<CheckResult | void> | CheckResult | void
  /** c2cwsgiutils level (default 1). */
  level?: number
  /** "live", "ready", "startup" or custom (default ["ready"]). */
  groups?: string[]
  /** A failing non-critical check yields "warn" (default true). */
  critical?: boolean
  /** Default 2000 ms. */
  timeoutMs?: number
  /** Reuse a result this long (default 0). */
  cacheTtlMs?: number
  /** Run in the background at this interval as well. */
  intervalMs?: number
  componentType?: "component" | "datastore" | "system"
  /** Set by the host: "core", a plugin id, or "drop-in:<file>". */
  source?: string
}

export interface HealthRegistry {
  /** Throws when the name is already taken. */
  register(check: HealthCheck, source?: string): void
  list(): readonly HealthCheck[]
  /** Called for each check registered from now on (and replayed for existing ones). */
  onRegister(listener: (check: HealthCheck) => void): void
}

// ---- changes -------------------------------------------------------------------------------------

export interface ChangeInput {
  category: string
  description: string
  /** 1 info, 2 notice, 3 warning, 4 error, 5 critical (default 1). */
  criticality?: number
  /** Epoch ms (default now). */
  timestamp?: number
  service?: string
  environment?: string
  author?: string
  url?: string
  tags?: Record<string, string>
}

/** A stored change event, as every plugin sees it. */
export interface ChangeEvent {
  id: number
  /** Epoch ms. */
  timestamp: number
  /** 1–5, or null when unknown (old clients may send null). */
  criticality: number | null
  category: string | null
  description: string | null
  /** "api" for events posted over HTTP, else the id of the plugin that recorded it. */
  source: string
  service: string | null
  environment: string | null
  author: string | null
  url: string | null
  tags: Record<string, string>
}

/** The change timeline, provided by the changes plugin as service "changes" and reached via ctx.changes. */
export interface ChangeTimeline {
  /** Puts an event on the change timeline. Resolves after commit. */
  record(input: ChangeInput & { source: string }): Promise<void>
  /** Events with from ≤ timestamp ≤ to (epoch ms), newest first. */
  between(
    fromMs: number,
    toMs: number,
    opts?: { limit?: number; minCriticality?: number },
  ): Promise<ChangeEvent[]>
}

// ---- metrics -------------------------------------------------------------------------------------

export type Tags = Record<string, string | number>

/** Receives every measurement; `plugin` is the id of the plugin whose `ctx.metrics` took it (none: the core). */
export interface MetricsSink {
  increment(name: string, value: number, tags?: Tags, plugin?: string): void
  gauge(name: string, value: number, tags?: Tags, plugin?: string): void
  timer(name: string, ms: number, tags?: Tags, plugin?: string): void
}

export interface Metrics {
  increment(name: string, tags?: Tags, value?: number): void
  gauge(name: string, value: number, tags?: Tags): void
  timer(name: string, ms: number, tags?: Tags): void
  time<T>(name: string, fn: () => Promise<T> | T, tags?: Tags): Promise<T>
  /** The metrics plugin (or a test) receives every measurement through a sink. */
  addSink(sink: MetricsSink): void
}

// ---- events --------------------------------------------------------------------------------------

/** Events between the core and plugins. Plugins add their own with `declare module`. */
export interface LogbookEvents {
  /** After each HTTP response: route is the template (`/api/v1/records/:id`), `_not_found` when unmatched. */
  "http.request": { method: string; route: string; status: number; durationMs: number; renderMs?: number }
  /** After each SQL statement (only when someone listens). */
  "db.statement": { sql: string; durationMs: number }
  "writer.flush": { rows: number; durationMs: number; queued: number }
  /** A page or fragment rendered by ctx.ui.page (layout included). */
  "ui.render": { title: string; durationMs: number }
  /** An unexpected error while handling a request (Sentry and metrics listen). */
  "http.error": { error: unknown; request: Request; requestId: string }
  /**
   * Shutdown has begun (SIGTERM/SIGINT): the server keeps answering for `drainMs`
   * (LOGBOOK_SHUTDOWN_DRAIN_SECONDS after SIGTERM, 0 otherwise), then stops accepting, lets requests in
   * flight finish and stops the plugins. Report "not ready" from now on, so load balancers stop sending first.
   */
  "server.draining": { signal: string; drainMs: number }
}

export interface EventBus {
  on<K extends keyof LogbookEvents>(name: K, listener: (payload: LogbookEvents[K]) => void): () => void
  emit<K extends keyof LogbookEvents>(name: K, payload: LogbookEvents[K]): void
  has(name: keyof LogbookEvents): boolean
}

// ---- services ------------------------------------------------------------------------------------

/** Services a plugin offers to others by name. Plugins add their own with `declare module`. */
export interface CheckOutcome {
  name: string
  status: CheckStatus
  message: string
  durationMs: number
}

/**
 * Services a plugin offers to others by name. The core names the ones it relies on (it never imports
 * their implementation); plugins may add their own with `declare module`.
 */
export interface LogbookServices {
  /** The change timeline (changes plugin). */
  changes: ChangeTimeline
  /** Runs health checks (health plugin); `logbook check` uses it when present. */
  health: { runAll(opts?: { group?: string }): Promise<CheckOutcome[]> }
}

export interface ServiceRegistry {
  provide<K extends keyof LogbookServices>(name: K, impl: LogbookServices[K]): void
  get<K extends keyof LogbookServices>(name: K): LogbookServices[K] | undefined
}

// ---- UI ------------------------------------------------------------------------------------------

export interface PageOptions {
  title: string
  body: Html
  /** href of the nav entry to highlight. */
  active?: string
  status?: number
  headers?: Record<string, string>
}

export interface Ui {
  /** Full page inside the layout, or only `body` when htmx asks for a fragment. */
  page(request: Request, opts: PageOptions): Promise<Response>
  /** An HTML fragment (no layout). */
  fragment(body: Html, init?: ResponseInit): Response
  /** The CSRF token for forms of the current session ("" when signed out). */
  csrfToken(request: Request): Promise<string>
}

export interface Auth {
  /** Who is calling (resolved once per request). */
  principal(request: Request): Promise<Principal>
  /**
   * An Elysia beforeHandle that refuses callers without `role`: 401 for anonymous callers, 403 for
   * callers signed in without the role; cookie-authenticated unsafe requests also need the CSRF token
   * (header, or the `_csrf` field of a form `body`).
   */
  need(role: Role): (c: { request: Request; body?: unknown }) => Promise<void>
}

// ---- the context ---------------------------------------------------------------------------------

export interface PluginInfo {
  id: string
  title: string
  source: string
  status: "started" | "failed"
  error?: string
  routes: string[]
  checks: string[]
}

export interface PluginContext<S extends SettingsSpec = SettingsSpec> {
  readonly pluginId: string
  readonly config: CoreConfig
  readonly settings: SettingsOf<S>
  readonly db: Db
  readonly writer: Writer
  /** `logbook.plugin.<id>` */
  readonly log: Logger
  logger(name: string): Logger
  readonly logLevels: LogLevels
  readonly metrics: Metrics
  /** Record on / read from the change timeline; `source` defaults to this plugin's id. No-op without the changes plugin. */
  readonly changes: {
    record(input: ChangeInput & { source?: string }): Promise<void>
    between: ChangeTimeline["between"]
  }
  readonly health: HealthRegistry
  readonly events: EventBus
  readonly services: ServiceRegistry
  readonly auth: Auth
  readonly ui: Ui
  /** Epoch ms (a fixed clock in tests). */
  now(): number
  readonly instanceId: string
  readonly version: string
  /** Every plugin known to the host with its state (for pages and health). */
  plugins(): readonly PluginInfo[]
}

export type FastRoute = (request: Request) => Response | Promise<Response>

/** A fast route's key: "/path" (GET and HEAD) or "POST /path". */
export function fastRouteKey(key: string): { method: "GET" | "POST"; path: string } {
  const m = /^(?:(GET|POST) )?(\/\S*)$/.exec(key)
  if (!m) throw new Error(`fast route ${JSON.stringify(key)}: expected "/path" or "POST /path"`)
  return { method: (m[1] as "GET" | "POST" | undefined) ?? "GET", path: m[2] as string }
}

export interface LogbookPlugin<S extends SettingsSpec = SettingsSpec> {
  kind?: "logbook.plugin"
  /** Route prefix, OpenAPI tag, table prefix, logger name. */
  id: string
  title: string
  description?: string
  /** Plugins that must be set up before this one; a missing one fails this plugin. */
  requires?: string[]
  /** Plugins to set up before this one when present. */
  after?: string[]
  settings?: S
  /**
   * Prefixes of LOGBOOK_* variables the plugin reads by pattern rather than as declared settings (e.g.
   * `LOGBOOK_STATSD_TAG_` for `LOGBOOK_STATSD_TAG_<NAME>`): not reported as unknown at start-up.
   */
  envPrefixes?: string[]
  migrations?: Migration[]
  nav?: NavEntry[]
  widgets?: Widget[]
  /** Script URLs (served by the plugin) included on every page. */
  scripts?: string[]
  /** Stylesheet URLs (served by the plugin) included on every page. */
  styles?: string[]
  /** Called for `/` with a query string: return a URL to redirect to when the query is this plugin's. */
  claimHome?(query: URLSearchParams): string | undefined
  /** Register providers, sinks and listeners; runs after migrations, before routes. */
  setup?(ctx: PluginContext<S>): void | Promise<void>
  routes?(ctx: PluginContext<S>): AnyElysia
  /**
   * Exact-path handlers answered before the router, for what is called thousands of times a second: probes
   * (`"/livez"`: GET and HEAD) and ingestion (`"POST /api/events"`). They skip Elysia (no hooks, no auth,
   * no body parsing, no schema) but still get the request id header and the `http.request` event. A fast
   * POST is given only the plain case — a Content-Length within LOGBOOK_MAX_BODY_BYTES, no Origin, no
   * session cookie; every other request (chunked, oversized, CORS, a browser session that needs the CSRF
   * check) goes through the router, so a POST fast route must have its twin in `routes` and answer alike.
   * Anything with path parameters belongs in `routes`.
   */
  fastRoutes?(ctx: PluginContext<S>): Record<string, FastRoute>
  /**
   * The 413 for a body over LOGBOOK_MAX_BODY_BYTES on this plugin's compatibility paths (exact path, any
   * method), in that surface's own error shape, given the limit. The core refuses such a body before any
   * route reads it (by its Content-Length, or counting a chunked one) and answers its JSON 413 on every
   * other path; either way with the request id, and measured under the route.
   */
  bodyTooLarge?: Record<string, (limitBytes: number) => Response>
  /**
   * The 503 for a full write queue (WriterFullError) on this plugin's compatibility paths (exact path, any
   * method), in that surface's own error shape, given the seconds to wait. The core answers it whether the
   * error comes through the router or a fast route, and sets Retry-After when the answer has none; every
   * other path gets the core's JSON 503 (`overloaded`).
   */
  overloaded?: Record<string, (retryAfterSeconds: number) => Response>
  checks?(ctx: PluginContext<S>): HealthCheck[]
  jobs?(ctx: PluginContext<S>): Job[]
  /** After every plugin's setup and routes, before the server listens. */
  start?(ctx: PluginContext<S>): void | Promise<void>
  /** On shutdown, before the writer drains. */
  stop?(ctx: PluginContext<S>): void | Promise<void>
}

export function definePlugin<S extends SettingsSpec = SettingsSpec>(
  plugin: LogbookPlugin<S>,
): LogbookPlugin<S> {
  return { ...plugin, kind: "logbook.plugin" }
}

export type DefinedHealthCheck = HealthCheck & { kind: "logbook.check" }
export function defineHealthCheck(check: HealthCheck): DefinedHealthCheck {
  return { ...check, kind: "logbook.check" }
}
