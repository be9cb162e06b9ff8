/**
 * Compatibility surfaces for Logbook's own loggers, with their clients' exact shapes:
 * - Spring Boot Actuator: `GET /actuator/loggers`, `GET/POST /actuator/loggers/{name}`. POST stores a
 *   time-boxed override (`ttl`: ISO-8601 duration or seconds, default 30 minutes; `reason`, `scope`);
 *   `{}` / `configuredLevel: null` revokes the active override (reset). Needs the admin role.
 * - c2cwsgiutils: `GET /c2c/logging/level?name=&level=` with the admin token in `X-API-Key` (or `?secret=`
 *   only when LOGBOOK_LEVELS_C2C_SECRET_PARAM=1). Unlike c2c, levels are validated before anything is
 *   stored, expire after the default TTL, NOTSET resets, and unknown names need `create=true`.
 */
import { Elysia } from "elysia"
import { ApiError } from "../../src/http/errors"
import type { PluginContext } from "../../src/plugin/contract"
import { actorOf } from "./api"
import {
  INHERIT,
  isLoggerName,
  LevelError,
  normaliseLogger,
  parseDuration,
  parseLevel,
  pythonName,
  SPRING_LEVELS,
  springName,
} from "./levels"
import type { LevelsRuntime, LoggerView } from "./runtime"
import type { Actor } from "./service"

const SPRING_TYPE = "application/vnd.spring-boot.actuator.v3+json"
/** The request types Spring's actuator reads: application/json and its v2/v3 actuator types. */
const SPRING_REQUEST_TYPE = /^\s*application\/(json|vnd\.spring-boot\.actuator\.v[23]\+json)\s*(;|$)/i

const json = (body: unknown, status: number, type = "application/json") =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": `${type}; charset=utf-8` } })

