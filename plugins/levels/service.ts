/**
 * The levels plugin's data: validation, storage and history of overrides, profiles and triggers. Plain
 * functions over the database (no HTTP). Every change runs in one transaction that also bumps the
 * configuration version, writes the audit row and (PostgreSQL) sends NOTIFY, so other instances hear of
 * it at commit; `afterChange` then puts it on the change timeline and makes this instance re-apply.
 * Bad input throws ApiError(400/404/409) before anything is written.
 */
import type { Db } from "../../src/db/database"
import { ApiError, badRequest, notFound } from "../../src/http/errors"
import {
  formatDuration,
  INHERIT,
  isLoggerName,
  LevelError,
  type LevelName,
  normaliseLogger,
  parseConcreteLevel,
  parseDuration,
} from "./levels"
import {
  checkTimeZone,
  effectiveAt,
  type LevelState,
  type OverrideRow,
  type ProfileRow,
  type Recurrence,
  type TriggerRow,
  treeLevel,
} from "./precedence"

export const NOTIFY_CHANNEL = "logbook_levels"
export const DEFAULT_DURATION_MS = 30 * 60_000
const MAX_DURATION_MS = 366 * 86_400_000
const TARGET = /^[A-Za-z0-9_.-]{1,100}$/
const INSTANCE = /^[A-Za-z0-9_.:-]{1,64}$/
const PROFILE = /^[A-Za-z0-9_.-]{1,64}$/

/** Actions announced from inside a recomputation: they change no stored configuration. */
export const ANNOUNCED_ACTIONS = new Set(["expire", "trigger.start", "trigger.end"])

export interface ChangeNote {
  action: string
  target: string
  logger: string | null
  before: string | null
  after: string | null
  actor: string
  reason: string
  refId: number | null
  description: string
  /** When it happened (epoch ms); an expiry is dated at its expiry instant. */
  at: number
  criticality: number
}

export interface LevelsDeps {
  db: Db
  now(): number
  /** Level of a target's root when nothing overrides it: Logbook's configured root level; remote apps "NOTSET". */
  baseLevel(target: string): string
  afterChange(note: ChangeNote): Promise<void>
}

export interface Actor {
  name: string
  admin: boolean
}

export interface HistoryRow {
  id: number
  at: number
  action: string
  target: string
  logger: string | null
  before_level: string | null
  after_level: string | null
  actor: string
  reason: string
  ref_id: number | null
  description: string
}

export interface InstanceRow {
  instance_id: string
  applied_version: number
  applied_at: number
  last_seen: number
}

const json = <T>(v: unknown): T => (typeof v === "string" ? (JSON.parse(v) as T) : (v as T))
const jsonParam = (db: Db) => (db.dialect === "postgres" ? "?::jsonb" : "?")

const toOverride = (r: Record<string, unknown>): OverrideRow => ({
  id: Number(r.id),
  target: String(r.target),
  logger: String(r.logger),
  level: r.level as LevelName,
  starts_at: Number(r.starts_at),
  expires_at: r.expires_at === null ? null : Number(r.expires_at),
  scope: String(r.scope),
  actor: String(r.actor),
  reason: String(r.reason),
  revoked_at: r.revoked_at === null ? null : Number(r.revoked_at),
})

const toTrigger = (r: Record<string, unknown>): TriggerRow => ({
  id: Number(r.id),
  profile: String(r.profile),
  target: String(r.target),
  scope: String(r.scope),
  starts_at: r.starts_at === null ? null : Number(r.starts_at),
  ends_at: r.ends_at === null ? null : Number(r.ends_at),
  recurrence: r.recurrence === null ? null : json<Recurrence>(r.recurrence),
  mode: r.mode === "replace" ? "replace" : "overlay",
  active: Number(r.active) === 1,
})

export async function currentVersion(db: Db): Promise<number> {
  const r = await db.get<{ version: number }>("SELECT version FROM levels_version WHERE id = 1")
  return Number(r?.version ?? 0)
}

