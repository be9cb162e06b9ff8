/**
 * Renderings of the same per-check results in every format callers speak (reference: ops-formats.md
 * §1–6): IETF health+json, Kubernetes text probes, panopticon, c2cwsgiutils, Spring Boot Actuator.
 * Pure functions (no HTTP, no clock): the caller passes results, the phase and what the viewer may see.
 */
import type { CheckStatus } from "../../src/plugin/contract"
import type { CheckSpec, Outcome, Phase } from "./runner"
import { worst } from "./runner"

export interface Item {
  spec: CheckSpec
  outcome: Outcome
  /** Epoch ms of the last transition into the current status (state tracker), when known. */
  since?: number
}

/** What the caller may see: messages and extra fields (`details`), stack traces (`admin`). */
export interface Viewer {
  details: boolean
  admin: boolean
}

export interface Rendered {
  status: number
  body: string
  contentType: string
}

export const WITHHELD = "reason withheld"

/** RFC 3339 UTC without fractions, as in the IETF draft's examples. */
const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z")
const seconds = (ms: number) => Math.round(ms * 1000) / 1_000_000

// ---- shutting down ---------------------------------------------------------------------------------

export const SHUTDOWN_MESSAGE = "shutting down: not taking new requests"

/**
 * From SIGTERM until the process exits, every format a load balancer may read (IETF, panopticon, c2c)
 * carries one more failing check, `shutdown` (the Kubernetes probes print it as `[-]shutdown failed`).
 */
export function shutdownItem(sinceMs: number): Item {
  return {
    spec: {
      name: "shutdown",
      check: () => {},
      level: 1,
      groups: ["ready"],
      critical: true,
      timeoutMs: 0,
      cacheTtlMs: 0,
      intervalMs: 0,
      componentType: "system",
      source: "core",
    },
    outcome: {
      name: "shutdown",
      status: "fail",
      message: SHUTDOWN_MESSAGE,
      durationMs: 0,
      time: sinceMs,
      observedValue: "stopping",
      extras: {},
    },
    since: sinceMs,
  }
}

// ---- IETF application/health+json (§4) ------------------------------------------------------------

export interface ServiceMeta {
  version: string
  releaseId: string
  serviceId: string
  description: string
}

function measurement(o: Outcome): { name: string; value: unknown; unit?: string } {
  if (o.observedValue === undefined) return { name: "responseTime", value: o.durationMs, unit: "ms" }
  const unit = o.observedUnit
  const name =
    unit === "percent" || unit === "%"
      ? "utilization"
      : unit === "ms" || unit === "s"
        ? "responseTime"
        : unit === "connections"
          ? "connections"
          : "status"
  return { name, value: o.observedValue, unit }
}

export function ietf(items: readonly Item[], meta: ServiceMeta, v: Viewer): Rendered {
  const status = worst(items.map((i) => i.outcome.status))
  const checks: Record<string, Array<Record<string, unknown>>> = {}
  for (const { spec, outcome: o, since } of items) {
    const m = measurement(o)
    const entry: Record<string, unknown> = {
      componentType: spec.componentType,
      observedValue: m.value,
      ...(m.unit ? { observedUnit: m.unit } : {}),
      status: o.status,
      time: rfc3339(o.time),
    }
    if (o.status !== "pass" && o.message) entry.output = v.details ? o.message : WITHHELD
    entry.level = spec.level
    entry.groups = spec.groups
    if (since !== undefined) entry.since = rfc3339(since)
    entry.durationMs = o.durationMs
    if (v.details) Object.assign(entry, withoutKnown(o.extras, entry))
    checks[`${spec.name}:${m.name}`] = [entry]
  }
  const body: Record<string, unknown> = { status }
  if (meta.version) body.version = meta.version
  if (meta.releaseId) body.releaseId = meta.releaseId
  body.serviceId = meta.serviceId
  body.description = meta.description
  if (status !== "pass") body.output = summary(items)
  body.checks = checks
  return {
    status: status === "fail" ? 503 : 200,
    body: JSON.stringify(body),
    contentType: "application/health+json",
  }
}

