/**
 * One health service per host (no HTTP): the runner over the host's registry, the state tracker,
 * configured simple checks, and the `plugins` check that makes load and configuration problems visible.
 * api.ts and ui.ts answer from it; `logbook check` reaches it as service "health".
 */
import { type CommitSignal, createCommitSignal } from "../../src/db/commit-signal"
import type { CheckOutcome, HealthCheck, PluginContext } from "../../src/plugin/contract"
import { RELEASE_ID } from "../../src/version"
import type { Item, Rendered, ServiceMeta, Viewer } from "./formats"
import { createRunner, type Entry, type Runner } from "./runner"
import type { settings } from "./settings"
import { buildSimpleChecks, loadSimpleChecks, type SimpleChecks } from "./simple"
import { createStateTracker, type StateTracker } from "./state"

export type HealthContext = PluginContext<typeof settings>

export interface Health {
  ctx: HealthContext
  runner: Runner
  state: StateTracker
  /** Transitions may have been stored by another instance (the transitions stream wakes on it). */
  commits: CommitSignal
  meta: ServiceMeta
  /** Configuration problems (bad LOGBOOK_HEALTH_CHECKS, duplicate names), shown by the `plugins` check. */
  problems: string[]
  /** Runs (or reuses cached results of) these checks and pairs each result with its state. */
  items(entries: readonly Entry[], opts?: { force?: boolean }): Promise<Item[]>
  viewer(request: Request): Promise<Viewer>
  /**
   * Renders these checks' results, reusing the body rendered last time while every result is cached and
   * unchanged (the hot path of load balancers probing cached checks). `key` names format and viewer.
   */
  rendered(key: string, entries: readonly Entry[], render: (items: Item[]) => Rendered): Promise<Rendered>
  /** The body `rendered` would reuse right now, without waiting for anything (or undefined). */
  cached(key: string, entries: readonly Entry[]): Rendered | undefined
  /** The viewer without a promise when the request carries no credentials (the probe case), else undefined. */
  anonymousViewer(request: Request): Viewer | undefined
  close(): Promise<void>
}

export function createHealth(ctx: HealthContext): Health {
  const runner = createRunner({
    registry: ctx.health,
    now: () => ctx.now(),
    defaultCacheTtlMs: ctx.settings.defaultCacheTtlMs,
    onListenerError: (e) => ctx.log.error("health listener failed", { error: e }),
  })
  const state = createStateTracker({
    ctx,
    failureThreshold: ctx.settings.failureThreshold,
    successThreshold: ctx.settings.successThreshold,
    webhookUrl: ctx.settings.webhookUrl,
    webhookDedupeMs: ctx.settings.webhookDedupeSeconds * 1000,
    // the timeline is read by callers who may not see check messages
    timelineMessages: ctx.settings.showDetails === "always",
  })
  // other instances' transitions streams hear of this one's transitions (NOTIFY on PostgreSQL)
  const commits = createCommitSignal(ctx.db, "logbook_health")
  state.onStored(() => commits.committed())
  runner.onOutcome((o) => {
    state.observe(o)
    // c2cwsgiutils' per-run counter (health_check + name, outcome); cached answers are not runs
    ctx.metrics.increment("health_check", {
      name: o.name,
      outcome: o.status === "fail" ? "failure" : "success",
    })
    // how long each run took (a timeout counts its full bound)
    ctx.metrics.timer("health_check.duration", o.durationMs, { name: o.name })
  })

  const problems: string[] = []
  let simple: SimpleChecks | undefined
  try {
    simple = buildSimpleChecks(loadSimpleChecks(ctx.settings))
  } catch (e) {
    problems.push((e as Error).message)
  }
  for (const c of simple?.checks ?? []) {
    try {
      ctx.health.register(c, "config")
    } catch (e) {
      // the registry refuses duplicates; say so in the log and in the `plugins` check
      problems.push(`configured check: ${(e as Error).message}`)
    }
  }
  for (const p of problems) ctx.log.error("health configuration problem", { problem: p })

  const problemsCheck = {
    name: "plugins",
    critical: false,
    groups: ["ready"],
    level: 2,
    componentType: "system",
    check() {
      const failed = ctx.plugins().filter((p) => p.status === "failed")
      const lines = [...failed.map((p) => `${p.source}: ${firstLine(p.error)}`), ...problems]
      if (!lines.length) return { status: "pass", message: `${ctx.plugins().length} plugins started` }
      return { status: "fail", message: lines.join("; "), failed: failed.map((p) => p.source) }
    },
  } satisfies HealthCheck
  try {
    ctx.health.register(problemsCheck)
  } catch (e) {
    // a drop-in took the name first: keep running, say so
    ctx.log.error("health: the `plugins` check could not be registered", { error: (e as Error).message })
  }

  const memos = new Map<string, { gen: number; rendered: Rendered }>()
  const show = ctx.settings.showDetails

  const health: Health = {
    ctx,
    runner,
    state,
    commits,
    problems,
    meta: {
      version: ctx.version,
      releaseId: RELEASE_ID,
      serviceId: ctx.settings.serviceId,
      description: "Logbook",
    },
    async items(entries, opts) {
      const outcomes = await runner.run(entries, opts)
      return outcomes.map((outcome, i) => ({
        spec: entries[i].spec,
        outcome,
        since: state.get(outcome.name)?.since,
      }))
    },
    anonymousViewer(request) {
      const hd = request.headers
      if (hd.has("authorization") || hd.has("cookie") || hd.has("x-api-key")) return undefined
      return { details: show === "always", admin: false }
    },
    async viewer(request) {
      const p = await ctx.auth.principal(request)
      const admin = p.roles.has("admin")
      const details = admin || show === "always" || (show === "authenticated" && p.via !== "anonymous")
      return { details, admin }
    },
    cached(key, entries) {
      const hit = memos.get(key)
      return hit && hit.gen === runner.generation() && runner.fresh(entries) ? hit.rendered : undefined
    },
    async rendered(key, entries, render) {
      const hit = health.cached(key, entries)
      if (hit) return hit
      const items = await health.items(entries)
      const rendered = render(items)
      // keep it only if nothing newer arrived while these results were gathered
      if (items.every((item, i) => entries[i].last === item.outcome))
        memos.set(key, { gen: runner.generation(), rendered })
      return rendered
    },
    async close() {
      await commits.stop()
      await simple?.close()
    },
  }
  ctx.services.provide("health", {
    async runAll(opts) {
      const entries = runner.select({ group: opts?.group })
      const outcomes = await runner.probe(entries)
      return outcomes.map(
        (o): CheckOutcome => ({
          name: o.name,
          status: o.status,
          message: o.message,
          durationMs: o.durationMs,
        }),
      )
    },
  })
  return health
}

const firstLine = (s: string | undefined) => (s ?? "failed").split("\n")[0]
