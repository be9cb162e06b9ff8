/**
 * The health runner (no HTTP): every check of the host's registry — core, plugins, drop-ins, configured
 * checks, and ones registered later — run in parallel, each bounded by its own timeout, with a result
 * cache per check, optional background intervals, groups and levels, and the life-cycle phase that
 * readiness depends on. Every HTTP format and the UI answer from this one runner.
 */
import type { CheckStatus, HealthCheck, HealthRegistry } from "../../src/plugin/contract"

export const DEFAULT_TIMEOUT_MS = 2000
const KEEP_DURATIONS = 40

/** A check with every default applied. */
export interface CheckSpec {
  name: string
  check: HealthCheck["check"]
  level: number
  groups: string[]
  critical: boolean
  timeoutMs: number
  cacheTtlMs: number
  intervalMs: number
  componentType: "component" | "datastore" | "system"
  source: string
}

/** One run of one check, normalised from whatever it returned or threw. */
export interface Outcome {
  name: string
  status: CheckStatus
  message: string
  durationMs: number
  /** Epoch ms when the run finished (the host clock). */
  time: number
  observedValue?: unknown
  observedUnit?: string
  /** Keys the check returned beyond the known ones, passed through to every format. */
  extras: Record<string, unknown>
  /** Set when the check threw (or timed out). */
  error?: { stack?: string; result?: unknown }
}

export interface Entry {
  spec: CheckSpec
  last?: Outcome
  freshUntil: number
  inflight?: Promise<Outcome>
  /** performance.now() when a run that outlived its timeout started; set until that run settles. */
  overdueSince?: number
  /** Recent durations (ms), oldest first, for the sparkline. */
  durations: number[]
}

export type Phase = "starting" | "running" | "stopping"

export interface Selection {
  group?: string
  maxLevel?: number
  names?: readonly string[]
  exclude?: readonly string[]
}

const ALIASES: Record<string, CheckStatus> = {
  pass: "pass",
  ok: "pass",
  up: "pass",
  healthy: "pass",
  warn: "warn",
  warning: "warn",
  fail: "fail",
  error: "fail",
  down: "fail",
  unhealthy: "fail",
}

/** IETF status words and their aliases, in any letter case; undefined when not a status word. */
export function parseStatus(value: unknown): CheckStatus | undefined {
  return typeof value === "string" ? ALIASES[value.trim().toLowerCase()] : undefined
}

const KNOWN = new Set([
  "healthy",
  "status",
  "message",
  "status_message",
  "friendly_status",
  "output",
  "observedValue",
  "observedUnit",
])

/** What a check returned → status, message and pass-through fields (before `critical` is applied). */
export function normalizeResult(raw: unknown): Omit<Outcome, "name" | "durationMs" | "time"> {
  if (raw === undefined || raw === null) return { status: "pass", message: "", extras: {} }
  if (typeof raw === "boolean") return { status: raw ? "pass" : "fail", message: "", extras: {} }
  if (typeof raw !== "object" || Array.isArray(raw))
    return { status: "fail", message: `check returned ${JSON.stringify(raw)}, not an object`, extras: {} }
  const r = raw as Record<string, unknown>
  const text = (v: unknown) => (typeof v === "string" ? v : undefined)
  let message = text(r.message) ?? text(r.status_message) ?? text(r.friendly_status) ?? text(r.output) ?? ""
  let status = parseStatus(r.status)
  if (!status) {
    if (typeof r.healthy === "boolean") {
      status = r.healthy ? "pass" : "fail"
      // panopticon-style checks sometimes put their text in `status`
      if (!message && typeof r.status === "string") message = r.status
    } else if (r.status !== undefined) {
      status = "fail"
      message = `unknown status ${JSON.stringify(r.status)}${message ? `: ${message}` : ""}`
    } else status = "pass"
  }
  const extras: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(r)) if (!KNOWN.has(k) && v !== undefined) extras[k] = v
  const out: Omit<Outcome, "name" | "durationMs" | "time"> = { status, message, extras }
  if (r.observedValue !== undefined) out.observedValue = r.observedValue
  if (typeof r.observedUnit === "string") out.observedUnit = r.observedUnit
  return out
}