/** What the applier needs: live overrides (plus expired ones whose expiry is not yet announced), all triggers and profiles. */
export async function loadState(db: Db, now: number): Promise<{ state: LevelState; version: number }> {
  return db.transaction(async (tx) => {
    const version = await currentVersion(tx)
    const overrides = (
      await tx.all(
        "SELECT * FROM levels_overrides WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ? OR expiry_announced_at IS NULL) ORDER BY id",
        [now],
      )
    ).map(toOverride)
    const triggers = (await tx.all("SELECT * FROM levels_triggers ORDER BY id")).map(toTrigger)
    const profiles = (
      await tx.all<{ name: string; levels: unknown }>("SELECT name, levels FROM levels_profiles")
    ).map((p): ProfileRow => ({ name: p.name, levels: json<Record<string, LevelName>>(p.levels) }))
    return { state: { overrides, triggers, profiles }, version }
  })
}

async function bumpVersion(tx: Db): Promise<number> {
  const r = await tx.get<{ version: number }>(
    "UPDATE levels_version SET version = version + 1 WHERE id = 1 RETURNING version",
  )
  const version = Number(r?.version)
  if (tx.dialect === "postgres") await tx.run("SELECT pg_notify(?, ?)", [NOTIFY_CHANNEL, String(version)])
  return version
}

async function writeHistory(tx: Db, n: ChangeNote): Promise<void> {
  await tx.run(
    "INSERT INTO levels_history (at, action, target, logger, before_level, after_level, actor, reason, ref_id, description) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [n.at, n.action, n.target, n.logger, n.before, n.after, n.actor, n.reason, n.refId, n.description],
  )
}

// ---- input parsing ---------------------------------------------------------------------------------

/** Epoch ms or an ISO-8601 date-time string. */
export function parseInstant(v: unknown, field: string): number {
  if (typeof v === "number" && Number.isFinite(v)) return Math.round(v)
  if (typeof v === "string" && /^\d{4}-\d{2}-\d{2}T/.test(v)) {
    const ms = Date.parse(v)
    if (Number.isFinite(ms)) return ms
  }
  throw badRequest(`${field} must be epoch milliseconds or an ISO-8601 date-time (e.g. 2026-11-22T22:00:00Z)`)
}

function level(v: unknown, what = "level"): LevelName {
  try {
    return parseConcreteLevel(v)
  } catch (e) {
    if (e instanceof LevelError) {
      const inherit = v === null || (typeof v === "string" && v.trim().toLowerCase() === "notset")
      throw badRequest(
        inherit
          ? `${what}: NOTSET/null means "inherit": revoke the override instead of storing one`
          : `${what}: ${e.message}`,
        { allowed: e.allowed },
      )
    }
    throw e
  }
}

function loggerName(v: unknown): string {
  if (typeof v !== "string" || !isLoggerName(v.trim()))
    throw badRequest(
      `logger must be a dotted name like app.db (letters, digits, _ and -; "root" for the root logger), got ${JSON.stringify(v)}`,
    )
  return normaliseLogger(v.trim())
}

function target(v: unknown): string {
  const t = v === undefined || v === null || v === "" ? "logbook" : v
  if (typeof t !== "string" || !TARGET.test(t))
    throw badRequest(
      `target must be "logbook" or an app name (letters, digits, . _ -), got ${JSON.stringify(v)}`,
    )
  return t
}

function scope(v: unknown): string {
  const s = v === undefined || v === null || v === "" ? "all" : v
  if (typeof s !== "string" || (s !== "all" && !INSTANCE.test(s)))
    throw badRequest(`scope must be "all" or an instance id, got ${JSON.stringify(v)}`)
  return s
}

function reasonOf(v: unknown): string {
  if (v === undefined || v === null) return ""
  if (typeof v !== "string" || v.length > 1000)
    throw badRequest("reason must be text of at most 1000 characters")
  return v.trim()
}

