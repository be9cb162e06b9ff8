/**
 * Drop-in plugins: every `*.ts` / `*.js` file in LOGBOOK_PLUGINS_DIR is imported at start-up. A file may
 * export (default or named) plugins from `definePlugin`, health checks from `defineHealthCheck` (alone or
 * in arrays), or a function that receives the drop-in API and returns those. A file that fails to import
 * is reported, not fatal (unless LOGBOOK_STRICT_PLUGINS=1, which the host enforces).
 */

import { existsSync, readdirSync } from "node:fs"
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path"
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

/**
 * Where files for the drop-in directory `dir` belong: the directory start-up would load, or — when there
 * is none yet — next to the compiled binary for a relative `dir` (the working directory when run from
 * source). Creating `./plugins.d` in whatever directory a command ran from would shadow the one next to
 * the binary at the next start.
 */
export function dropInTarget(dir: string): string {
  const existing = dropInDir(dir)
  if (existing) return existing
  return Bun.isStandaloneExecutable && !isAbsolute(dir)
    ? resolve(dirname(process.execPath), dir)
    : resolve(dir)
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
      out.failures.push({ id: f, source, error: loadErrorText(e, abs) })
    }
  }
  return out
}

interface BuildPosition {
  file?: string
  line?: number
  column?: number
  lineText?: string
}
const positionOf = (e: unknown): BuildPosition | undefined =>
  typeof e === "object" && e !== null
    ? ((e as { position?: BuildPosition }).position ?? undefined)
    : undefined

/**
 * Why a drop-in could not be imported. A file Bun cannot build (a syntax error) throws an AggregateError
 * of BuildMessages, or one BuildMessage, without a stack: what went wrong, and where, is only in each
 * message and its `position`. The first line (all that non-admins see) is the first problem, with the
 * file relative to the drop-in directory; then every problem with its full path and the source line.
 */
export function loadErrorText(e: unknown, dir: string): string {
  const problems = (e instanceof AggregateError ? e.errors : [e]).filter((x) => positionOf(x))
  const messageOf = (x: unknown) => (x as Error)?.message ?? String(x)
  if (!problems.length)
    return e instanceof AggregateError
      ? [String(e), ...e.errors.map((x) => `  ${(x as Error)?.stack ?? String(x)}`)].join("\n")
      : ((e as Error)?.stack ?? String(e))
  const at = (p: BuildPosition, file = p.file ?? "?") => `${file}:${p.line ?? 0}:${p.column ?? 0}`
  const short = (file = "?") => {
    const rel = relative(dir, file)
    return rel.startsWith(`..${sep}`) || isAbsolute(rel) ? file.split(sep).at(-1) : rel
  }
  const first = problems[0]
  const p = positionOf(first) as BuildPosition
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : ""
  const lines = [`${at(p, short(p.file))}: ${messageOf(first)}${more}`]
  let shown = ""
  for (const x of problems) {
    const q = positionOf(x) as BuildPosition
    lines.push(`  at ${at(q)}: ${messageOf(x)}`)
    const source = `${q.file}:${q.line}`
    if (q.lineText !== undefined && source !== shown) lines.push(`    | ${q.lineText.slice(0, 200)}`)
    shown = source
  }
  return lines.join("\n")
}