export function compat(ctx: PluginContext, rt: LevelsRuntime) {
  const read = ctx.auth.need("read")
  const admin = ctx.auth.need("admin")
  const hide = { detail: { hide: true } }

  const view = (name: string): LoggerView | undefined => rt.loggers("logbook").find((l) => l.name === name)
  const springType = (request: Request) =>
    (request.headers.get("accept") ?? "").includes(SPRING_TYPE) ||
    !(request.headers.get("accept") ?? "").includes("application/json")
      ? SPRING_TYPE
      : "application/json"
  const springEntry = (l: LoggerView) => ({
    configuredLevel: l.configured ? springName(l.configured) : null,
    effectiveLevel: l.effective ? springName(l.effective) : null,
  })
  const springName404 = (name: string) => (name.toUpperCase() === "ROOT" ? "root" : name)
  const springError = (request: Request, status: number, error: string, message: string) =>
    json(
      {
        timestamp: new Date(ctx.now()).toISOString(),
        status,
        error,
        message,
        path: new URL(request.url).pathname,
      },
      status,
    )

  /** The same rules for both surfaces: set (time-boxed) or reset; throws ApiError(400/404). */
  async function setOrReset(
    name: string,
    levelIn: unknown,
    opts: { ttl?: unknown; reason?: unknown; scope?: unknown; create: boolean; actor: Actor; via: string },
  ): Promise<void> {
    let level: ReturnType<typeof parseLevel>
    try {
      level = parseLevel(levelIn)
    } catch (e) {
      if (e instanceof LevelError) throw new ApiError(400, "bad_request", e.message)
      throw e
    }
    if (!isLoggerName(name))
      throw new ApiError(400, "bad_request", `invalid logger name ${JSON.stringify(name)}`)
    const logger = normaliseLogger(name)
    const known = view(logger) !== undefined
    if (level === INHERIT) {
      if (!known) throw new ApiError(404, "not_found", `unknown logger ${name}`)
      await rt.service.resetLogger("logbook", logger, opts.actor, opts.reason ?? `reset via ${opts.via}`)
      return
    }
    if (!known && !opts.create)
      throw new ApiError(404, "not_found", `unknown logger ${name} (add create=true to create it)`)
    let duration: number | undefined
    if (opts.ttl !== undefined && opts.ttl !== null) {
      const d = parseDuration(opts.ttl)
      if (d === null)
        throw new ApiError(
          400,
          "bad_request",
          `ttl must be an ISO-8601 duration like PT30M or a number of seconds, got ${JSON.stringify(opts.ttl)}`,
        )
      duration = d / 1000
    }
    await rt.service.createOverride(
      {
        logger,
        level,
        duration,
        scope: opts.scope,
        reason: typeof opts.reason === "string" ? opts.reason : `set via ${opts.via}`,
      },
      opts.actor,
    )
  }

  return new Elysia({ name: "levels.compat" })
    .get(
      "/actuator/loggers",
      ({ request }) => {
        const loggers: Record<string, ReturnType<typeof springEntry>> = {}
        for (const l of rt.loggers("logbook")) loggers[l.name === "root" ? "ROOT" : l.name] = springEntry(l)
        return json({ levels: SPRING_LEVELS, loggers, groups: {} }, 200, springType(request))
      },
      { beforeHandle: read, ...hide },
    )
    .get(
      "/actuator/loggers/:name",
      ({ params, request }) => {
        const l = view(springName404(params.name))
        if (!l) return springError(request, 404, "Not Found", `unknown logger ${params.name}`)
        return json(springEntry(l), 200, springType(request))
      },
      { beforeHandle: read, ...hide },
    )
    .post(
      "/actuator/loggers/:name",
      async ({ params, request, body }) => {
        // Spring reads JSON only (application/json and its actuator types) and answers 415 otherwise; a body
        // that is missing or not a JSON object is a 400 — neither may reset the level as `{}` does
        const type = request.headers.get("content-type")
        if (type && !SPRING_REQUEST_TYPE.test(type))
          return springError(
            request,
            415,
            "Unsupported Media Type",
            `Content-Type ${type.split(";")[0]} is not supported; send application/json`,
          )
        let b: Record<string, unknown>
        try {
          const parsed: unknown = JSON.parse(typeof body === "string" ? body : "")
          if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error()
          b = parsed as Record<string, unknown>
        } catch {
          return springError(
            request,
            400,
            "Bad Request",
            'the body must be a JSON object: {"configuredLevel":"DEBUG"}, or {} to reset',
          )
        }
        try {
          await setOrReset(springName404(params.name), b.configuredLevel ?? null, {
            ttl: b.ttl,
            reason: b.reason,
            scope: b.scope,
            create: true,
            actor: await actorOf(ctx, request),
            via: "actuator",
          })
        } catch (e) {
          if (e instanceof ApiError && (e.status === 400 || e.status === 404))
            return springError(request, e.status, e.status === 400 ? "Bad Request" : "Not Found", e.message)
          throw e
        }
        return new Response(null, { status: 204 })
      },
      // the body is read as text whatever its type (the handler checks the type after the role check)
      { parse: ({ request }) => request.text(), beforeHandle: admin, ...hide },
    )
    .get(
      "/c2c/logging/level",
      async ({ request }) => {
        const url = new URL(request.url)
        const q = url.searchParams
        const key = request.headers.get("x-api-key") ?? (rt.settings.c2cSecretParam ? q.get("secret") : null)
        // only the token itself counts (no session cookie: a GET that changes state must not ride on a cookie)
        const p = key
          ? await ctx.auth.principal(new Request(url, { headers: { "x-api-key": key } }))
          : undefined
        if (!p?.roles.has("admin")) return json({ status: 403, message: "Missing or invalid secret" }, 403)
        const name = q.get("name")
        if (!name) {
          const overrides: Record<string, string> = {}
          for (const l of rt.loggers("logbook"))
            if (l.configured && l.source !== "config" && l.source !== "inherited")
              overrides[l.name] = pythonName(l.configured)
          return json({ status: 200, overrides }, 200)
        }
        const level = q.get("level")
        if (level !== null) {
          try {
            await setOrReset(name, level, {
              ttl: q.get("ttl") ?? undefined,
              reason: q.get("reason") ?? undefined,
              scope: q.get("scope") ?? undefined,
              create: q.get("create") === "true",
              actor: { name: p.name, admin: true },
              via: "c2c",
            })
          } catch (e) {
            if (e instanceof ApiError && e.status < 500)
              return json({ status: e.status, message: e.message }, e.status)
            throw e
          }
        }
        const l = view(normaliseLogger(name))
        if (!l) return json({ status: 404, message: `unknown logger ${name}` }, 404)
        return json(
          {
            status: 200,
            name,
            level: l.configured ? pythonName(l.configured) : "NOTSET",
            effective_level: l.effective ? pythonName(l.effective) : "NOTSET",
          },
          200,
        )
      },
      hide,
    )
}
