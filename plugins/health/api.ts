/**
 * Health over HTTP, every route answering from the same runner: IETF `/health`, Kubernetes
 * `/livez` `/readyz` `/startupz`, panopticon `/healthcheck/`, c2cwsgiutils `/c2c/health_check`, Spring
 * `/actuator/health`, and the native `/api/v1/health` API. Compatibility routes build their exact bodies.
 */
import { Type } from "@sinclair/typebox"
import { Elysia, t } from "elysia"
import { ApiError, errorResponse, errorSchema } from "../../src/http/errors"
import { paramInteger } from "../../src/http/params"
import type { FastRoute } from "../../src/plugin/contract"
import {
  c2c,
  type Item,
  ietf,
  type Probe,
  panopticon,
  probe,
  probeOne,
  type Rendered,
  shutdownItem,
  springAggregate,
  springOne,
  type Viewer,
} from "./formats"
import { type Entry, worst } from "./runner"
import type { TransitionRow } from "./schema"
import type { Health } from "./service"
import { transitionStream } from "./transitions-stream"

const NO_STORE = "no-store"

function send(r: Rendered, extra?: Record<string, string>): Response {
  return new Response(r.body, {
    status: r.status,
    headers: { "content-type": r.contentType, "cache-control": NO_STORE, ...extra },
  })
}

const K8S_HEADERS = { "x-content-type-options": "nosniff" }
const GROUP_OF: Record<Probe, string> = { livez: "live", readyz: "ready", startupz: "startup" }
const hide = { detail: { hide: true } }
const PUBLIC: Viewer = { details: false, admin: false }

/** The three probes, answered by the core before its router (`fastRoutes`): kubelets call them constantly. */
export function probeRoutes(h: Health): Record<string, FastRoute> {
  const { probeFast } = probes(h)
  return {
    "/livez": (request) => probeFast("livez", request),
    "/readyz": (request) => probeFast("readyz", request),
    "/startupz": (request) => probeFast("startupz", request),
  }
}

const probeCache = new WeakMap<Health, ReturnType<typeof makeProbes>>()
function probes(h: Health) {
  let p = probeCache.get(h)
  if (!p) {
    p = makeProbes(h)
    probeCache.set(h, p)
  }
  return p
}

function makeProbes(h: Health) {
  const { runner } = h

  const selections = new Map<Probe, { size: number; entries: Entry[] }>()
  /** A probe's checks, recomputed only when checks were registered since. */
  const groupOf = (kind: Probe): Entry[] => {
    const size = runner.entries().length
    let sel = selections.get(kind)
    if (sel?.size !== size) {
      sel = { size, entries: runner.select({ group: GROUP_OF[kind] }) }
      selections.set(kind, sel)
    }
    return sel.entries
  }

  /**
   * Per cached success body, its headers built once: each probe gets a new Response over them (the
   * constructor copies them; measured under load, Response.clone() of a prebuilt answer cost more).
   */
  const answers = new WeakMap<Rendered, ResponseInit>()
  const answerOf = (r: Rendered): Response => {
    let init = answers.get(r)
    if (!init) {
      init = {
        status: r.status,
        headers: new Headers({ "content-type": r.contentType, "cache-control": NO_STORE, ...K8S_HEADERS }),
      }
      answers.set(r, init)
    }
    return new Response(r.body, init)
  }

  /** What kubelets call every few seconds: answered without a promise while the success body is cached. */
  function probeFast(kind: Probe, request: Request): Response | Promise<Response> {
    if (!request.url.includes("?")) {
      const hit = h.cached(kind, groupOf(kind))
      if (hit?.status === 200) return answerOf(hit)
    }
    return probeRoute(kind, request)
  }

  async function probeRoute(kind: Probe, request: Request): Promise<Response> {
    const q = request.url.indexOf("?")
    const params = q < 0 ? undefined : new URLSearchParams(request.url.slice(q + 1))
    const group = groupOf(kind)
    let gathered: Item[] | undefined
    if (!params) {
      // a success body is the same for everyone, so it is kept while the results are cached
      const fast = await h.rendered(kind, group, (items) => {
        gathered = items
        return probe({
          probe: kind,
          rows: items.map((item) => ({ name: item.spec.name, item })),
          unknownExcludes: [],
          verbose: false,
          phase: runner.phase(),
          viewer: PUBLIC,
        })
      })
      if (fast.status === 200) return send(fast, K8S_HEADERS)
    }
    const exclude =
      params
        ?.getAll("exclude")
        .flatMap((x) => x.split(","))
        .filter(Boolean) ?? []
    const names = new Set(group.map((e) => e.spec.name))
    const run = exclude.length ? group.filter((e) => !exclude.includes(e.spec.name)) : group
    // (results gathered above are reused: a failing probe does not run its checks twice)
    const items = gathered ?? (await h.items(run))
    // who is asking matters only when there is a failure reason to show or withhold
    const failing = items.some((i) => i.outcome.status === "fail")
    const viewer = failing ? await h.viewer(request) : PUBLIC
    const byName = new Map(items.map((i) => [i.spec.name, i]))
    const rendered = probe({
      probe: kind,
      rows: group.map((e) => ({ name: e.spec.name, item: byName.get(e.spec.name) })),
      unknownExcludes: exclude.filter((n) => !names.has(n)),
      verbose: params?.has("verbose") ?? false,
      phase: runner.phase(),
      viewer,
    })
    return send(rendered, K8S_HEADERS)
  }

  async function probeCheck(kind: Probe, name: string, request: Request): Promise<Response> {
    if (name === "ping")
      return send({ status: 200, body: "ok", contentType: "text/plain; charset=utf-8" }, K8S_HEADERS)
    const entry = runner.get(name)
    if (!entry?.spec.groups.includes(GROUP_OF[kind]))
      return new Response(`404 page not found: no ${kind} check "${name}"\n`, {
        status: 404,
        headers: { "content-type": "text/plain; charset=utf-8", ...K8S_HEADERS },
      })
    const [item] = await h.items([entry])
    return send(probeOne(item, await h.viewer(request)), K8S_HEADERS)
  }

  return { probeFast, probeCheck }
}

