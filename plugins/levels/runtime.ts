/**
 * What the routes share: the service, the applier, and the views computed from them (logger tree with
 * sources, the desired set for a remote app). Built once per app in `setup` and offered as service
 * "levels" (tests reach it through `host.services.get("levels")` to trigger a recomputation after moving
 * the fixed clock).
 */
import type { LevelName } from "../../src/log"
import type { PluginContext } from "../../src/plugin/contract"
import type { Applier } from "./apply"
import { pythonLevelNo, pythonName } from "./levels"
import type { Winner } from "./precedence"
import { type InstanceRow, type LevelsService, listInstances } from "./service"

export interface LevelsRuntime {
  service: LevelsService
  applier: Applier
  settings: LevelsSettings
  /** Logger rows of a target as this instance sees it. */
  loggers(target: string): LoggerView[]
  /** Remote apps named by any override or trigger. */
  targets(): string[]
  desired(app: string, instance: string | null): Desired
  instances(): Promise<{ instances: InstanceRow[]; version: number; applied: number; total: number }>
}

export interface LevelsSettings {
  resyncSeconds: number
  sqlitePollMs: number
  instanceSeenSeconds: number
  maxWaitSeconds: number
  c2cSecretParam: boolean
}

declare module "../../src/plugin/contract" {
  interface LogbookServices {
    levels: LevelsRuntime
  }
}

export interface LoggerView {
  name: string
  /** Level configured on this very name (override/profile, or the configured root level), else null. */
  configured: LevelName | null
  effective: LevelName | null
  /** Where the effective level comes from. */
  source: "config" | "override" | "profile" | "inherited" | "default"
  /** The logger whose setting applies (itself, or the ancestor it inherits from). */
  from: string
  winner?: Winner
}

export interface Desired {
  app: string
  version: number
  levels: Record<string, { level: string; levelno: number; expires_at: string | null; source: string }>
  next_change_at: string | null
}

const parentOf = (name: string) => {
  if (name === "root") return null
  const i = name.lastIndexOf(".")
  return i < 0 ? "root" : name.slice(0, i)
}

export function createRuntime(
  ctx: PluginContext,
  service: LevelsService,
  applier: Applier,
  settings: LevelsSettings,
): LevelsRuntime {
  const rootConfigured = ctx.config.logLevel as LevelName

  function loggers(target: string): LoggerView[] {
    const isSelf = target === "logbook"
    const winners = applier.winners(target, isSelf ? ctx.instanceId : null)
    const st = applier.state()
    const names = new Set<string>(["root"])
    if (isSelf) for (const n of ctx.logLevels.known()) names.add(n)
    for (const o of st.overrides) if (o.target === target) names.add(o.logger)
    for (const tr of st.triggers)
      if (tr.target === target)
        for (const n of Object.keys(st.profiles.find((p) => p.name === tr.profile)?.levels ?? {}))
          names.add(n)
    for (const n of winners.keys()) names.add(n)
    // every ancestor too, so the tree has no gaps
    for (const n of [...names]) for (let p = parentOf(n); p !== null; p = parentOf(p)) names.add(p)
    return [...names]
      .sort((a, b) => (a === "root" ? -1 : b === "root" ? 1 : a.localeCompare(b)))
      .map((name): LoggerView => {
        for (let n: string | null = name; n !== null; n = parentOf(n)) {
          const w = winners.get(n)
          if (w)
            return {
              name,
              configured: n === name ? w.level : null,
              effective: w.level,
              source: n === name ? w.source : "inherited",
              from: n,
              winner: w,
            }
        }
        if (!isSelf) return { name, configured: null, effective: null, source: "default", from: "root" }
        return {
          name,
          configured: name === "root" ? rootConfigured : null,
          effective: rootConfigured,
          source: name === "root" ? "config" : "inherited",
          from: "root",
        }
      })
  }

  function targets(): string[] {
    const st = applier.state()
    const set = new Set<string>()
    for (const o of st.overrides) if (o.target !== "logbook") set.add(o.target)
    for (const tr of st.triggers) if (tr.target !== "logbook") set.add(tr.target)
    return [...set].sort()
  }

  function desired(app: string, instance: string | null): Desired {
    const t = ctx.now()
    const winners = applier.winners(app, instance, t)
    const levels: Desired["levels"] = {}
    for (const [name, w] of [...winners].sort(([a], [b]) => a.localeCompare(b)))
      levels[name] = {
        level: pythonName(w.level),
        levelno: pythonLevelNo(w.level),
        expires_at: w.until === null ? null : new Date(w.until).toISOString(),
        source: w.source === "override" ? `override #${w.id}` : `profile ${w.profile}`,
      }
    // the next instant at which this app's set may change (any boundary: cheap and safe)
    const st = applier.state()
    let next: number | null = null
    for (const o of st.overrides)
      if (o.target === app && o.revoked_at === null)
        for (const x of [o.starts_at, o.expires_at])
          if (x !== null && x > t && (next === null || x < next)) next = x
    for (const w of winners.values())
      if (w.until !== null && w.until > t && (next === null || w.until < next)) next = w.until
    return {
      app,
      version: applier.version(),
      levels,
      next_change_at: next === null ? null : new Date(next).toISOString(),
    }
  }

  async function instances() {
    const rows = await listInstances(ctx.db, ctx.now() - settings.instanceSeenSeconds * 1000)
    const version = applier.version()
    return {
      instances: rows,
      version,
      applied: rows.filter((r) => r.applied_version >= version).length,
      total: rows.length,
    }
  }

  return { service, applier, settings, loggers, targets, desired, instances }
}
