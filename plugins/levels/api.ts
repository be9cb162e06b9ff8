/**
 * The native JSON API under /api/v1/levels (in OpenAPI): loggers with effective level and source,
 * overrides, profiles, triggers, history, instances, and the desired set for remote services (ETag +
 * long-poll). Reads need the read role, changes the admin role.
 */
import { Type } from "@sinclair/typebox"
import { Elysia, t } from "elysia"
import { ApiError, errorSchema } from "../../src/http/errors"
import { jsonBodyAfter } from "../../src/http/json-body"
import { paramInteger } from "../../src/http/params"
import type { PluginContext } from "../../src/plugin/contract"
import type { LevelsRuntime } from "./runtime"
import type { Actor } from "./service"

const tags = ["levels"]
const Level = t.Union([t.String(), t.Null()], {
  description: "TRACE, DEBUG, INFO, WARN/WARNING, ERROR, FATAL/CRITICAL, OFF (any case)",
})
const Instant = t.Union([t.Number(), t.String()], { description: "epoch ms or ISO-8601 date-time" })
const Duration = t.Union([t.Number(), t.String()], { description: "ISO-8601 duration (PT30M) or seconds" })

const Override = t.Object({
  id: Type.Integer(),
  target: t.String(),
  logger: t.String(),
  level: t.String(),
  starts_at: Type.Integer(),
  expires_at: t.Union([Type.Integer(), t.Null()]),
  scope: t.String(),
  actor: t.String(),
  reason: t.String(),
  created_at: Type.Integer(),
  revoked_at: t.Union([Type.Integer(), t.Null()]),
  revoked_by: t.Union([t.String(), t.Null()]),
  state: t.String(),
})
const Winner = t.Object({
  level: t.String(),
  source: t.String(),
  id: Type.Integer(),
  profile: t.Optional(t.String()),
  scope: t.String(),
  startsAt: Type.Integer(),
  until: t.Union([Type.Integer(), t.Null()]),
  actor: t.Optional(t.String()),
  reason: t.Optional(t.String()),
})
const LoggerRow = t.Object({
  name: t.String(),
  configured: t.Union([t.String(), t.Null()]),
  effective: t.Union([t.String(), t.Null()]),
  source: t.String(),
  from: t.String(),
  winner: t.Optional(Winner),
})
const Recurrence = t.Object({
  every: t.Literal("daily"),
  from: t.String({ description: "HH:MM local" }),
  to: t.String({ description: "HH:MM local; ≤ from = next day" }),
  tz: t.Optional(t.String({ description: "IANA zone, default UTC" })),
  days: t.Optional(t.Array(Type.Integer(), { description: "weekdays the window starts on, 0 = Sunday" })),
})
const Trigger = t.Object({
  id: Type.Integer(),
  profile: t.String(),
  target: t.String(),
  scope: t.String(),
  starts_at: t.Union([t.Number(), t.Null()]),
  ends_at: t.Union([Type.Integer(), t.Null()]),
  recurrence: t.Union([t.Unknown(), t.Null()]),
  mode: t.String(),
  active: t.Boolean(),
})
const Profile = t.Object({ name: t.String(), levels: t.Record(t.String(), t.String()) })
const History = t.Object({
  id: Type.Integer(),
  at: Type.Integer(),
  action: t.String(),
  target: t.String(),
  logger: t.Union([t.String(), t.Null()]),
  before_level: t.Union([t.String(), t.Null()]),
  after_level: t.Union([t.String(), t.Null()]),
  actor: t.String(),
  reason: t.String(),
  ref_id: t.Union([Type.Integer(), t.Null()]),
  description: t.String(),
})
const DesiredLevel = t.Object({
  level: t.String(),
  levelno: Type.Integer(),
  expires_at: t.Union([t.String(), t.Null()]),
  source: t.String(),
})

/** What an admin route with a JSON body may answer besides its success. */
/** What every route answers a caller without the role… */
const denied = { 401: errorSchema, 403: errorSchema }
/** …a route with query parameters (422 for a bad one), one naming a row by id or name (404)… */
const queried = { ...denied, 422: errorSchema }
const found = { ...denied, 404: errorSchema }
/** …and an admin route with a JSON body (jsonBodyAfter: 400 unparsable, 415 not JSON; the service's 400s). */
const bodyErrors = { 400: errorSchema, ...denied, 415: errorSchema, 422: errorSchema }