/** The results plus, once shutdown has begun, the failing `shutdown` check load balancers must see. */
function withLifecycle(h: Health, items: Item[]): Item[] {
  const since = h.runner.stoppingSince()
  return since === undefined ? items : [...items, shutdownItem(since)]
}

export function healthRoutes(h: Health) {
  const { runner } = h
  const { probeCheck } = probes(h)
  const app = new Elysia({ name: "health.api", strictPath: true })
    // IETF health+json: every check
    .get(
      "/health",
      ({ request }) => {
        const entries = runner.entries()
        const anonymous = h.anonymousViewer(request)
        const hit = anonymous && h.cached(`ietf:${anonymous.details}`, entries)
        if (hit) return send(hit)
        return (async () => {
          const viewer = anonymous ?? (await h.viewer(request))
          return send(
            await h.rendered(`ietf:${viewer.details}`, entries, (items) =>
              ietf(withLifecycle(h, items), h.meta, viewer),
            ),
          )
        })()
      },
      hide,
    )
    .get("/livez/:check", ({ params, request }) => probeCheck("livez", params.check, request), hide)
    .get("/readyz/:check", ({ params, request }) => probeCheck("readyz", params.check, request), hide)
    .get("/startupz/:check", ({ params, request }) => probeCheck("startupz", params.check, request), hide)
    // panopticon: the slash form only (the changes plugin owns /healthcheck)
    .get(
      "/healthcheck/",
      async ({ request }) => {
        const viewer = await h.viewer(request)
        const items = await h.items(runner.entries())
        return send(panopticon(withLifecycle(h, items), h.ctx.now(), viewer))
      },
      hide,
    )
    .get(
      "/c2c/health_check",
      async ({ request }) => {
        const params = new URL(request.url).searchParams
        const rawLevel = params.get("max_level")
        let maxLevel = 1
        if (rawLevel !== null) {
          if (!/^-?\d+$/.test(rawLevel.trim()))
            return errorResponse(
              400,
              "bad_request",
              `max_level must be an integer, got ${JSON.stringify(rawLevel)}`,
            )
          maxLevel = Number(rawLevel)
        }
        const names = (params.get("checks") ?? "")
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
        const unknown = names.filter((n) => !runner.get(n))
        if (unknown.length)
          return errorResponse(
            400,
            "bad_request",
            `unknown check${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")}`,
            { unknown, known: runner.entries().map((e) => e.spec.name) },
          )
        const selected = runner.select({ maxLevel, names: names.length ? names : undefined })
        const viewer = await h.viewer(request)
        const items = await h.items(selected)
        // max_level=0 is a ping (the process answers), not a question about taking traffic
        return send(c2c(maxLevel >= 1 ? withLifecycle(h, items) : items, viewer))
      },
      hide,
    )
    .get("/actuator/health", ({ request }) => actuator(h, request, undefined), hide)
    .get("/actuator/health/:name", ({ request, params }) => actuator(h, request, params.name), hide)
    .use(nativeApi(h))
  return app
}

const SPRING_GROUPS: Record<string, string> = { liveness: "live", readiness: "ready" }

