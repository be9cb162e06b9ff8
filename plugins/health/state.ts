/**
 * State per check on this instance, and its transitions. A result that differs from the current status
 * becomes a transition only after `failureThreshold` (getting worse) or `successThreshold` (getting
 * better) consecutive results agree — damping flapping checks. Each transition is stored once in
 * health_transitions, put once on the change timeline, logged, and (down/restored) sent to the webhook.
 * The check's message is stored with the transition (shown to whoever may see details); the timeline,
 * which every reader sees, gets it only when details are shown to everyone.
 */
import type { CheckStatus, PluginContext } from "../../src/plugin/contract"
import type { Outcome } from "./runner"
import type { TransitionRow } from "./schema"

const RANK: Record<CheckStatus, number> = { pass: 0, warn: 1, fail: 2 }
const KEEP_RECENT = 200

export interface CheckState {
  status: CheckStatus
  /** Epoch ms of the transition into `status`. */
  since: number
  /** A different status seen `count` times in a row, not yet confirmed. */
  pending?: { status: CheckStatus; count: number }
}

export interface Transition {
  check: string
  from: CheckStatus | null
  to: CheckStatus
  message: string
  at: number
}

export interface StateOptions {
  ctx: Pick<PluginContext, "db" | "writer" | "changes" | "log" | "instanceId" | "now">
  failureThreshold: number
  successThreshold: number
  webhookUrl: string
  webhookDedupeMs: number
  /**
   * Put the check's message in the timeline event ("db: pass → fail: timeout after 2000 ms") rather than
   * the state change alone ("db: pass → fail"). The change timeline is readable with the `read` role
   * (anonymous by default), so only when LOGBOOK_HEALTH_SHOW_DETAILS=always.
   */
  timelineMessages: boolean
}

export interface StateTracker {
  /** Restores this instance's last known status per check (and its recent transitions) from the table. */
  load(): Promise<void>
  observe(outcome: Outcome): void
  get(name: string): CheckState | undefined
  /** This instance's latest transitions, newest first (the table has all of them). */
  recent(name?: string, limit?: number): Transition[]
  history(opts: { check?: string; limit: number; instance?: string }): Promise<TransitionRow[]>
  /** Stored transitions (every instance) with an id above `afterId`, oldest first. */
  after(afterId: number, opts: { check?: string; limit: number; instance?: string }): Promise<TransitionRow[]>
  /** The highest stored transition id (0 when there is none). */
  lastId(): Promise<number>
  /** Called after each transition of this instance is stored. */
  onStored(listener: () => void): () => void
  /** Resolves when every transition observed so far is stored and announced. */
  flush(): Promise<void>
}

export function describeTransition(t: Pick<Transition, "check" | "from" | "to" | "message">): string {
  return `${t.check}: ${t.from ?? "unknown"} → ${t.to}${t.message ? `: ${t.message}` : ""}`
}