/** The top-level `output` when not all pass: "failing: db, billing; warning: disk" (the parts that apply). */
function summary(items: readonly Item[]): string {
  const named = (status: CheckStatus) =>
    items.filter((i) => i.outcome.status === status).map((i) => i.spec.name)
  const parts: string[] = []
  const failing = named("fail")
  const warning = named("warn")
  if (failing.length) parts.push(`failing: ${failing.join(", ")}`)
  if (warning.length) parts.push(`warning: ${warning.join(", ")}`)
  return parts.join("; ")
}

/** Extra fields never overwrite the format's own keys. */
function withoutKnown(
  extras: Record<string, unknown>,
  own: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, val] of Object.entries(extras)) if (!(k in own)) out[k] = val
  return out
}

// ---- Kubernetes /livez /readyz /startupz (§5) -------------------------------------------------------

export type Probe = "livez" | "readyz" | "startupz"

export interface ProbeInput {
  probe: Probe
  /** This probe's checks in registry order; no item = skipped by `?exclude=`. */
  rows: ReadonlyArray<{ name: string; item?: Item }>
  /** `?exclude=` names that match no check of this probe. */
  unknownExcludes: readonly string[]
  verbose: boolean
  phase: Phase
  viewer: Viewer
}

const K8S_TYPE = "text/plain; charset=utf-8"

export function probe(p: ProbeInput): Rendered {
  const lines = ["[+]ping ok"]
  let failed = false
  for (const { name, item } of p.rows) {
    if (!item) {
      lines.push(`[+]${name} excluded: ok`)
      continue
    }
    const o = item.outcome
    if (o.status === "fail") {
      failed = true
      lines.push(`[-]${name} failed: ${p.viewer.details && o.message ? o.message : WITHHELD}`)
    } else lines.push(`[+]${name} ok`)
  }
  // readiness is false while starting and while shutting down; startup until start finished
  if (p.probe !== "livez") {
    if (p.phase === "starting") {
      failed = true
      lines.push(`[-]started failed: ${WITHHELD}`)
    } else lines.push("[+]started ok")
  }
  if (p.probe === "readyz") {
    if (p.phase === "stopping") {
      failed = true
      lines.push(`[-]shutdown failed: ${WITHHELD}`)
    } else lines.push("[+]shutdown ok")
  }
  if (p.unknownExcludes.length)
    lines.push(
      `warn: some health checks cannot be excluded: no matches for ${p.unknownExcludes.map((n) => JSON.stringify(n)).join(",")}`,
    )
  if (!failed && !p.verbose) return { status: 200, body: "ok", contentType: K8S_TYPE }
  lines.push(`${p.probe} check ${failed ? "failed" : "passed"}`)
  return { status: failed ? 503 : 200, body: `${lines.join("\n")}\n`, contentType: K8S_TYPE }
}

/** `/readyz/<check>`: `ok`, or `internal server error: <reason>`. */
export function probeOne(item: Item, viewer: Viewer): Rendered {
  const o = item.outcome
  if (o.status !== "fail") return { status: 200, body: "ok", contentType: K8S_TYPE }
  const reason = viewer.details && o.message ? o.message : WITHHELD
  return { status: 503, body: `internal server error: ${reason}`, contentType: K8S_TYPE }
}

// ---- panopticon /healthcheck/ (§2) ------------------------------------------------------------------

export function panopticon(items: readonly Item[], nowMs: number, v: Viewer): Rendered {
  const components: Record<string, Record<string, unknown>> = {}
  let healthy = true
  for (const { spec, outcome: o } of items) {
    const ok = o.status !== "fail"
    if (!ok) healthy = false
    const c: Record<string, unknown> = { healthy: ok }
    if (v.details) {
      const text = o.message || (ok ? "OK" : "Health check didn't provide a status.")
      c.status_message = text
      c.friendly_status = text
    }
    c.response_time = seconds(o.durationMs)
    // extras pass through unchanged, a check's own response_time included
    if (v.details) Object.assign(c, o.extras)
    components[spec.name] = c
  }
  const body = { service_healthy: healthy, timestamp: new Date(nowMs).toISOString(), components }
  return { status: healthy ? 200 : 500, body: JSON.stringify(body), contentType: "application/json" }
}

