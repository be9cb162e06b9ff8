/**
 * Drop-in plugins: every `*.ts` / `*.js` file in LOGBOOK_PLUGINS_DIR is imported at start-up. A file may
 * export (default or named) plugins from `definePlugin`, health checks from `defineHealthCheck` (alone or
 * in arrays), or a function that receives the drop-in API and returns those. A file that fails to import
 * is reported, not fatal (unless LOGBOOK_STRICT_PLUGINS=1, which the host enforces).
 */

import { existsSync, readdirSync } from "node:fs"
import { dirname, isAbsolute, join, resolve } from "node:path"
import { plugin as bunPlugin } from "bun"
import type { HealthCheck, LogbookPlugin } from "./contract"
import { dropInApi } from "./dropin-api"
import type { LoadFailure, PluginSource } from "./host"

let registered = false
function registerLogbookModule() {
  if (registered) return
  registered = true
  bunPlugin({
    name: "logbook-dropin-api",
    setup(build) {
      build.module("logbook", () => ({ exports: dropInApi, loader: "object" }))
    },
  })
}

export interface DropIns {
  plugins: PluginSource[]
  checks: Array<{ check: HealthCheck; source: string }>
  failures: LoadFailure[]
}

const isPlugin = (v: unknown): v is LogbookPlugin =>
  typeof v === "object" && v !== null && (v as { kind?: string }).kind === "logbook.plugin"
const isCheck = (v: unknown): v is HealthCheck =>
  typeof v === "object" && v !== null && (v as { kind?: string }).kind === "logbook.check"

/**
 * The drop-in directory: `dir` from the working directory; for the compiled binary, a relative `dir` that
 * does not exist there is looked up next to the executable too (`/opt/logbook/plugins.d` for
 * `/opt/logbook/logbook` started from anywhere).
 */
function dropInDir(dir: string): string | undefined {
  const abs = resolve(dir)
  if (existsSync(abs)) return abs
  if (Bun.isStandaloneExecutable && !isAbsolute(dir)) {
    const nextToBinary = resolve(dirname(process.execPath), dir)
    if (existsSync(nextToBinary)) return nextToBinary
  }
  return undefined
}

export async function loadDropIns(dir: string): Promise<DropIns> {
  const out: DropIns = { plugins: [], checks: [], failures: [] }
  const abs = dropInDir(dir)
  if (!abs) return out
  registerLogbookModule()
  const files = readdirSync(abs)
    .filter((f) => /\.(ts|js|mjs)$/.test(f) && !f.endsWith(".d.ts") && !f.startsWith("."))
    .sort()
  for (const f of files) {
    const path = join(abs, f)
    const source = `drop-in:${f}`
    try {
      const mod = (await import(path)) as Record<string, unknown>
      let found = 0
      const take = (v: unknown) => {
        if (Array.isArray(v)) for (const x of v) take(x)
        else if (isPlugin(v)) {
          out.plugins.push({ plugin: v, source })
          found++
        } else if (isCheck(v)) {
          out.checks.push({ check: v, source })
          found++
        }
      }
      for (const v of Object.values(mod))
        take(typeof v === "function" && !isPlugin(v) ? await v(dropInApi) : v)
      if (!found)
        out.failures.push({
          id: f,
          source,
          error: "exports no plugin (definePlugin) and no health check (defineHealthCheck)",
        })
    } catch (e) {
      out.failures.push({ id: f, source, error: (e as Error).stack ?? String(e) })
    }
  }
  return out
}