export interface WindowInput {
  starts_at?: unknown
  expires_at?: unknown
  /** ISO-8601 (`PT30M`) or seconds. */
  duration?: unknown
  permanent?: boolean
}

/** [start, end) from the input; default: now for 30 minutes. Permanent needs an admin who asks for it. */
export function windowOf(w: WindowInput, now: number, actor: Actor): [number, number | null] {
  const given = [w.expires_at !== undefined, w.duration !== undefined, w.permanent === true].filter(Boolean)
  if (given.length > 1) throw badRequest("give at most one of expires_at, duration and permanent")
  const start =
    w.starts_at === undefined || w.starts_at === null ? now : parseInstant(w.starts_at, "starts_at")
  if (w.permanent === true) {
    if (!actor.admin) throw new ApiError(403, "forbidden", "a permanent level needs the admin role")
    return [start, null]
  }
  let end: number
  if (w.expires_at !== undefined) end = parseInstant(w.expires_at, "expires_at")
  else if (w.duration !== undefined) {
    const d = parseDuration(w.duration)
    if (d === null)
      throw badRequest(
        `duration must be ISO-8601 like PT30M or a number of seconds > 0, got ${JSON.stringify(w.duration)}`,
      )
    end = start + d
  } else end = start + DEFAULT_DURATION_MS
  if (end <= start) throw badRequest("the window is empty: expires_at must be after starts_at")
  if (end <= now) throw badRequest("the window is already over: expires_at must be in the future")
  if (end - start > MAX_DURATION_MS)
    throw badRequest("a window may last at most 366 days; use permanent: true")
  return [start, end]
}

// ---- overrides -------------------------------------------------------------------------------------

export interface OverrideInput extends WindowInput {
  target?: unknown
  logger: unknown
  level: unknown
  scope?: unknown
  reason?: unknown
}

export interface OverrideView extends OverrideRow {
  created_at: number
  revoked_by: string | null
  state: "scheduled" | "active" | "expired" | "revoked"
}

const stateOf = (o: OverrideRow, t: number): OverrideView["state"] =>
  o.revoked_at !== null
    ? "revoked"
    : o.starts_at > t
      ? "scheduled"
      : o.expires_at !== null && o.expires_at <= t
        ? "expired"
        : "active"

const scopeInstance = (s: string) => (s === "all" ? null : s)
const shown = (l: string) => (l === INHERIT ? "NOTSET" : l.toUpperCase())
const label = (target: string, logger: string) => (target === "logbook" ? logger : `${target} ${logger}`)

function describeWindow(start: number, end: number | null, now: number): string {
  const from = start > now ? ` from ${new Date(start).toISOString()}` : ""
  return end === null ? `${from} permanently` : `${from} for ${formatDuration(end - start)}`
}

