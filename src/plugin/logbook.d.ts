// Types for drop-in plugin files: `import { defineHealthCheck } from "logbook"`.
// Written next to your drop-ins by `logbook types`. Kept in step with src/plugin/contract.ts by a
// type-level test (test/core-types.test.ts).
declare module "logbook" {
  export type CheckStatus = "pass" | "warn" | "fail"
  export interface CheckResult {
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
    check(): Promise<CheckResult | undefined | void> | CheckResult | undefined | void
    level?: number
    groups?: string[]
    critical?: boolean
    timeoutMs?: number
    cacheTtlMs?: number
    intervalMs?: number
    componentType?: "component" | "datastore" | "system"
  }
  export interface Logger {
    trace(msg: string, fields?: Record<string, unknown>): void
    debug(msg: string, fields?: Record<string, unknown>): void
    info(msg: string, fields?: Record<string, unknown>): void
    warning(msg: string, fields?: Record<string, unknown>): void
    error(msg: string, fields?: Record<string, unknown>): void
    critical(msg: string, fields?: Record<string, unknown>): void
  }
  export interface ChangeInput {
    category: string
    description: string
    criticality?: number
    timestamp?: number
    service?: string
    environment?: string
    author?: string
    url?: string
    tags?: Record<string, string>
  }
  export interface Html {
    readonly value: string
  }
  export type Role = "read" | "ingest" | "admin"
  export interface Principal {
    name: string
    roles: ReadonlySet<Role>
    via: "anonymous" | "token" | "admin-token" | "session"
  }
  /** SQL with `?` placeholders on both dialects; user values only ever as parameters. */
  export interface Db {
    readonly dialect: "sqlite" | "postgres"
    all<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>
    get<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T | undefined>
    run(sql: string, params?: readonly unknown[]): Promise<number>
    transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>
  }
  export interface Migration {
    id: string
    sqlite: string
    postgres: string
  }
  /** The group-commit writer: resolves after commit; rejects with a "full" error (→ 503) under overload. */
  export interface Writer {
    insert(op: {
      table: string
      columns: readonly string[]
      rows: readonly (readonly unknown[])[]
      returning?: string
      suffix?: string
    }): Promise<unknown[]>
    run<T>(fn: (tx: Db) => Promise<T>): Promise<T>
  }
  export interface PluginContext {
    readonly pluginId: string
    readonly db: Db
    readonly writer: Writer
    readonly log: Logger
    logger(name: string): Logger
    now(): number
    readonly instanceId: string
    readonly version: string
    readonly changes: { record(input: ChangeInput & { source?: string }): Promise<void> }
    readonly metrics: {
      increment(name: string, tags?: Record<string, string | number>, value?: number): void
      gauge(name: string, value: number, tags?: Record<string, string | number>): void
      timer(name: string, ms: number, tags?: Record<string, string | number>): void
      time<T>(name: string, fn: () => Promise<T> | T, tags?: Record<string, string | number>): Promise<T>
    }
    readonly health: { register(check: HealthCheck): void }
    readonly auth: {
      principal(request: Request): Promise<Principal>
      /** beforeHandle: 401 anonymous, 403 without the role (CSRF checked for cookie sessions). */
      need(role: Role): (c: { request: Request; body?: unknown }) => Promise<void>
    }
    readonly ui: {
      page(
        request: Request,
        opts: {
          title: string
          body: Html
          active?: string
          status?: number
          headers?: Record<string, string>
        },
      ): Promise<Response>
      fragment(body: Html, init?: ResponseInit): Response
      csrfToken(request: Request): Promise<string>
    }
  }
  export interface LogbookPlugin {
    id: string
    title: string
    description?: string
    requires?: string[]
    after?: string[]
    nav?: Array<{ title: string; href: string; order?: number }>
    widgets?: Array<{ id: string; title: string; url: string; trigger?: string; order?: number }>
    /** Tables prefixed with the plugin id; applied at start-up. */
    migrations?: Migration[]
    scripts?: string[]
    styles?: string[]
    setup?(ctx: PluginContext): void | Promise<void>
    // biome-ignore lint/suspicious/noExplicitAny: an Elysia instance from this module's `Elysia`
    routes?(ctx: PluginContext): any
    checks?(ctx: PluginContext): HealthCheck[]
    jobs?(
      ctx: PluginContext,
    ): Array<{ name: string; intervalMs: number; runAtStart?: boolean; run(): Promise<void> | void }>
    start?(ctx: PluginContext): void | Promise<void>
    stop?(ctx: PluginContext): void | Promise<void>
  }
  export function defineHealthCheck(check: HealthCheck): HealthCheck
  export function definePlugin(plugin: LogbookPlugin): LogbookPlugin
  export function html(strings: TemplateStringsArray, ...values: unknown[]): Html
  export function unsafeRaw(markup: string): Html
  export function escapeHtml(text: string): string
  // biome-ignore lint/suspicious/noExplicitAny: the host's Elysia class and TypeBox builder
  export const Elysia: any
  // biome-ignore lint/suspicious/noExplicitAny: see above
  export const t: any
}