export function createStateTracker(o: StateOptions): StateTracker {
  const { ctx } = o
  const states = new Map<string, CheckState>()
  const recent: Transition[] = []
  const lastWebhook = new Map<string, number>()
  const storedListeners = new Set<() => void>()
  let queue: Promise<void> = Promise.resolve()

  const criticality = (to: CheckStatus) => (to === "fail" ? 4 : to === "warn" ? 3 : 2)

  async function announce(t: Transition): Promise<void> {
    try {
      await ctx.writer.insert({
        table: "health_transitions",
        columns: ["instance_id", "check_name", "from_status", "to_status", "message", "at"],
        rows: [[ctx.instanceId, t.check, t.from, t.to, t.message, t.at]],
      })
      for (const l of storedListeners) {
        try {
          l()
        } catch (e) {
          ctx.log.error("health transition listener failed", { error: e })
        }
      }
    } catch (e) {
      ctx.log.error("could not store a health transition", { check: t.check, error: e })
    }
    // a check's first result is history, not news — unless it starts out unhealthy
    if (t.from !== null || t.to !== "pass") {
      try {
        await ctx.changes.record({
          category: "health",
          description: describeTransition(o.timelineMessages ? t : { ...t, message: "" }),
          criticality: criticality(t.to),
          timestamp: t.at,
          tags: { check: t.check, instance: ctx.instanceId, from: t.from ?? "unknown", to: t.to },
        })
      } catch (e) {
        ctx.log.error("could not put a health transition on the change timeline", {
          check: t.check,
          error: e,
        })
      }
    }
    await webhook(t)
  }

  async function webhook(t: Transition): Promise<void> {
    if (!o.webhookUrl) return
    const event = t.to === "fail" ? "down" : t.from === "fail" ? "restored" : undefined
    if (!event) return
    const key = `${t.check}\u0000${event}`
    const last = lastWebhook.get(key)
    if (last !== undefined && t.at - last < o.webhookDedupeMs) {
      ctx.log.debug("health webhook suppressed (de-duplication window)", { check: t.check, event })
      return
    }
    lastWebhook.set(key, t.at)
    try {
      const res = await fetch(o.webhookUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          event,
          check: t.check,
          status: t.to,
          previous: t.from,
          message: t.message,
          instance: ctx.instanceId,
          time: new Date(t.at).toISOString(),
          text: describeTransition(t),
        }),
        signal: AbortSignal.timeout(5000),
      })
      if (!res.ok) ctx.log.warning("health webhook answered an error", { status: res.status, check: t.check })
    } catch (e) {
      ctx.log.warning("health webhook failed", { check: t.check, error: e })
    }
  }

  async function select(
    f: { check?: string; instance?: string; afterId?: number },
    order: string,
    limit: number,
  ): Promise<TransitionRow[]> {
    const where: string[] = []
    const params: unknown[] = []
    if (f.afterId !== undefined) {
      where.push("id > ?")
      params.push(f.afterId)
    }
    if (f.check) {
      where.push("check_name = ?")
      params.push(f.check)
    }
    if (f.instance) {
      where.push("instance_id = ?")
      params.push(f.instance)
    }
    params.push(limit)
    const rows = await ctx.db.all<TransitionRow>(
      `SELECT id, instance_id, check_name, from_status, to_status, message, at FROM health_transitions
       ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ${order} LIMIT ?`,
      params,
    )
    return rows.map((r) => ({ ...r, id: Number(r.id), at: Number(r.at) }))
  }

  function transition(name: string, from: CheckStatus | null, outcome: Outcome): void {
    const t: Transition = {
      check: name,
      from,
      to: outcome.status,
      message: outcome.message,
      at: outcome.time,
    }
    states.set(name, { status: t.to, since: t.at })
    recent.unshift(t)
    if (recent.length > KEEP_RECENT) recent.pop()
    const level = t.to === "fail" ? "warning" : "info"
    ctx.log[level]("health check changed", { check: name, from, to: t.to, reason: t.message })
    queue = queue.then(() => announce(t))
  }

  return {
    async load() {
      const rows = await ctx.db.all<{ check_name: string; to_status: CheckStatus; at: number }>(
        `SELECT t.check_name, t.to_status, t.at FROM health_transitions t
         WHERE t.instance_id = ? AND t.id = (SELECT MAX(id) FROM health_transitions
           WHERE instance_id = t.instance_id AND check_name = t.check_name)`,
        [ctx.instanceId],
      )
      for (const r of rows) states.set(r.check_name, { status: r.to_status, since: Number(r.at) })
      // the page's "recent transitions" survive a restart of the same instance
      const last = await ctx.db.all<TransitionRow>(
        `SELECT check_name, from_status, to_status, message, at FROM health_transitions
         WHERE instance_id = ? ORDER BY id DESC LIMIT ?`,
        [ctx.instanceId, KEEP_RECENT],
      )
      for (const r of last)
        recent.push({
          check: r.check_name,
          from: r.from_status as CheckStatus | null,
          to: r.to_status as CheckStatus,
          message: r.message,
          at: Number(r.at),
        })
    },
    observe(outcome) {
      const s = states.get(outcome.name)
      if (!s) return transition(outcome.name, null, outcome)
      if (outcome.status === s.status) {
        s.pending = undefined
        return
      }
      const count = s.pending?.status === outcome.status ? s.pending.count + 1 : 1
      const needed = RANK[outcome.status] > RANK[s.status] ? o.failureThreshold : o.successThreshold
      if (count >= needed) transition(outcome.name, s.status, outcome)
      else s.pending = { status: outcome.status, count }
    },
    get: (name) => states.get(name),
    recent: (name, limit = 20) => (name ? recent.filter((t) => t.check === name) : recent).slice(0, limit),
    history: ({ check, limit, instance }) => select({ check, instance }, "ORDER BY at DESC, id DESC", limit),
    after: (afterId, { check, limit, instance }) =>
      select({ check, instance, afterId }, "ORDER BY id", limit),
    async lastId() {
      const [row] = await ctx.db.all<{ id: number | null }>("SELECT MAX(id) AS id FROM health_transitions")
      return Number(row?.id ?? 0)
    },
    onStored(listener) {
      storedListeners.add(listener)
      return () => storedListeners.delete(listener)
    },
    flush: () => queue,
  }
}