export function createLevelsService(deps: LevelsDeps) {
  const { db, now } = deps

  /** The level `logger` has for the scope's view at t, through the tree. */
  const levelIn = (state: LevelState, t: string, scopeName: string, logger: string, at: number) =>
    treeLevel(effectiveAt(state, t, scopeInstance(scopeName), at), logger, deps.baseLevel(t))

  async function commit(note: ChangeNote, fn: (tx: Db) => Promise<number | null>): Promise<number | null> {
    const id = await db.transaction(async (tx) => {
      const ref = await fn(tx)
      await writeHistory(tx, { ...note, refId: note.refId ?? ref })
      await bumpVersion(tx)
      return ref
    })
    await deps.afterChange({ ...note, refId: note.refId ?? id })
    return id
  }

  async function getOverride(id: number): Promise<OverrideView | undefined> {
    const r = await db.get("SELECT * FROM levels_overrides WHERE id = ?", [id])
    if (!r) return undefined
    const o = toOverride(r)
    return {
      ...o,
      created_at: Number(r.created_at),
      revoked_by: (r.revoked_by as string) ?? null,
      state: stateOf(o, now()),
    }
  }

  async function createOverride(input: OverrideInput, actor: Actor): Promise<OverrideView> {
    const t = now()
    const tg = target(input.target)
    const logger = loggerName(input.logger)
    const lvl = level(input.level)
    const sc = scope(input.scope)
    const reason = reasonOf(input.reason)
    const [start, end] = windowOf(input, t, actor)
    const { state } = await loadState(db, t)
    const at = Math.max(start, t)
    const before = levelIn(state, tg, sc, logger, at)
    const draft: OverrideRow = {
      id: Number.MAX_SAFE_INTEGER,
      target: tg,
      logger,
      level: lvl,
      starts_at: start,
      expires_at: end,
      scope: sc,
      actor: actor.name,
      reason,
      revoked_at: null,
    }
    const after = levelIn({ ...state, overrides: [...state.overrides, draft] }, tg, sc, logger, at)
    const where = sc === "all" ? "" : ` on ${sc}`
    const id = await commit(
      {
        action: "create",
        target: tg,
        logger,
        before: shown(before),
        after: shown(after),
        actor: actor.name,
        reason,
        refId: null,
        at: t,
        criticality: 2,
        description: `${label(tg, logger)}: ${shown(before)} → ${shown(lvl)}${describeWindow(start, end, t)}${where} by ${actor.name}${reason ? `: ${reason}` : ""}`,
      },
      async (tx) => {
        const r = await tx.get<{ id: number }>(
          "INSERT INTO levels_overrides (target, logger, level, starts_at, expires_at, scope, actor, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
          [tg, logger, lvl, start, end, sc, actor.name, reason, t],
        )
        return Number(r?.id)
      },
    )
    return (await getOverride(Number(id))) as OverrideView
  }

  async function revokeOverride(id: number, actor: Actor, reasonIn?: unknown): Promise<OverrideView> {
    const reason = reasonOf(reasonIn)
    const o = await getOverride(id)
    if (!o) throw notFound(`no override ${id}`)
    if (o.state === "revoked" || o.state === "expired")
      throw new ApiError(409, "conflict", `override ${id} is already ${o.state}`)
    const t = now()
    const { state } = await loadState(db, t)
    const before = levelIn(state, o.target, o.scope, o.logger, t)
    const after = levelIn(
      { ...state, overrides: state.overrides.filter((x) => x.id !== id) },
      o.target,
      o.scope,
      o.logger,
      t,
    )
    await commit(
      {
        action: "revoke",
        target: o.target,
        logger: o.logger,
        before: shown(before),
        after: shown(after),
        actor: actor.name,
        reason,
        refId: id,
        at: t,
        criticality: 2,
        description: `${label(o.target, o.logger)}: ${shown(before)} → ${shown(after)}, override #${id} (${shown(o.level)}) revoked by ${actor.name}${reason ? `: ${reason}` : ""}`,
      },
      async (tx) => {
        const n = await tx.run(
          "UPDATE levels_overrides SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL",
          [t, actor.name, id],
        )
        if (n !== 1) throw new ApiError(409, "conflict", `override ${id} is already revoked`)
        return id
      },
    )
    return (await getOverride(id)) as OverrideView
  }

  /** Reset (Spring `{}`, c2c NOTSET): revokes every active or scheduled override of exactly this logger. */
  async function resetLogger(tg: string, logger: string, actor: Actor, reason?: unknown): Promise<number> {
    const t = now()
    const rows = await db.all<{ id: number }>(
      "SELECT id FROM levels_overrides WHERE target = ? AND logger = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) ORDER BY id",
      [tg, normaliseLogger(logger), t],
    )
    for (const r of rows) await revokeOverride(Number(r.id), actor, reason)
    return rows.length
  }

  async function listOverrides(opts: { target?: string; include?: "live" | "all"; limit?: number } = {}) {
    const t = now()
    const params: unknown[] = []
    let where = "1 = 1"
    if (opts.target) {
      where += " AND target = ?"
      params.push(opts.target)
    }
    if (opts.include !== "all") {
      where += " AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)"
      params.push(t)
    }
    params.push(Math.min(opts.limit ?? 500, 5000))
    const rows = await db.all(
      `SELECT * FROM levels_overrides WHERE ${where} ORDER BY id DESC LIMIT ?`,
      params,
    )
    return rows.map((r): OverrideView => {
      const o = toOverride(r)
      return {
        ...o,
        created_at: Number(r.created_at),
        revoked_by: (r.revoked_by as string) ?? null,
        state: stateOf(o, t),
      }
    })
  }

  /**
   * Announces expiries up to t exactly once across all instances: the conditional UPDATE lets one
   * instance win each row; the winner writes history and the change event (dated at the expiry).
   */
  async function announceExpiries(state: LevelState, t: number): Promise<number> {
    let n = 0
    for (const o of state.overrides) {
      if (o.revoked_at !== null || o.expires_at === null || o.expires_at > t) continue
      const exp = o.expires_at
      const before = levelIn(state, o.target, o.scope, o.logger, exp - 1)
      const after = levelIn(state, o.target, o.scope, o.logger, exp)
      const note: ChangeNote = {
        action: "expire",
        target: o.target,
        logger: o.logger,
        before: shown(before),
        after: shown(after),
        actor: "logbook",
        reason: o.reason,
        refId: o.id,
        at: exp,
        criticality: 1,
        description: `${label(o.target, o.logger)}: ${shown(before)} → ${shown(after)}, override #${o.id} (${shown(o.level)} by ${o.actor}) expired`,
      }
      const won = await db.transaction(async (tx) => {
        const changed = await tx.run(
          "UPDATE levels_overrides SET expiry_announced_at = ? WHERE id = ? AND expiry_announced_at IS NULL",
          [t, o.id],
        )
        if (changed === 1) await writeHistory(tx, note)
        return changed === 1
      })
      if (won) {
        n++
        await deps.afterChange(note)
      }
    }
    return n
  }

  /**
   * Announces that a trigger's window started or ended (once across instances: the primary key of
   * levels_trigger_events picks the winner), with the profile's loggers as the change.
   */
  async function announceTrigger(
    state: LevelState,
    tr: TriggerRow,
    kind: "start" | "end",
    windowStart: number,
    at: number,
  ): Promise<boolean> {
    const levels = state.profiles.find((p) => p.name === tr.profile)?.levels ?? {}
    const list = Object.entries(levels)
      .map(([k, v]) => `${k}=${shown(v)}`)
      .join(", ")
    const where = tr.target === "logbook" ? "Logbook" : tr.target
    const note: ChangeNote = {
      action: `trigger.${kind}`,
      target: tr.target,
      logger: null,
      before: kind === "start" ? null : list,
      after: kind === "start" ? list : null,
      actor: "logbook",
      reason: "",
      refId: tr.id,
      at,
      criticality: 1,
      description:
        kind === "start"
          ? `profile ${tr.profile} (${tr.mode}) now applies to ${where}: ${list} (trigger #${tr.id})`
          : `profile ${tr.profile} no longer applies to ${where} (trigger #${tr.id})`,
    }
    const won = await db.transaction(async (tx) => {
      const n = await tx.run(
        "INSERT INTO levels_trigger_events (trigger_id, window_start, kind, at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [tr.id, Number.isFinite(windowStart) ? windowStart : 0, kind, at],
      )
      if (n === 1) await writeHistory(tx, note)
      return n === 1
    })
    if (won) await deps.afterChange(note)
    return won
  }

  // ---- profiles and triggers -------------------------------------------------------------------

  async function saveProfile(
    input: { name: unknown; levels: unknown; description?: unknown },
    actor: Actor,
  ): Promise<ProfileRow> {
    if (typeof input.name !== "string" || !PROFILE.test(input.name))
      throw badRequest("name must be 1–64 letters, digits, . _ or -")
    if (!input.levels || typeof input.levels !== "object" || Array.isArray(input.levels))
      throw badRequest('levels must be an object of logger → level, e.g. {"app.db": "DEBUG"}')
    const entries = Object.entries(input.levels as Record<string, unknown>)
    if (entries.length === 0 || entries.length > 500) throw badRequest("levels must name 1 to 500 loggers")
    const levels: Record<string, LevelName> = {}
    for (const [k, v] of entries) levels[loggerName(k)] = level(v, `levels.${k}`)
    const description = reasonOf(input.description)
    const name = input.name
    const t = now()
    await commit(
      {
        action: "profile.save",
        target: "-",
        logger: null,
        before: null,
        after: JSON.stringify(levels),
        actor: actor.name,
        reason: description,
        refId: null,
        at: t,
        criticality: 1,
        description: `profile ${name} saved by ${actor.name}: ${Object.entries(levels)
          .map(([k, v]) => `${k}=${shown(v)}`)
          .join(", ")}`,
      },
      async (tx) => {
        const r = await tx.get<{ id: number }>(
          tx.dialect === "sqlite"
            ? "INSERT INTO levels_profiles (name, levels, description, updated_by, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET levels = excluded.levels, description = excluded.description, updated_by = excluded.updated_by, updated_at = excluded.updated_at RETURNING id"
            : `INSERT INTO levels_profiles (name, levels, description, updated_by, updated_at) VALUES (?, ${jsonParam(tx)}, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET levels = excluded.levels, description = excluded.description, updated_by = excluded.updated_by, updated_at = excluded.updated_at RETURNING id`,
          [name, JSON.stringify(levels), description, actor.name, t],
        )
        return Number(r?.id)
      },
    )
    return { name, levels }
  }

  async function deleteProfile(name: string, actor: Actor): Promise<void> {
    const p = await db.get("SELECT id FROM levels_profiles WHERE name = ?", [name])
    if (!p) throw notFound(`no profile ${name}`)
    await commit(
      {
        action: "profile.delete",
        target: "-",
        logger: null,
        before: null,
        after: null,
        actor: actor.name,
        reason: "",
        refId: Number(p.id),
        at: now(),
        criticality: 1,
        description: `profile ${name} and its triggers deleted by ${actor.name}`,
      },
      async (tx) => {
        await tx.run("DELETE FROM levels_triggers WHERE profile = ?", [name])
        await tx.run("DELETE FROM levels_profiles WHERE name = ?", [name])
        return null
      },
    )
  }

  async function listProfiles() {
    const rows = await db.all<Record<string, unknown>>("SELECT * FROM levels_profiles ORDER BY name")
    return rows.map((r) => ({
      name: String(r.name),
      levels: json<Record<string, LevelName>>(r.levels),
      description: String(r.description),
      updated_by: String(r.updated_by),
      updated_at: Number(r.updated_at),
    }))
  }

  function recurrence(v: unknown): Recurrence | null {
    if (v === undefined || v === null) return null
    const r = v as Partial<Recurrence>
    const hm = /^([01]\d|2[0-3]):[0-5]\d$/
    if (typeof v !== "object" || r.every !== "daily")
      throw badRequest(
        'recurrence must be {"every": "daily", "from": "22:00", "to": "06:00", "tz": "Europe/Zurich"}',
      )
    if (typeof r.from !== "string" || !hm.test(r.from) || typeof r.to !== "string" || !hm.test(r.to))
      throw badRequest("recurrence.from and recurrence.to must be HH:MM (24 h)")
    if (r.from === r.to) throw badRequest("recurrence.from and recurrence.to must differ")
    const tz = r.tz ?? "UTC"
    try {
      if (typeof tz !== "string") throw new RangeError()
      checkTimeZone(tz)
    } catch {
      throw badRequest(
        `recurrence.tz must be an IANA time zone like Europe/Zurich, got ${JSON.stringify(r.tz)}`,
      )
    }
    if (
      r.days !== undefined &&
      (!Array.isArray(r.days) ||
        r.days.length === 0 ||
        !r.days.every((d) => Number.isInteger(d) && d >= 0 && d <= 6))
    )
      throw badRequest("recurrence.days must be a non-empty list of weekdays 0 (Sunday) to 6")
    return {
      every: "daily",
      from: r.from,
      to: r.to,
      tz,
      ...(r.days ? { days: [...new Set(r.days)].sort() } : {}),
    }
  }

  async function createTrigger(
    input: WindowInput & {
      profile: unknown
      target?: unknown
      scope?: unknown
      recurrence?: unknown
      mode?: unknown
      active?: unknown
      reason?: unknown
      ends_at?: unknown
    },
    actor: Actor,
  ): Promise<TriggerRow> {
    if (typeof input.profile !== "string") throw badRequest("profile must name a saved profile")
    const profile = await db.get("SELECT name FROM levels_profiles WHERE name = ?", [input.profile])
    if (!profile) throw badRequest(`no profile named ${JSON.stringify(input.profile)}`)
    const tg = target(input.target)
    const sc = scope(input.scope)
    const rec = recurrence(input.recurrence)
    const mode = input.mode === undefined ? "overlay" : input.mode
    if (mode !== "overlay" && mode !== "replace")
      throw badRequest('mode must be "overlay" (default) or "replace"')
    const reason = reasonOf(input.reason)
    const t = now()
    let start: number | null
    let end: number | null
    const expires = input.ends_at ?? input.expires_at
    if (rec) {
      // a recurring trigger repeats within its optional period [starts_at, ends_at)
      start = input.starts_at == null ? null : parseInstant(input.starts_at, "starts_at")
      end = expires == null ? null : parseInstant(expires, "ends_at")
      if (start !== null && end !== null && end <= start) throw badRequest("ends_at must be after starts_at")
      if (end !== null && end <= t)
        throw badRequest("the period is already over: ends_at must be in the future")
    } else {
      ;[start, end] = windowOf({ ...input, expires_at: expires }, t, actor)
    }
    const active = input.active === undefined ? true : input.active === true
    let id = 0
    await commit(
      {
        action: "trigger.create",
        target: tg,
        logger: null,
        before: null,
        after: input.profile,
        actor: actor.name,
        reason,
        refId: null,
        at: t,
        criticality: 2,
        description: `profile ${input.profile} (${mode}) scheduled for ${tg === "logbook" ? "Logbook" : tg}${
          rec
            ? ` daily ${rec.from}–${rec.to} ${rec.tz}${rec.days ? ` on days ${rec.days.join(",")}` : ""}`
            : describeWindow(start ?? t, end, t)
        } by ${actor.name}${reason ? `: ${reason}` : ""}`,
      },
      async (tx) => {
        const r = await tx.get<{ id: number }>(
          `INSERT INTO levels_triggers (profile, target, scope, starts_at, ends_at, recurrence, mode, active, actor, reason, created_at) VALUES (?, ?, ?, ?, ?, ${jsonParam(tx)}, ?, ?, ?, ?, ?) RETURNING id`,
          [
            input.profile,
            tg,
            sc,
            start,
            end,
            rec ? JSON.stringify(rec) : null,
            mode,
            active ? 1 : 0,
            actor.name,
            reason,
            t,
          ],
        )
        id = Number(r?.id)
        return id
      },
    )
    return {
      id,
      profile: input.profile,
      target: tg,
      scope: sc,
      starts_at: start,
      ends_at: end,
      recurrence: rec,
      mode,
      active,
    }
  }

  /** One audited change of a trigger: history row, timeline event and the statement in one commit. */
  async function changeTrigger(
    id: number,
    actor: Actor,
    action: string,
    verb: string,
    statement: [string, unknown[]],
  ): Promise<void> {
    const r = await db.get("SELECT profile, target FROM levels_triggers WHERE id = ?", [id])
    if (!r) throw notFound(`no trigger ${id}`)
    await commit(
      {
        action,
        target: String(r.target),
        logger: null,
        before: null,
        after: null,
        actor: actor.name,
        reason: "",
        refId: id,
        at: now(),
        criticality: 2,
        description: `trigger #${id} (profile ${r.profile}) ${verb} by ${actor.name}`,
      },
      async (tx) => {
        await tx.run(...statement)
        return id
      },
    )
  }

  async function setTriggerActive(id: number, active: boolean, actor: Actor): Promise<TriggerRow> {
    await changeTrigger(
      id,
      actor,
      active ? "trigger.activate" : "trigger.deactivate",
      active ? "activated" : "deactivated",
      ["UPDATE levels_triggers SET active = ? WHERE id = ?", [active ? 1 : 0, id]],
    )
    return toTrigger(
      (await db.get("SELECT * FROM levels_triggers WHERE id = ?", [id])) as Record<string, unknown>,
    )
  }

  const deleteTrigger = (id: number, actor: Actor): Promise<void> =>
    changeTrigger(id, actor, "trigger.delete", "deleted", ["DELETE FROM levels_triggers WHERE id = ?", [id]])

  async function listTriggers(): Promise<
    Array<TriggerRow & { actor: string; reason: string; created_at: number }>
  > {
    const rows = await db.all("SELECT * FROM levels_triggers ORDER BY id DESC")
    return rows.map((r) => ({
      ...toTrigger(r),
      actor: String(r.actor),
      reason: String(r.reason),
      created_at: Number(r.created_at),
    }))
  }

  async function history(opts: { target?: string; limit?: number } = {}): Promise<HistoryRow[]> {
    const limit = Math.min(opts.limit ?? 200, 2000)
    const rows = opts.target
      ? await db.all("SELECT * FROM levels_history WHERE target = ? ORDER BY at DESC, id DESC LIMIT ?", [
          opts.target,
          limit,
        ])
      : await db.all("SELECT * FROM levels_history ORDER BY at DESC, id DESC LIMIT ?", [limit])
    return rows.map((r) => ({
      id: Number(r.id),
      at: Number(r.at),
      action: String(r.action),
      target: String(r.target),
      logger: (r.logger as string) ?? null,
      before_level: (r.before_level as string) ?? null,
      after_level: (r.after_level as string) ?? null,
      actor: String(r.actor),
      reason: String(r.reason),
      ref_id: r.ref_id === null ? null : Number(r.ref_id),
      description: String(r.description),
    }))
  }

  return {
    createOverride,
    revokeOverride,
    resetLogger,
    getOverride,
    listOverrides,
    announceExpiries,
    announceTrigger,
    saveProfile,
    deleteProfile,
    listProfiles,
    createTrigger,
    setTriggerActive,
    deleteTrigger,
    listTriggers,
    history,
  }
}

export type LevelsService = ReturnType<typeof createLevelsService>

// ---- per-instance applied state ------------------------------------------------------------------

export async function recordApplied(db: Db, instanceId: string, version: number, at: number): Promise<void> {
  await db.run(
    "INSERT INTO levels_instances (instance_id, applied_version, applied_at, last_seen) VALUES (?, ?, ?, ?) ON CONFLICT (instance_id) DO UPDATE SET applied_version = excluded.applied_version, applied_at = CASE WHEN levels_instances.applied_version = excluded.applied_version THEN levels_instances.applied_at ELSE excluded.applied_at END, last_seen = excluded.last_seen",
    [instanceId, version, at, at],
  )
}

export async function listInstances(db: Db, seenSince: number): Promise<InstanceRow[]> {
  const rows = await db.all(
    "SELECT instance_id, applied_version, applied_at, last_seen FROM levels_instances WHERE last_seen >= ? ORDER BY instance_id",
    [seenSince],
  )
  return rows.map((r) => ({
    instance_id: String(r.instance_id),
    applied_version: Number(r.applied_version),
    applied_at: Number(r.applied_at),
    last_seen: Number(r.last_seen),
  }))
}
