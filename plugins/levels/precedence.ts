/**
 * Pure arithmetic of run-time levels: which stored overrides and profile triggers are active at an
 * instant, which one wins for each logger, and when the answer next changes. No clock, no database:
 * every function takes the instant `t` (epoch ms), so tests use fixed instants and the applier uses the
 * planned instant of its timer.
 *
 * Windows are half-open: active iff start ≤ t < end (a null end is permanent).
 *
 * The precedence rule (one rule, applied identically at every recomputation, on every instance):
 *  1. the most specific logger name decides — each logger gets its own winner and the tree inherits from
 *     the nearest configured ancestor, so an entry on `app.db` beats one on `app` for `app.db.pool`;
 *  2. among candidates for the same logger: an instance-scoped one over one for all instances,
 *  3. then the latest start,
 *  4. then the highest id (an override beats a profile entry on an exact tie of scope and start, since
 *     override and trigger ids come from different tables).
 * Profiles applied by triggers overlay by default (they only add their loggers). A trigger in "replace"
 * mode also removes, while it is active, every candidate that ranks below it — for loggers outside its
 * profile too — so the target falls back to its configuration except for what the profile (or anything
 * ranking above it) sets.
 */
import type { LevelName } from "./levels"

export type Scope = "all" | string

export interface OverrideRow {
  id: number
  target: string
  logger: string
  level: LevelName
  starts_at: number
  expires_at: number | null
  scope: Scope
  actor: string
  reason: string
  revoked_at: number | null
}

export interface Recurrence {
  every: "daily"
  /** Local wall-clock "HH:MM"; `to` ≤ `from` means the window ends the next day (22:00–06:00). */
  from: string
  to: string
  /** IANA time zone, e.g. "Europe/Zurich" or "UTC". */
  tz: string
  /** Days of the week the window starts on (0 = Sunday); all when absent. */
  days?: number[]
}

export interface TriggerRow {
  id: number
  profile: string
  target: string
  scope: Scope
  /** One window [starts_at, ends_at), or the period in which a recurring window repeats; null = unbounded. */
  starts_at: number | null
  ends_at: number | null
  recurrence: Recurrence | null
  mode: "overlay" | "replace"
  active: boolean
}

export interface ProfileRow {
  name: string
  levels: Record<string, LevelName>
}

export interface LevelState {
  overrides: readonly OverrideRow[]
  triggers: readonly TriggerRow[]
  profiles: readonly ProfileRow[]
}

export interface Winner {
  level: LevelName
  source: "override" | "profile"
  /** Override id or trigger id. */
  id: number
  profile?: string
  scope: Scope
  startsAt: number
  /** End of the window that makes it active (null = permanent). */
  until: number | null
  actor?: string
  reason?: string
}

export const overrideActive = (o: OverrideRow, t: number): boolean =>
  o.revoked_at === null && o.starts_at <= t && (o.expires_at === null || t < o.expires_at)

const appliesTo = (scope: Scope, instance: string | null): boolean =>
  scope === "all" || (instance !== null && scope === instance)

// ---- time zones ------------------------------------------------------------------------------------

const formatters = new Map<string, Intl.DateTimeFormat>()
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz)
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    })
    formatters.set(tz, f)
  }
  return f
}

/** Throws RangeError for an unknown zone. */
export function checkTimeZone(tz: string): void {
  formatter(tz)
}

interface LocalTime {
  y: number
  m: number
  d: number
  hh: number
  mm: number
  ss: number
}

function localParts(ms: number, tz: string): LocalTime {
  const p: Record<string, number> = {}
  for (const part of formatter(tz).formatToParts(new Date(ms)))
    if (part.type !== "literal") p[part.type] = Number(part.value)
  return { y: p.year, m: p.month, d: p.day, hh: p.hour, mm: p.minute, ss: p.second }
}

/** Offset of the zone at an instant, in ms (local − UTC). */
function offsetAt(ms: number, tz: string): number {
  const l = localParts(ms, tz)
  return Date.UTC(l.y, l.m - 1, l.d, l.hh, l.mm, l.ss) - Math.floor(ms / 1000) * 1000
}

/** The instant of a local wall-clock time (a time skipped by a DST jump maps to just after the jump). */
export function zonedInstant(y: number, m: number, d: number, hh: number, mm: number, tz: string): number {
  const wall = Date.UTC(y, m - 1, d, hh, mm)
  let t = wall - offsetAt(wall, tz)
  const again = wall - offsetAt(t, tz)
  if (again !== t) t = Math.max(t, again)
  return t
}

const hhmm = (s: string): [number, number] => {
  const [h, m] = s.split(":").map(Number)
  return [h, m]
}

