/**
 * Boot: configuration → plugins (built-in + drop-ins) → host → app. Shared by `serve`, `check` and the
 * tests, so every entry point starts Logbook the same way.
 */
import { ConfigError, type CoreConfig, coreSettings, databaseUrlProblem, readSettings } from "./config"
import type { Db } from "./db/database"
import { type App, createApp, createUi } from "./http/app"
import type { Logging } from "./log"
import type { LogbookPlugin } from "./plugin/contract"
import { loadDropIns } from "./plugin/dropins"
import { createHost, type Host, type LoadFailure, type PluginSource } from "./plugin/host"

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
  const config = readSettings(coreSettings, env)
  const problem = databaseUrlProblem(config.databaseUrl)
  if (problem) throw new ConfigError(`LOGBOOK_DATABASE_URL=(redacted) is not valid: ${problem}`)
  return config
}

/**
 * The virtual module listing the built-in plugins: bundled into the binary by scripts/build.ts, registered
 * by the bunfig.toml preload for `bun run`/`bun test` — and registered here when Logbook is started from
 * another directory (`bun /path/to/src/main.ts`), where that bunfig.toml is not read.
 */
async function builtinList() {
  try {
    return (await import("logbook:builtin-plugins")).default
  } catch {
    await import("./plugin/builtin-preload")
    return (await import("logbook:builtin-plugins")).default
  }
}

/**
 * Imports every built-in plugin (discovered at build/preload time); a plugin whose import fails is
 * added to `failures` (shown as failed, or fatal with LOGBOOK_STRICT_PLUGINS=1) instead of throwing.
 */
export async function loadBuiltins(failures: LoadFailure[] = []): Promise<PluginSource[]> {
  const builtins = await builtinList()
  const out: PluginSource[] = []
  for (const b of builtins) {
    try {
      const mod = await b.load()
      if (!mod.default?.id) throw new Error("plugin.ts must `export default definePlugin({ id, title, … })`")
      out.push({ plugin: mod.default, source: b.source })
    } catch (e) {
      failures.push({ id: b.id, source: b.source, error: (e as Error).stack ?? String(e) })
    }
  }
  return out
}

export async function boot(opts: BootOptions = {}): Promise<Booted> {
  const env = opts.env ?? process.env
  const config = loadConfig(env)
  const loadFailures: LoadFailure[] = []
  const plugins: PluginSource[] = opts.plugins
    ? opts.plugins.map((plugin) => ({ plugin, source: "built-in" }))
    : await loadBuiltins(loadFailures)
  const dropIns = !opts.plugins || opts.dropIns ? await loadDropIns(config.pluginsDir) : undefined
  if (dropIns) {
    plugins.push(...dropIns.plugins)
    loadFailures.push(...dropIns.failures)
  }
  const host = await createHost({
    config,
    env,
    plugins,
    loadFailures,
    dropInChecks: dropIns?.checks,
    db: opts.db,
    logging: opts.logging,
    now: opts.now,
    ui: createUi,
  })
  const app = createApp(host)
  return { config, host, app }
}