async function actuator(h: Health, request: Request, name: string | undefined): Promise<Response> {
  const { runner } = h
  const viewer = await h.viewer(request)
  const accept = request.headers.get("accept")
  const notTakingTraffic = runner.phase() !== "running"
  if (name === undefined) {
    const items = await h.items(runner.entries())
    return send(springAggregate(items, viewer, { outOfService: notTakingTraffic, accept }))
  }
  const group = SPRING_GROUPS[name] ?? name
  const members = runner.select({ group })
  const isGroup = name in SPRING_GROUPS || members.length > 0
  if (isGroup) {
    const items = await h.items(members)
    // readiness refuses traffic while starting and shutting down (OUT_OF_SERVICE); liveness does not
    return send(
      springAggregate(items, viewer, { outOfService: group !== "live" && notTakingTraffic, accept }),
    )
  }
  const entry = runner.get(name)
  if (!entry) return errorResponse(404, "not_found", `no health component or group "${name}"`)
  const [item] = await h.items([entry])
  return send(springOne(item, viewer, accept))
}

// ---- native API ---------------------------------------------------------------------------------

const StatusT = t.Union([t.Literal("pass"), t.Literal("warn"), t.Literal("fail")])

const CheckView = t.Object({
  name: t.String(),
  status: StatusT,
  message: t.Optional(
    t.String({ description: "Hidden unless LOGBOOK_HEALTH_SHOW_DETAILS allows this caller." }),
  ),
  durationMs: t.Number(),
  time: t.String({ format: "date-time", description: "When this result was observed." }),
  since: t.Union([t.String({ format: "date-time" }), t.Null()], { description: "In this status since." }),
  level: Type.Integer(),
  groups: t.Array(t.String()),
  critical: t.Boolean(),
  timeoutMs: Type.Integer(),
  cacheTtlMs: Type.Integer(),
  intervalMs: Type.Integer(),
  componentType: t.String(),
  source: t.String(),
  observedValue: t.Optional(t.Unknown()),
  observedUnit: t.Optional(t.String()),
  extras: t.Optional(t.Record(t.String(), t.Unknown())),
  stacktrace: t.Optional(t.String({ description: "Admins only." })),
})

const TransitionView = t.Object({
  id: Type.Integer(),
  instance: t.String(),
  check: t.String(),
  from: t.Union([t.Literal("pass"), t.Literal("warn"), t.Literal("fail"), t.Null()], {
    description: "null for the first result of a check",
  }),
  to: StatusT,
  message: t.Optional(t.String()),
  at: t.String({ format: "date-time" }),
})

const Overview = t.Object({
  status: StatusT,
  phase: t.Union([t.Literal("starting"), t.Literal("running"), t.Literal("stopping")]),
  instance: t.String(),
  checks: t.Array(CheckView),
})

/** An error response written out for a route whose responses are given as OpenAPI (`detail.responses`). */
const errorContent = (description: string) => ({
  description,
  content: { "application/json": { schema: errorSchema } },
})

const iso = (ms: number) => new Date(ms).toISOString()

function checkView(item: Item, v: Viewer) {
  const { spec, outcome: o } = item
  return {
    name: spec.name,
    status: o.status,
    ...(v.details ? { message: o.message } : {}),
    durationMs: o.durationMs,
    time: iso(o.time),
    since: item.since !== undefined ? iso(item.since) : null,
    level: spec.level,
    groups: spec.groups,
    critical: spec.critical,
    timeoutMs: spec.timeoutMs,
    cacheTtlMs: spec.cacheTtlMs,
    intervalMs: spec.intervalMs,
    componentType: spec.componentType,
    source: spec.source,
    ...(v.details && o.observedValue !== undefined ? { observedValue: o.observedValue } : {}),
    ...(v.details && o.observedUnit ? { observedUnit: o.observedUnit } : {}),
    ...(v.details ? { extras: o.extras } : {}),
    ...(v.admin && o.error?.stack ? { stacktrace: o.error.stack } : {}),
  }
}