/**
 * If-None-Match against the current ETag with RFC 9110's weak comparison (§13.1.2): `*`, or any tag of the
 * list whose opaque part equals ours, W/ or not (a proxy that compresses the answer weakens the ETag).
 */
export function noneMatchHits(header: string | null, etag: string): boolean {
  if (header === null) return false
  if (header.trim() === "*") return true
  const opaque = etag.replace(/^W\//, "")
  return (header.match(/(W\/)?"[^"]*"/g) ?? []).some((tag) => tag.replace(/^W\//, "") === opaque)
}

export async function actorOf(ctx: PluginContext, request: Request): Promise<Actor> {
  const p = await ctx.auth.principal(request)
  return { name: p.name, admin: p.roles.has("admin") }
}

export function api(ctx: PluginContext, rt: LevelsRuntime) {
  const read = ctx.auth.need("read")
  // admin routes check the role in `transform`, which runs before the body, query and params are validated:
  // who may not change levels gets 401/403 for any body, never a 422 describing it
  const admin = ctx.auth.need("admin")
  const { service } = rt
  // admin routes with a body take JSON only (so documented), and check the caller before the body:
  // 401/403 before 400 (unparsable), 415 (a form or text) and 422 (invalid)
  const jsonBody = jsonBodyAfter(admin)

  const numId = (s: string) => {
    const n = Number(s)
    if (!Number.isSafeInteger(n) || n <= 0)
      throw new ApiError(404, "not_found", `no such id ${JSON.stringify(s)}`)
    return n
  }

  return new Elysia({ name: "levels.api" })
    .get(
      "/api/v1/levels/loggers",
      ({ query }) => ({ target: query.target ?? "logbook", loggers: rt.loggers(query.target ?? "logbook") }),
      {
        beforeHandle: read,
        query: t.Object({
          target: t.Optional(t.String({ description: '"logbook" (default) or an app name' })),
        }),
        response: { 200: t.Object({ target: t.String(), loggers: t.Array(LoggerRow) }), ...queried },
        detail: { summary: "Logger tree with effective level and where it comes from", tags },
      },
    )
    .get("/api/v1/levels/targets", () => ({ targets: ["logbook", ...rt.targets()] }), {
      beforeHandle: read,
      response: { 200: t.Object({ targets: t.Array(t.String()) }), ...denied },
      detail: { summary: "Logbook and every remote app named by an override or trigger", tags },
    })
    .get(
      "/api/v1/levels/overrides",
      async ({ query }) => ({
        overrides: await service.listOverrides({
          target: query.target,
          include: query.include,
          limit: query.limit,
        }),
      }),
      {
        beforeHandle: read,
        query: t.Object({
          target: t.Optional(t.String()),
          include: t.Optional(
            t.Union([t.Literal("live"), t.Literal("all")], {
              description: "live (default): active and scheduled",
            }),
          ),
          limit: t.Optional(paramInteger({ minimum: 1, maximum: 5000 })),
        }),
        response: { 200: t.Object({ overrides: t.Array(Override) }), ...queried },
        detail: { summary: "List overrides (newest first)", tags },
      },
    )
    .post(
      "/api/v1/levels/overrides",
      async ({ body, request, set }) => {
        const o = await service.createOverride(body, await actorOf(ctx, request))
        set.status = 201
        return o
      },
      {
        ...jsonBody,
        body: t.Object({
          target: t.Optional(t.String({ description: '"logbook" (default) or a remote app name' })),
          logger: t.String({ description: 'dotted name; "root" for the root logger' }),
          level: Level,
          duration: t.Optional(Duration),
          starts_at: t.Optional(Instant),
          expires_at: t.Optional(Instant),
          permanent: t.Optional(t.Boolean()),
          scope: t.Optional(t.String({ description: '"all" (default) or an instance id' })),
          reason: t.Optional(t.String({ maxLength: 1000 })),
        }),
        response: { 201: Override, ...bodyErrors },
        detail: { summary: "Set a level for a window (default 30 minutes)", tags },
      },
    )
    .get(
      "/api/v1/levels/overrides/:id",
      async ({ params }) => {
        const o = await service.getOverride(numId(params.id))
        if (!o) throw new ApiError(404, "not_found", `no override ${params.id}`)
        return o
      },
      {
        beforeHandle: read,
        response: { 200: Override, ...found },
        detail: { summary: "One override", tags },
      },
    )
    .delete(
      "/api/v1/levels/overrides/:id",
      async ({ params, query, request }) =>
        service.revokeOverride(numId(params.id), await actorOf(ctx, request), query.reason),
      {
        transform: admin,
        query: t.Object({ reason: t.Optional(t.String({ maxLength: 1000 })) }),
        response: { 200: Override, ...found, 409: errorSchema, 422: errorSchema },
        detail: { summary: "Revoke an override (the logger reverts at once)", tags },
      },
    )
    .get("/api/v1/levels/profiles", async () => ({ profiles: await service.listProfiles() }), {
      beforeHandle: read,
      response: {
        200: t.Object({
          profiles: t.Array(
            t.Object({
              name: t.String(),
              levels: t.Record(t.String(), t.String()),
              description: t.String(),
              updated_by: t.String(),
              updated_at: Type.Integer(),
            }),
          ),
        }),
        ...denied,
      },
      detail: { summary: "Profiles (named sets of logger → level)", tags },
    })
    .put(
      "/api/v1/levels/profiles/:name",
      async ({ params, body, request }) =>
        service.saveProfile({ name: params.name, ...body }, await actorOf(ctx, request)),
      {
        ...jsonBody,
        body: t.Object({
          levels: t.Record(t.String(), t.Union([t.String(), t.Null()])),
          description: t.Optional(t.String({ maxLength: 1000 })),
        }),
        response: { 200: Profile, ...bodyErrors },
        detail: { summary: "Create or replace a profile", tags },
      },
    )
    .delete(
      "/api/v1/levels/profiles/:name",
      async ({ params, request }) => {
        await service.deleteProfile(params.name, await actorOf(ctx, request))
        return { deleted: params.name }
      },
      {
        transform: admin,
        response: { 200: t.Object({ deleted: t.String() }), ...found },
        detail: { summary: "Delete a profile and its triggers", tags },
      },
    )
    .get("/api/v1/levels/triggers", async () => ({ triggers: await service.listTriggers() }), {
      beforeHandle: read,
      response: {
        200: t.Object({
          triggers: t.Array(
            t.Composite([
              Trigger,
              t.Object({ actor: t.String(), reason: t.String(), created_at: Type.Integer() }),
            ]),
          ),
        }),
        ...denied,
      },
      detail: { summary: "Triggers (apply a profile for a window, optionally daily)", tags },
    })
    .post(
      "/api/v1/levels/triggers",
      async ({ body, request, set }) => {
        const tr = await service.createTrigger(body, await actorOf(ctx, request))
        set.status = 201
        return tr
      },
      {
        ...jsonBody,
        body: t.Object({
          profile: t.String(),
          target: t.Optional(t.String()),
          scope: t.Optional(t.String()),
          starts_at: t.Optional(Instant),
          ends_at: t.Optional(Instant),
          duration: t.Optional(Duration),
          permanent: t.Optional(t.Boolean()),
          recurrence: t.Optional(Recurrence),
          mode: t.Optional(t.Union([t.Literal("overlay"), t.Literal("replace")])),
          active: t.Optional(t.Boolean()),
          reason: t.Optional(t.String({ maxLength: 1000 })),
        }),
        response: { 201: Trigger, ...bodyErrors },
        detail: { summary: "Schedule a profile: one window, or daily from–to in a time zone", tags },
      },
    )
    .patch(
      "/api/v1/levels/triggers/:id",
      async ({ params, body, request }) =>
        service.setTriggerActive(numId(params.id), body.active, await actorOf(ctx, request)),
      {
        ...jsonBody,
        body: t.Object({ active: t.Boolean() }),
        response: { 200: Trigger, ...bodyErrors, 404: errorSchema },
        detail: { summary: "Activate or deactivate a trigger", tags },
      },
    )
    .delete(
      "/api/v1/levels/triggers/:id",
      async ({ params, request }) => {
        await service.deleteTrigger(numId(params.id), await actorOf(ctx, request))
        return { deleted: Number(params.id) }
      },
      {
        transform: admin,
        response: { 200: t.Object({ deleted: Type.Integer() }), ...found },
        detail: { summary: "Delete a trigger", tags },
      },
    )
    .get(
      "/api/v1/levels/history",
      async ({ query }) => ({ history: await service.history({ target: query.target, limit: query.limit }) }),
      {
        beforeHandle: read,
        query: t.Object({
          target: t.Optional(t.String()),
          limit: t.Optional(paramInteger({ minimum: 1, maximum: 2000 })),
        }),
        response: { 200: t.Object({ history: t.Array(History) }), ...queried },
        detail: { summary: "Audit history of every level change, expiry, profile and trigger change", tags },
      },
    )
    .get("/api/v1/levels/instances", () => rt.instances(), {
      beforeHandle: read,
      response: {
        200: t.Object({
          instances: t.Array(
            t.Object({
              instance_id: t.String(),
              applied_version: Type.Integer(),
              applied_at: Type.Integer(),
              last_seen: Type.Integer(),
            }),
          ),
          version: Type.Integer(),
          applied: Type.Integer(),
          total: Type.Integer(),
        }),
        ...denied,
      },
      detail: { summary: "Instances seen recently and the configuration version each has applied", tags },
    })
    .get(
      "/api/v1/levels/desired",
      async ({ query, request }) => {
        const app = query.app
        const instance = query.instance ?? null
        const etagOf = () => {
          const d = rt.desired(app, instance)
          return { d, etag: `"${Bun.hash(JSON.stringify([d.levels, d.next_change_at])).toString(36)}"` }
        }
        let cur = etagOf()
        const given = request.headers.get("if-none-match")
        const wait = Math.min(query.wait ?? 0, rt.settings.maxWaitSeconds)
        if (noneMatchHits(given, cur.etag) && wait > 0) {
          const held = cur.etag
          // long-poll: hold until the desired set changes (any recomputation may change it) or the wait ends
          await new Promise<void>((resolve) => {
            const timeout = setTimeout(done, wait * 1000)
            const unsubscribe = rt.applier.onRecompute(() => {
              if (etagOf().etag !== held) done()
            })
            request.signal?.addEventListener("abort", done)
            function done() {
              clearTimeout(timeout)
              unsubscribe()
              resolve()
            }
          })
          cur = etagOf()
        }
        const headers = { etag: cur.etag, "cache-control": "no-cache" }
        if (noneMatchHits(given, cur.etag)) return new Response(null, { status: 304, headers })
        return new Response(JSON.stringify(cur.d), {
          headers: { ...headers, "content-type": "application/json; charset=utf-8" },
        })
      },
      {
        beforeHandle: read,
        query: t.Object({
          app: t.String({ pattern: "^[A-Za-z0-9_.-]{1,100}$", description: "the service's app name" }),
          instance: t.Optional(
            t.String({ description: "the service instance (for instance-scoped overrides)" }),
          ),
          wait: t.Optional(
            paramInteger({ minimum: 0, maximum: 300, description: "long-poll seconds with If-None-Match" }),
          ),
        }),
        response: {
          200: t.Object({
            app: t.String(),
            version: Type.Integer(),
            levels: t.Record(t.String(), DesiredLevel),
            next_change_at: t.Union([t.String(), t.Null()]),
          }),
          ...queried,
        },
        detail: {
          summary: "Levels a remote service should apply now (ETag; long-poll with If-None-Match and wait)",
          description:
            "Answers 304 (no body) when If-None-Match names the current ETag (weak comparison: W/ and lists match, so does *); with `wait` the request is held until the set changes or the wait ends (capped by LOGBOOK_LEVELS_MAX_WAIT_SECONDS).",
          tags,
        },
      },
    )
}
