/**
 * The applier: keeps this instance's view of the stored levels current and applies it.
 *
 * - Recomputes from the rows at start-up and at every window boundary (one-shot timer at the instant
 *   `nextBoundary` gives; the recomputation uses that planned instant, so a timer that fires a few ms
 *   early still crosses the boundary). Reverts are a consequence of recomputation, so they happen on
 *   time and survive restarts.
 * - Re-reads the rows when the configuration version moves: at once for changes made here; through
 *   LISTEN/NOTIFY on PostgreSQL; by polling `PRAGMA data_version` on SQLite (another process wrote); and
 *   every `resyncSeconds` anyway (missed notifications), which also refreshes this instance's row in
 *   `levels_instances` (applied version, last seen).
 * - Announces expiries (once across instances, see service.announceExpiries) and wakes long-polls.
 */
import type { LevelName } from "../../src/log"
import type { PluginContext } from "../../src/plugin/contract"
import { effectiveAt, type LevelState, nextBoundary, triggerWindowAt, type Winner } from "./precedence"
import { type LevelsService, loadState, NOTIFY_CHANNEL, recordApplied } from "./service"

const MAX_TIMER_MS = 3_600_000

export interface Applier {
  /** Re-read the rows and recompute now. */
  reload(): Promise<void>
  /** Recompute from the rows in memory at `at` (default: now), apply, and plan the next boundary. */
  recompute(at?: number): Promise<void>
  state(): LevelState
  version(): number
  /** Winners for a target as an instance sees it (null: only "all"-scoped entries) at now. */
  winners(target: string, instance: string | null, at?: number): Map<string, Winner>
  /** Called after every recomputation (long-polls listen). Returns an unsubscribe function. */
  onRecompute(listener: () => void): () => void
  start(): Promise<void>
  stop(): Promise<void>
}

export function createApplier(opts: {
  ctx: PluginContext
  service: LevelsService
  resyncMs: number
  pollMs: number
}): Applier {
  const { ctx, service } = opts
  let state: LevelState = { overrides: [], triggers: [], profiles: [] }
  let version = -1
  let appliedKey = ""
  let recordedVersion = -1
  /** The instant of the previous computation: trigger windows crossed since then are announced. */
  let lastAt: number | null = null
  let lastTriggers: LevelState["triggers"] = []
  let timer: ReturnType<typeof setTimeout> | undefined
  const intervals: Array<ReturnType<typeof setInterval>> = []
  const listeners = new Set<() => void>()
  let unlisten: (() => Promise<void>) | undefined
  let stopped = false
  // one recomputation at a time; a request made while one runs is coalesced into one more run
  let chain: Promise<void> = Promise.resolve()

  const serial = (fn: () => Promise<void>): Promise<void> => {
    const next = chain.then(() => (stopped ? undefined : fn()))
    chain = next.catch((e) => ctx.log.error("levels: recomputation failed", { error: e }))
    return next
  }

  function plan(from: number) {
    if (timer) clearTimeout(timer)
    timer = undefined
    if (stopped) return
    const boundary = nextBoundary(state, from)
    if (boundary === null) return
    const delay = Math.max(0, boundary - ctx.now())
    const capped = delay > MAX_TIMER_MS
    timer = setTimeout(
      () => void applier.recompute(capped ? undefined : Math.max(boundary, ctx.now())),
      Math.min(delay, MAX_TIMER_MS),
    )
    timer.unref?.()
  }

  async function computeAndApply(at: number) {
    await service.announceExpiries(state, at)
    // announced (here or elsewhere): expired rows no longer matter to anything computed from now on
    state = { ...state, overrides: state.overrides.filter((o) => o.expires_at === null || o.expires_at > at) }
    if (lastAt !== null) await announceTriggerWindows(lastAt, at)
    lastAt = at
    lastTriggers = state.triggers
    const mine = effectiveAt(state, "logbook", ctx.instanceId, at)
    const map = new Map<string, LevelName>([...mine].map(([k, w]) => [k, w.level]))
    const key = JSON.stringify([...map].sort())
    if (key !== appliedKey) {
      ctx.logLevels.setOverrides(map)
      appliedKey = key
    }
    if (recordedVersion !== version) {
      await recordApplied(ctx.db, ctx.instanceId, version, ctx.now())
      recordedVersion = version
    }
    plan(at)
    for (const l of listeners) l()
  }

  /** Windows that began or ended between the previous computation and this one (deactivation ends one early). */
  async function announceTriggerWindows(from: number, at: number) {
    const now = new Map(state.triggers.map((t) => [t.id, t]))
    const ids = new Set([...lastTriggers.map((t) => t.id), ...now.keys()])
    const before = new Map(lastTriggers.map((t) => [t.id, t]))
    for (const id of ids) {
      const prev = before.get(id)
      const cur = now.get(id)
      const was = prev ? triggerWindowAt(prev, from) : null
      const is = cur ? triggerWindowAt(cur, at) : null
      if (was && prev && (!is || is[0] !== was[0]))
        await service.announceTrigger(state, prev, "end", was[0], Math.min(at, was[1] ?? at))
      if (is && cur && (!was || was[0] !== is[0]))
        await service.announceTrigger(state, cur, "start", is[0], Math.max(is[0], from))
    }
  }

  async function reloadNow() {
    const loaded = await loadState(ctx.db, ctx.now())
    state = loaded.state
    version = loaded.version
    await computeAndApply(ctx.now())
  }

  const applier: Applier = {
    reload: () => serial(reloadNow),
    recompute: (at) => serial(() => computeAndApply(at ?? ctx.now())),
    state: () => state,
    version: () => version,
    winners: (target, instance, at) => effectiveAt(state, target, instance, at ?? ctx.now()),
    onRecompute(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    async start() {
      await applier.reload()
      const db = ctx.db
      if (db.dialect === "postgres" && db.pg) {
        const sub = await db.pg.listen(NOTIFY_CHANNEL, (payload) => {
          if (Number(payload) !== version) void applier.reload()
        })
        unlisten = sub.unlisten
      }
      if (db.dialect === "sqlite" && db.sqlite) {
        const raw = db.sqlite
        const read = () =>
          Number((raw.query("PRAGMA data_version").get() as { data_version: number }).data_version)
        let seen = read()
        const poll = setInterval(() => {
          const v = read()
          if (v !== seen) {
            seen = v
            void applier.reload()
          }
        }, opts.pollMs)
        poll.unref?.()
        intervals.push(poll)
      }
      const resync = setInterval(
        () =>
          void serial(async () => {
            await reloadNow()
            // heartbeat: the instance is alive even when nothing changed
            await recordApplied(ctx.db, ctx.instanceId, version, ctx.now())
          }),
        opts.resyncMs,
      )
      resync.unref?.()
      intervals.push(resync)
    },
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      for (const i of intervals) clearInterval(i)
      listeners.clear()
      await unlisten?.().catch(() => undefined)
      await chain
    },
  }
  return applier
}