function nativeApi(h: Health) {
  const { runner, state, ctx } = h
  const tags = ["health"]
  const entryOr404 = (name: string): Entry => {
    const e = runner.get(name)
    if (!e) throw new ApiError(404, "not_found", `no health check "${name}"`)
    return e
  }
  return new Elysia({ name: "health.native" })
    .get(
      "/api/v1/health",
      async ({ request, query }) => {
        const viewer = await h.viewer(request)
        const entries = runner.select({ group: query.group })
        const items = await h.items(entries)
        const status = worst(items.map((i) => i.outcome.status))
        return {
          status,
          phase: runner.phase(),
          instance: ctx.instanceId,
          checks: items.map((i) => checkView(i, viewer)),
        }
      },
      {
        beforeHandle: ctx.auth.need("read"),
        query: t.Object({
          group: t.Optional(t.String({ minLength: 1, description: "Only checks of this group." })),
        }),
        response: { 200: Overview, 401: errorSchema, 403: errorSchema, 422: errorSchema },
        detail: { summary: "Every health check with its current result and state on this instance", tags },
      },
    )
    .get(
      "/api/v1/health/checks/:name",
      async ({ request, params }) => {
        const viewer = await h.viewer(request)
        const [item] = await h.items([entryOr404(params.name)])
        return checkView(item, viewer)
      },
      {
        beforeHandle: ctx.auth.need("read"),
        params: t.Object({ name: t.String() }),
        response: { 200: CheckView, 401: errorSchema, 403: errorSchema, 404: errorSchema },
        detail: { summary: "One health check (cached result unless its TTL ran out)", tags },
      },
    )
    .post(
      "/api/v1/health/checks/:name/run",
      async ({ request, params }) => {
        const viewer = await h.viewer(request)
        const [item] = await h.items([entryOr404(params.name)], { force: true })
        return checkView(item, viewer)
      },
      {
        beforeHandle: ctx.auth.need("admin"),
        params: t.Object({ name: t.String() }),
        response: { 200: CheckView, 401: errorSchema, 403: errorSchema, 404: errorSchema },
        detail: { summary: "Run one health check now, bypassing its cache (admins)", tags },
      },
    )
    .get(
      "/api/v1/health/transitions",
      async ({ request, query }) => {
        const viewer = await h.viewer(request)
        const rows = await state.history({
          check: query.check,
          instance: query.instance,
          limit: query.limit ?? 100,
        })
        return { transitions: rows.map((r) => transitionView(r, viewer)) }
      },
      {
        beforeHandle: ctx.auth.need("read"),
        query: t.Object({
          check: t.Optional(t.String({ minLength: 1 })),
          instance: t.Optional(t.String({ minLength: 1 })),
          limit: t.Optional(paramInteger({ minimum: 1, maximum: 1000, default: 100 })),
        }),
        response: {
          200: t.Object({ transitions: t.Array(TransitionView) }),
          401: errorSchema,
          403: errorSchema,
          422: errorSchema,
        },
        detail: { summary: "Status transitions of health checks (all instances, newest first)", tags },
      },
    )
    .get(
      "/api/v1/health/transitions/stream",
      async ({ request, query }) => {
        const viewer = await h.viewer(request)
        // EventSource resends the last id it saw when it reconnects; it wins over ?after=
        const lastEventId = request.headers.get("last-event-id")
        return transitionStream(h, request, {
          after:
            lastEventId !== null
              ? transitionId(lastEventId, "Last-Event-ID")
              : query.after === undefined
                ? undefined
                : transitionId(query.after, "after"),
          check: query.check,
          instance: query.instance,
          view: (r) => transitionView(r, viewer),
        })
      },
      {
        beforeHandle: ctx.auth.need("read"),
        query: t.Object({
          after: t.Optional(
            t.String({ description: "A transition id: replay the stored transitions after it first." }),
          ),
          check: t.Optional(t.String({ minLength: 1 })),
          instance: t.Optional(t.String({ minLength: 1 })),
        }),
        detail: {
          summary:
            "Status transitions of health checks as they are stored (all instances), as server-sent events",
          description:
            "One `transition` event per stored transition, `data` shaped like an item of `/api/v1/health/transitions`, `id` the transition id: reconnect with `Last-Event-ID` (or `?after=`) to get what was missed. Comment lines keep the connection alive.",
          tags,
          responses: {
            200: {
              description: "text/event-stream of `transition` events",
              content: { "text/event-stream": { schema: { type: "string" } } },
            },
            400: errorContent("`after` or `Last-Event-ID` is not a transition id"),
            401: errorContent("no or an unknown credential"),
            403: errorContent("the credential lacks the read role"),
            422: errorContent("a query parameter is invalid"),
          },
        },
      },
    )
}

/** A resume point given by a client: a transition id, or a 400 naming where it came from. */
function transitionId(raw: string, what: string): number {
  if (!/^\d{1,15}$/.test(raw.trim()))
    throw new ApiError(
      400,
      "bad_request",
      `${what} must be a transition id (a non-negative integer), got ${JSON.stringify(raw)}`,
    )
  return Number(raw)
}

function transitionView(r: TransitionRow, viewer: Viewer) {
  return {
    id: r.id,
    instance: r.instance_id,
    check: r.check_name,
    from: r.from_status as "pass" | "warn" | "fail" | null,
    to: r.to_status as "pass" | "warn" | "fail",
    ...(viewer.details ? { message: r.message } : {}),
    at: iso(r.at),
  }
}