export function resolveSpec(c: HealthCheck, defaultCacheTtlMs = 0): CheckSpec {
  return {
    name: c.name,
    check: c.check,
    // levels start at 1: c2c's max_level=0 is a ping that runs nothing
    level: Number.isInteger(c.level) && (c.level as number) >= 1 ? (c.level as number) : 1,
    groups: c.groups?.length ? [...c.groups] : ["ready"],
    critical: c.critical !== false,
    timeoutMs: c.timeoutMs && c.timeoutMs > 0 ? c.timeoutMs : DEFAULT_TIMEOUT_MS,
    cacheTtlMs: Math.max(0, c.cacheTtlMs ?? defaultCacheTtlMs),
    intervalMs: Math.max(0, c.intervalMs ?? 0),
    componentType: c.componentType ?? "component",
    source: c.source ?? "core",
  }
}

export interface Runner {
  /** Checks in registration order. */
  entries(): Entry[]
  get(name: string): Entry | undefined
  select(sel: Selection): Entry[]
  /** True when every one of these checks has a cached result that is still fresh. */
  fresh(entries: readonly Entry[]): boolean
  /** Runs (or reuses cached results of) the given checks in parallel. */
  run(entries: readonly Entry[], opts?: { force?: boolean }): Promise<Outcome[]>
  /** Runs the checks once, bypassing cache, state and listeners (`logbook check`, one-shot callers). */
  probe(entries: readonly Entry[]): Promise<Outcome[]>
  /** Bumped whenever a stored result changes: formats key their precomputed bodies on it. */
  generation(): number
  phase(): Phase
  /** When the phase became "stopping" (epoch ms), while it is. */
  stoppingSince(): number | undefined
  /** Observers of every fresh outcome (state tracking, UI). */
  onOutcome(listener: (outcome: Outcome, spec: CheckSpec) => void): () => void
  start(): void
  /** Shutdown has begun (the server still answers): not ready from now on; checks keep running. */
  drain(): void
  stop(): void
}

