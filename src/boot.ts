/**
 * Boot: configuration → plugins (built-in + drop-ins) → host → app. Shared by `serve`, `check` and the
 * tests, so every entry point starts Logbook the same way.
 */
import builtins from "logbook:builtin-plugins"
import { type CoreConfig, coreSettings, readSettings } from "./config"
import type { Db } from "./db/database"
import { type App, createApp, createUi } from "./http/app"
import type { Logging } from "./log"
import type { LogbookPlugin } from "./plugin/contract"
import { loadDropIns } from "./plugin/dropins"
import { createHost, type Host, type PluginSource } from "./plugin/host"

export interface BootOptions {
  env?: Record<string, string | undefined>
  /** Explicit plugins instead of discovery (tests). */
  plugins?: LogbookPlugin[]
  /** Also load drop-ins when `plugins` is given. */
  dropIns?: boolean
  db?: Db
  logging?: Logging
  now?: () => number
}

export interface Booted {
  config: CoreConfig
  host: Host
  app: App
}

export function loadConfig(env: Record<string, string | undefined> = process.env): CoreConfig {
  return readSettings(coreSettings, env)
}

export async function boot(opts: BootOptions = {}): Promise<Booted> {
  const env = opts.env ?? process.env
  const config = loadConfig(env)
  const plugins: PluginSource[] = opts.plugins
    ? opts.plugins.map((plugin) => ({ plugin, source: "built-in" }))
    : [...builtins]
  const dropIns = !opts.plugins || opts.dropIns ? await loadDropIns(config.pluginsDir) : undefined
  if (dropIns) plugins.push(...dropIns.plugins)
  const host = await createHost({
    config,
    env,
    plugins,
    loadFailures: dropIns?.failures,
    dropInChecks: dropIns?.checks,
    db: opts.db,
    logging: opts.logging,
    now: opts.now,
    ui: createUi,
  })
  const app = createApp(host)
  return { config, host, app }
}