/** Recurring windows whose start day lies in [from day − 1, from day + days], clipped to the trigger's period. */
function recurringWindows(tr: TriggerRow, around: number, days: number): Array<[number, number]> {
  const r = tr.recurrence as Recurrence
  const base = localParts(around, r.tz)
  const [fh, fm] = hhmm(r.from)
  const [th, tm] = hhmm(r.to)
  const overnight = th * 60 + tm <= fh * 60 + fm
  const out: Array<[number, number]> = []
  for (let k = -1; k <= days; k++) {
    const day = new Date(Date.UTC(base.y, base.m - 1, base.d + k))
    if (r.days && !r.days.includes(day.getUTCDay())) continue
    const [y, m, d] = [day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate()]
    const start = zonedInstant(y, m, d, fh, fm, r.tz)
    const endDay = new Date(Date.UTC(y, m - 1, d + (overnight ? 1 : 0)))
    const end = zonedInstant(
      endDay.getUTCFullYear(),
      endDay.getUTCMonth() + 1,
      endDay.getUTCDate(),
      th,
      tm,
      r.tz,
    )
    const s = Math.max(start, tr.starts_at ?? start)
    const e = Math.min(end, tr.ends_at ?? end)
    if (s < e) out.push([s, e])
  }
  return out
}

/** The window of the trigger that contains t, or null when the trigger is not in effect at t. */
export function triggerWindowAt(tr: TriggerRow, t: number): [number, number | null] | null {
  if (!tr.active) return null
  if (!tr.recurrence) {
    const s = tr.starts_at ?? Number.NEGATIVE_INFINITY
    return s <= t && (tr.ends_at === null || t < tr.ends_at) ? [s, tr.ends_at] : null
  }
  for (const [s, e] of recurringWindows(tr, t, 0)) if (s <= t && t < e) return [s, e]
  return null
}

// ---- precedence ------------------------------------------------------------------------------------

/** > 0 when a outranks b. */
export function compareCandidates(a: Winner, b: Winner): number {
  const sa = a.scope === "all" ? 0 : 1
  const sb = b.scope === "all" ? 0 : 1
  if (sa !== sb) return sa - sb
  if (a.startsAt !== b.startsAt) return a.startsAt - b.startsAt
  if (a.id !== b.id) return a.id - b.id
  return (a.source === "override" ? 1 : 0) - (b.source === "override" ? 1 : 0)
}

/**
 * The winning level per logger for `target` on `instance` (null = as seen by no particular instance:
 * only "all" scoped entries) at instant t.
 */
export function effectiveAt(
  state: LevelState,
  target: string,
  instance: string | null,
  t: number,
): Map<string, Winner> {
  const candidates: Array<{ logger: string; w: Winner }> = []
  const replacers: Winner[] = []
  for (const o of state.overrides) {
    if (o.target !== target || !appliesTo(o.scope, instance) || !overrideActive(o, t)) continue
    candidates.push({
      logger: o.logger,
      w: {
        level: o.level,
        source: "override",
        id: o.id,
        scope: o.scope,
        startsAt: o.starts_at,
        until: o.expires_at,
        actor: o.actor,
        reason: o.reason,
      },
    })
  }
  const profiles = new Map(state.profiles.map((p) => [p.name, p]))
  for (const tr of state.triggers) {
    if (tr.target !== target || !appliesTo(tr.scope, instance)) continue
    const win = triggerWindowAt(tr, t)
    const profile = profiles.get(tr.profile)
    if (!win || !profile) continue
    const base = {
      source: "profile" as const,
      id: tr.id,
      profile: tr.profile,
      scope: tr.scope,
      startsAt: win[0],
      until: win[1],
    }
    if (tr.mode === "replace") replacers.push({ ...base, level: "info" })
    for (const [logger, level] of Object.entries(profile.levels))
      candidates.push({ logger, w: { ...base, level } })
  }
  const floor = replacers.reduce<Winner | null>(
    (best, r) => (best === null || compareCandidates(r, best) > 0 ? r : best),
    null,
  )
  const out = new Map<string, Winner>()
  for (const { logger, w } of candidates) {
    if (floor && compareCandidates(w, floor) < 0) continue
    const cur = out.get(logger)
    if (!cur || compareCandidates(w, cur) > 0) out.set(logger, w)
  }
  return out
}

/** The next instant after t at which any override or trigger starts or ends (null: nothing planned). */
export function nextBoundary(state: LevelState, t: number): number | null {
  let next = Number.POSITIVE_INFINITY
  const consider = (x: number | null) => {
    if (x !== null && x > t && x < next) next = x
  }
  for (const o of state.overrides) {
    if (o.revoked_at !== null) continue
    consider(o.starts_at)
    consider(o.expires_at)
  }
  for (const tr of state.triggers) {
    if (!tr.active) continue
    if (!tr.recurrence) {
      consider(tr.starts_at)
      consider(tr.ends_at)
      continue
    }
    // windows start at most once a day: the next 8 days always hold the next boundary if there is one
    const from = Math.max(t, tr.starts_at ?? t)
    if (tr.ends_at !== null && from >= tr.ends_at) continue
    for (const [s, e] of recurringWindows(tr, from, 8)) {
      consider(s)
      consider(e)
    }
  }
  return Number.isFinite(next) ? next : null
}

/** The level a logger ends up with through the tree: its own winner, else the nearest ancestor's, else base. */
export function treeLevel<B extends string>(
  winners: ReadonlyMap<string, Winner>,
  logger: string,
  base: B,
): LevelName | B {
  let name = logger
  for (;;) {
    const w = winners.get(name)
    if (w) return w.level
    if (name === "root") return base
    const i = name.lastIndexOf(".")
    name = i < 0 ? "root" : name.slice(0, i)
  }
}