// ---- c2cwsgiutils /c2c/health_check (§3) -------------------------------------------------------------

export function c2c(items: readonly Item[], v: Viewer): Rendered {
  const successes: Record<string, Record<string, unknown>> = {}
  const failures: Record<string, Record<string, unknown>> = {}
  for (const { spec, outcome: o } of items) {
    const base = { timing: seconds(o.durationMs), level: spec.level }
    if (o.status !== "fail") {
      const result = v.details ? resultOf(o) : undefined
      successes[spec.name] = result ? { ...base, result } : base
      continue
    }
    const f: Record<string, unknown> = { message: v.details ? o.message || "failed" : WITHHELD, ...base }
    const result = v.details ? (o.error?.result ?? resultOf(o)) : undefined
    if (result !== undefined) f.result = result
    if (v.admin && o.error?.stack) f.stacktrace = o.error.stack
    failures[spec.name] = f
  }
  const failed = Object.keys(failures).length > 0
  return {
    status: failed ? 500 : 200,
    body: JSON.stringify({ successes, failures }),
    contentType: "application/json",
  }
}

/** What the check returned beyond its status: message, measurement, extras — or nothing. */
function resultOf(o: Outcome): Record<string, unknown> | undefined {
  const r: Record<string, unknown> = {}
  if (o.message && o.status !== "fail") r.message = o.message
  if (o.observedValue !== undefined) r.observedValue = o.observedValue
  if (o.observedUnit) r.observedUnit = o.observedUnit
  Object.assign(r, o.extras)
  return Object.keys(r).length ? r : undefined
}

// ---- Spring Boot Actuator /actuator/health (§6.1) ----------------------------------------------------

const SPRING_TYPE = "application/vnd.spring-boot.actuator.v3+json"
type SpringStatus = "UP" | "DOWN" | "OUT_OF_SERVICE"
const SPRING: Record<CheckStatus, SpringStatus> = { pass: "UP", warn: "UP", fail: "DOWN" }

function springComponent(item: Item, v: Viewer): Record<string, unknown> {
  const o = item.outcome
  const c: Record<string, unknown> = { status: SPRING[o.status] }
  if (!v.details) return c
  const details: Record<string, unknown> = {}
  if (o.message)
    details[o.status === "pass" ? "message" : o.status === "warn" ? "warning" : "error"] = o.message
  if (o.observedValue !== undefined) details.observedValue = o.observedValue
  if (o.observedUnit) details.observedUnit = o.observedUnit
  details.durationMs = o.durationMs
  Object.assign(details, withoutKnown(o.extras, details))
  if (v.admin && o.error?.stack) details.stacktrace = o.error.stack
  c.details = details
  return c
}

/** The aggregate (root or a group); `outOfService` when this view is not taking traffic. */
export function springAggregate(
  items: readonly Item[],
  v: Viewer,
  opts: { outOfService: boolean; accept: string | null },
): Rendered {
  const statuses = new Set(items.map((i) => SPRING[i.outcome.status]))
  const status: SpringStatus = statuses.has("DOWN") ? "DOWN" : opts.outOfService ? "OUT_OF_SERVICE" : "UP"
  const body: Record<string, unknown> = { status }
  if (v.details) {
    const components: Record<string, unknown> = {}
    for (const i of items) components[i.spec.name] = springComponent(i, v)
    body.components = components
  }
  return {
    status: status === "UP" ? 200 : 503,
    body: JSON.stringify(body),
    contentType: springType(opts.accept),
  }
}

export function springOne(item: Item, v: Viewer, accept: string | null): Rendered {
  const c = springComponent(item, v)
  return { status: c.status === "UP" ? 200 : 503, body: JSON.stringify(c), contentType: springType(accept) }
}

/** Spring answers application/json when the caller asks for it rather than its vendor type. */
function springType(accept: string | null): string {
  return accept && !accept.includes("actuator") && accept.includes("application/json")
    ? "application/json"
    : SPRING_TYPE
}