export function createRunner(opts: {
  registry: HealthRegistry
  now: () => number
  /** For checks that set no cacheTtlMs. */
  defaultCacheTtlMs?: number
  onListenerError?: (e: unknown) => void
}): Runner {
  const { now } = opts
  const byName = new Map<string, Entry>()
  const list: Entry[] = []
  const listeners: Array<(o: Outcome, s: CheckSpec) => void> = []
  const timers: Array<ReturnType<typeof setInterval>> = []
  let gen = 0
  let phase: Phase = "starting"
  let stoppingAt: number | undefined

  const schedule = (e: Entry) => {
    if (!e.spec.intervalMs || phase !== "running") return
    const t = setInterval(() => void execute(e), e.spec.intervalMs)
    t.unref?.()
    timers.push(t)
    // a background check has a result from the start
    void execute(e)
  }

  opts.registry.onRegister((c) => {
    const e: Entry = { spec: resolveSpec(c, opts.defaultCacheTtlMs), freshUntil: 0, durations: [] }
    byName.set(e.spec.name, e)
    list.push(e)
    gen++
    schedule(e)
  })

  /** One run of `spec`, bounded by its timeout; `onOverdue` learns about a run that outlives it. */
  async function attempt(
    spec: CheckSpec,
    onOverdue?: (run: Promise<unknown>) => void,
  ): Promise<Omit<Outcome, "name" | "durationMs" | "time">> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const run = Promise.resolve().then(() => spec.check())
    try {
      const raw = await Promise.race([
        run,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            onOverdue?.(run)
            reject(new TimeoutError(spec.timeoutMs))
          }, spec.timeoutMs)
        }),
      ])
      return normalizeResult(raw)
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e))
      const result = (e as { result?: unknown })?.result
      return {
        status: "fail",
        message: err.message || err.name,
        extras: {},
        error:
          e instanceof TimeoutError ? {} : { stack: err.stack, ...(result === undefined ? {} : { result }) },
      }
    } finally {
      clearTimeout(timer)
    }
  }

  async function once(spec: CheckSpec, e?: Entry): Promise<Outcome> {
    const t0 = performance.now()
    const finish = (r: Omit<Outcome, "name" | "durationMs" | "time">, durationMs: number): Outcome => ({
      ...r,
      status: r.status === "fail" && !spec.critical ? "warn" : r.status,
      name: spec.name,
      durationMs: Math.round(durationMs * 1000) / 1000,
      time: now(),
    })
    // a run still hanging after its timeout is not joined by another one: a hung dependency would
    // otherwise collect one stuck call per request; the check stays failed until that run settles.
    // Its duration is the bound it was given, like the run that timed out (the time the run has been
    // hanging would make the latency series jump between two meanings); the message says how long.
    if (e?.overdueSince !== undefined)
      return finish(
        { status: "fail", message: stillRunning(spec.timeoutMs, t0 - e.overdueSince), extras: {}, error: {} },
        spec.timeoutMs,
      )
    const r = await attempt(spec, (run) => {
      if (!e) return
      e.overdueSince = t0
      const settled = () => {
        e.overdueSince = undefined
      }
      run.then(settled, settled)
    })
    return finish(r, performance.now() - t0)
  }

  function execute(e: Entry): Promise<Outcome> {
    if (e.inflight) return e.inflight
    const p = once(e.spec, e).then((outcome) => {
      const durationMs = outcome.durationMs
      const ttl = Math.max(e.spec.cacheTtlMs, e.spec.intervalMs ? e.spec.intervalMs + e.spec.timeoutMs : 0)
      e.last = outcome
      e.freshUntil = outcome.time + ttl
      e.inflight = undefined
      e.durations.push(durationMs)
      if (e.durations.length > KEEP_DURATIONS) e.durations.shift()
      gen++
      for (const l of listeners) {
        try {
          l(outcome, e.spec)
        } catch (err) {
          opts.onListenerError?.(err)
        }
      }
      return outcome
    })
    e.inflight = p
    return p
  }

  return {
    entries: () => list,
    get: (name) => byName.get(name),
    select(sel) {
      return list.filter(
        (e) =>
          (sel.group === undefined || e.spec.groups.includes(sel.group)) &&
          (sel.maxLevel === undefined || e.spec.level <= sel.maxLevel) &&
          (sel.names === undefined || sel.names.includes(e.spec.name)) &&
          !sel.exclude?.includes(e.spec.name),
      )
    },
    fresh(entries) {
      const t = now()
      for (const e of entries) if (!e.last || e.freshUntil <= t) return false
      return true
    },
    run(entries, o = {}) {
      const t = now()
      // the hot path (everything cached) allocates no promise per check
      if (!o.force && this.fresh(entries)) return Promise.resolve(entries.map((e) => e.last as Outcome))
      return Promise.all(entries.map((e) => (!o.force && e.last && e.freshUntil > t ? e.last : execute(e))))
    },
    probe: (entries) => Promise.all(entries.map((e) => once(e.spec))),
    generation: () => gen,
    phase: () => phase,
    stoppingSince: () => stoppingAt,
    onOutcome(l) {
      listeners.push(l)
      return () => {
        const i = listeners.indexOf(l)
        if (i >= 0) listeners.splice(i, 1)
      }
    },
    start() {
      phase = "running"
      gen++
      for (const e of list) schedule(e)
    },
    drain() {
      if (phase === "stopping") return
      phase = "stopping"
      stoppingAt = now()
      gen++
    },
    stop() {
      this.drain()
      for (const t of timers) clearInterval(t)
      timers.length = 0
    },
  }
}

/** The message of a check whose timed-out run has been pending for `pendingMs`. */
export function stillRunning(timeoutMs: number, pendingMs: number): string {
  const s = pendingMs / 1000
  return `timeout after ${timeoutMs} ms, still running for ${s < 10 ? s.toFixed(1) : Math.round(s)} s`
}

export class TimeoutError extends Error {
  constructor(ms: number) {
    super(`timeout after ${ms} ms`)
    this.name = "TimeoutError"
  }
}

/** Worst status first: fail > warn > pass. */
export function worst(statuses: Iterable<CheckStatus>): CheckStatus {
  let w: CheckStatus = "pass"
  for (const s of statuses) {
    if (s === "fail") return "fail"
    if (s === "warn") w = "warn"
  }
  return w
}
