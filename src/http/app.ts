/**
 * The HTTP application: one Elysia app with the core's routes (home, sign-in, plugins page, assets,
 * OpenAPI) and every plugin's routes, wrapped by `fetch`, which does per-request work that must surround
 * everything: request id (echoed, and in every log line through AsyncLocalStorage), body-size limit,
 * CORS, Server-Timing, and the `http.request` event with the route template. Fast routes (plugins'
 * `fastRoutes`) are answered before all of that: probes (GET/HEAD) with only the caller's request id echoed
 * and the request event, plain POSTs with the request id, Server-Timing and the request event.
 */
import { openapi } from "@elysiajs/openapi"
import type { TSchema } from "@sinclair/typebox"
import { Elysia } from "elysia"
import { assetResponse } from "../../views/assets"
import { type Html, html } from "../../views/html"
import { layout } from "../../views/layout"
import { WriterFullError } from "../db/writer"
import { requestScope } from "../log"
import { type FastRoute, fastRouteKey, type Ui } from "../plugin/contract"
import type { Host } from "../plugin/host"
import { VERSION } from "../version"
import { SESSION_COOKIE } from "./auth"
import { corePages } from "./core-pages"
import { ApiError, errorResponse, STRUCTURED_BODY } from "./errors"
import { callerRequestId, requestIdOf } from "./request-id"
import { tokenApi } from "./tokens-api"
import { describeValidation, type ElysiaValidationError, type RequestPart } from "./validation"

export interface App {
  elysia: Elysia
  /** The request handler: Bun.serve's `fetch`, and what tests call (probes may answer without a promise). */
  fetch(request: Request): Response | Promise<Response>
}

/** The path of a request URL without building a URL object (hot path). */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2)
  if (start < 0) return "/"
  let end = url.indexOf("?", start)
  if (end < 0) end = url.length
  const hash = url.indexOf("#", start)
  return url.slice(start, hash >= 0 && hash < end ? hash : end)
}

const routeNames = new Map<string, string>()
/** routeName, memoised: route templates are few and fixed. */
function cachedRouteName(template: string): string {
  let name = routeNames.get(template)
  if (name === undefined) {
    name = routeName(template)
    if (routeNames.size < 10_000) routeNames.set(template, name)
  }
  return name
}

const isPage = (path: string) => path === "/" || path.startsWith("/ui/") || path === "/ui"

export function createUi(host: Host): Ui {
  return {
    async page(request, opts) {
      const partial =
        request.headers.get("hx-request") === "true" && request.headers.get("hx-request-type") === "partial"
      const headers = {
        "content-type": "text/html; charset=utf-8",
        vary: "HX-Request, HX-Request-Type",
        ...opts.headers,
      }
      if (partial) return new Response(opts.body.value, { status: opts.status ?? 200, headers })
      const t0 = performance.now()
      const principal = await host.auth.principal(request)
      const page = layout({
        title: opts.title,
        body: opts.body,
        nav: host.nav(),
        active: opts.active,
        principal,
        csrfToken: await host.auth.csrfFor(request),
        scripts: host.scripts(),
        styles: host.styles(),
        version: VERSION,
      })
      const renderMs = performance.now() - t0
      const scope = requestScope.getStore()
      if (scope) scope.renderMs = (scope.renderMs ?? 0) + renderMs
      if (host.events.has("ui.render"))
        host.events.emit("ui.render", { title: opts.title, durationMs: renderMs })
      return new Response(page.value, { status: opts.status ?? 200, headers })
    },
    fragment(body: Html, init?: ResponseInit) {
      const headers = new Headers(init?.headers)
      if (!headers.has("content-type")) headers.set("content-type", "text/html; charset=utf-8")
      return new Response(body.value, { ...init, headers })
    },
    csrfToken: (request) => host.auth.csrfFor(request),
  }
}

/** `/users/:id` → `users_id` (c2cwsgiutils route names); `/` → `root`. */
export function routeName(template: string): string {
  if (template === "/" || template === "") return "root"
  if (template === "_not_found") return template
  return template
    .replace(/^\//, "")
    .replace(/:/g, "")
    .replace(/[^A-Za-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
}

/**
 * Bun.serve's `maxRequestBodySize`: none. Bun answers a Content-Length above its limit itself, with a bare
 * 413 (no body, no request id, not counted), before `fetch` runs — so any finite limit would take over from
 * ours for the largest bodies. Ours is checked on every request instead, before a body is read: by its
 * Content-Length, or counted as it arrives when it has none. Bun streams bodies, so an unread one costs
 * no memory (after our 413 it closes the connection). Content-Lengths Bun cannot parse (18 digits and more)
 * are still its own 400.
 */
export const SERVER_BODY_LIMIT = Number.POSITIVE_INFINITY

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"])
const FORM = /^(application\/x-www-form-urlencoded|multipart\/form-data)/i

/** `/api/v1/x/:id` → a matcher for concrete paths (off the hot path: 405s and answers before the router). */
function templateMatcher(template: string): RegExp {
  const parts = template.split("/").map((seg) => {
    if (seg === "*") return ".*"
    if (seg.startsWith(":")) return seg.endsWith("?") ? "[^/]*" : "[^/]+"
    return seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
  })
  return new RegExp(`^${parts.join("/")}$`)
}

/** Segment by segment, a literal beats a parameter, which beats a wildcard (the router's precedence). */
function bySpecificity(a: string, b: string): number {
  const kind = (seg: string | undefined) => (seg === "*" ? 2 : seg?.startsWith(":") ? 1 : 0)
  const sa = a.split("/")
  const sb = b.split("/")
  for (let i = 0; i < Math.min(sa.length, sb.length); i++) {
    const d = kind(sa[i]) - kind(sb[i])
    if (d !== 0) return d
  }
  return sb.length - sa.length
}

/**
 * Reads a body of unknown length (chunked) up to `max` bytes; undefined when it is longer. The rest of a
 * longer body is cancelled without waiting: Bun's cancel may not settle while the client is still sending
 * (a body far over the limit was never answered), and the 413 closes the connection anyway.
 */
export async function readLimited(
  body: ReadableStream<Uint8Array>,
  max: number,
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const chunks: Uint8Array[] = []
  let total = 0
  const reader = body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > max) {
      reader.cancel().catch(() => {})
      return undefined
    }
    chunks.push(value)
  }
  const out = new Uint8Array(total)
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.byteLength
  }
  return out
}

export function createApp(host: Host): App {
  const log = host.logging.logger("logbook.http")
  const routeOf = new WeakMap<Request, string>()
  // from SIGTERM on, every answer asks the client to close its connection: keep-alive clients (load
  // balancers) reconnect, so the drain period ends without idle connections for stop() to wait on
  let draining = false
  host.events.on("server.draining", () => {
    draining = true
  })
  const corsOrigins = new Set(host.config.corsOrigins)
  const anyOrigin = corsOrigins.has("*")

  /** Every route as a matcher, the most specific first. Built on first use (never on the hot path). */
  let matchers: Array<{ method: string; template: string; re: RegExp }> | undefined
  const routeMatchers = () =>
    (matchers ??= elysia.routes
      .map((r) => ({ method: r.method, template: r.path, re: templateMatcher(r.path) }))
      .sort((a, b) => bySpecificity(a.template, b.template)))

  /** The methods a path is served with (405 + Allow); empty for a real 404. */
  const allowedMethods = (path: string): string[] => {
    const methods = new Set(
      routeMatchers()
        .filter((m) => m.method !== "ALL" && !m.template.includes("*") && m.re.test(path))
        .map((m) => m.method),
    )
    if (methods.has("GET")) methods.add("HEAD")
    return [...methods].sort()
  }

  /**
   * The template of the route a request would reach, for requests answered before the router (413, CSRF
   * 403), so they are measured under their route like those the router refuses; "_not_found" if none.
   */
  const routeBeforeRouter = (method: string, path: string): string =>
    routeMatchers().find(
      (m) =>
        (m.method === method || m.method === "ALL" || (m.method === "GET" && method === "HEAD")) &&
        m.re.test(path),
    )?.template ?? "_not_found"

  /** The schemas a route declares for one part of the request (its own and its guards'), for a 422's words. */
  const routeSchemas =
    (method: string, template: string | undefined) =>
    (part: RequestPart): TSchema[] => {
      const m = method === "HEAD" ? "GET" : method
      const hooks = elysia.routes.find((r) => r.path === template && (r.method === m || r.method === "ALL"))
        ?.hooks as
        | (Record<string, unknown> & { standaloneValidator?: Array<Record<string, unknown>> })
        | undefined
      if (!hooks) return []
      const all = [hooks[part], ...(hooks.standaloneValidator ?? []).map((v) => v?.[part])]
      return all.filter((s): s is TSchema => typeof s === "object" && s !== null)
    }

  // compatibility paths answer a full write queue in their own error shape (plugins' `overloaded`)
  const overloadedByPath = new Map<string, (retryAfterSeconds: number) => Response>()
  for (const m of host.mounted)
    for (const [path, answer] of Object.entries(m.plugin.overloaded ?? {})) {
      if (overloadedByPath.has(path)) throw new Error(`overloaded ${path} of ${m.plugin.id} is already taken`)
      overloadedByPath.set(path, answer)
    }
  const overloaded = (error: WriterFullError, path: string) => {
    const retryAfter = String(error.retryAfterSeconds)
    const own = overloadedByPath.get(path)?.(error.retryAfterSeconds)
    if (!own) return errorResponse(503, "overloaded", error.message, undefined, { "retry-after": retryAfter })
    if (!own.headers.has("retry-after")) own.headers.set("retry-after", retryAfter)
    return own
  }

  /** A server bug: logged, reported (`http.error`, Sentry), answered with the request id to quote. */
  async function internalError(error: unknown, request: Request, path: string, requestId: string) {
    log.error("unhandled error", { error, path, requestId })
    if (host.events.has("http.error")) host.events.emit("http.error", { error, request, requestId })
    if (isPage(path)) return errorPage(host, request, 500, `Something went wrong (request id ${requestId}).`)
    // details (never a stack trace) only for admins; everyone else gets the request id to report
    const admin = (await host.auth.principal(request)).roles.has("admin")
    const err = error as Error
    return errorResponse(
      500,
      "internal",
      "internal error; see the server log for this request id",
      admin
        ? { requestId, error: `${err?.name ?? "Error"}: ${err?.message ?? String(error)}` }
        : { requestId },
    )
  }

  // the route template of every request the router matched: from beforeHandle when the handler runs; from
  // onError when parsing, validation or a hook refused it first (Elysia sets `route` before it parses)
  const elysia = new Elysia({ normalize: true, strictPath: true })
    .onBeforeHandle({ as: "global" }, ({ request, route }) => {
      routeOf.set(request, route)
    })
    .onError({ as: "global" }, async (context) => {
      const { code, error, request, path, set, route } = context
      if (route) routeOf.set(request, route)
      if (code === "NOT_FOUND") {
        const allow = allowedMethods(path)
        if (allow.length && !allow.includes(request.method))
          return errorResponse(
            405,
            "method_not_allowed",
            `${request.method} is not allowed on ${path}; allowed: ${allow.join(", ")}`,
            undefined,
            { allow: allow.join(", ") },
          )
        if (isPage(path)) return notFoundPage(host, request)
        return errorResponse(404, "not_found", `no route for ${request.method} ${path}`)
      }
      if (error instanceof ApiError) {
        if (isPage(path)) {
          if (error.status === 401 && request.method === "GET") {
            const next = new URL(request.url)
            return new Response(null, {
              status: 303,
              headers: { location: `/ui/signin?next=${encodeURIComponent(next.pathname + next.search)}` },
            })
          }
          return errorPage(host, request, error.status, error.message)
        }
        return errorResponse(error.status, error.code, error.message, error.details, error.headers)
      }
      // a handler whose answer fails its own response schema is a server bug: 500 below, not the caller's 422
      if (code === "VALIDATION" && (error as { type?: string }).type !== "response") {
        const described = describeValidation(
          error as ElysiaValidationError,
          routeSchemas(request.method, route),
          {
            headers: context.headers,
            params: context.params,
            query: context.query,
            body: context.body,
          },
        )
        const contentType = request.headers.get("content-type") ?? ""
        if (described.where === "body" && contentType && !STRUCTURED_BODY.test(contentType))
          return errorResponse(
            415,
            "unsupported_media_type",
            `a body of type ${contentType.split(";")[0]} is not accepted here; send application/json`,
          )
        return errorResponse(422, "validation_failed", described.message, described.problems)
      }
      if (code === "PARSE") return errorResponse(400, "bad_request", "the request body could not be parsed")
      if (error instanceof WriterFullError) return overloaded(error, path)
      const status =
        code !== "VALIDATION" && typeof set.status === "number" && set.status >= 400 ? set.status : 500
      if (status < 500) return errorResponse(status, "error", (error as Error)?.message ?? "error")
      return internalError(error, request, path, requestScope.getStore()?.requestId ?? "")
    })
    .use(
      openapi({
        path: "/openapi",
        provider: "swagger-ui",
        documentation: {
          info: {
            title: "Logbook API",
            version: VERSION,
            description: "What changed, what broke, what is it saying right now.",
          },
          components: {
            securitySchemes: {
              bearer: { type: "http", scheme: "bearer" },
              apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
              basic: { type: "http", scheme: "basic" },
            },
          },
          security: [{ bearer: [] }, { apiKey: [] }, { basic: [] }, {}],
        },
        exclude: { paths: [/^\/ui/, /^\/assets/, "/"], staticFile: true },
        swagger: { cdn: "/assets/swagger-ui-bundle.js", theme: "/assets/swagger-ui.css", autoDarkMode: true },
      }),
    )
    .get(
      "/assets/*",
      async ({ params, request }) =>
        (await assetResponse(params["*"], request)) ?? errorResponse(404, "not_found", "no such asset"),
      { detail: { hide: true } },
    )
    .use(corePages(host))
    .use(tokenApi(host))

  for (const m of host.mounted) if (m.routes) elysia.use(m.routes)

  const maxBody = host.config.maxBodyBytes
  // compatibility paths answer an oversized body in their own error shape (plugins' `bodyTooLarge`)
  const tooLargeByPath = new Map<string, (limitBytes: number) => Response>()
  for (const m of host.mounted)
    for (const [path, answer] of Object.entries(m.plugin.bodyTooLarge ?? {})) {
      if (tooLargeByPath.has(path)) throw new Error(`bodyTooLarge ${path} of ${m.plugin.id} is already taken`)
      tooLargeByPath.set(path, answer)
    }
  const tooLarge = (path: string, what: string) =>
    tooLargeByPath.get(path)?.(maxBody) ??
    errorResponse(
      413,
      "payload_too_large",
      `the body is ${what}; the limit is ${maxBody} bytes (LOGBOOK_MAX_BODY_BYTES)`,
    )

  /** Cookie sessions must prove every state-changing request with the CSRF token (header or form). */
  async function csrfRefused(request: Request, path: string): Promise<boolean> {
    if (!UNSAFE.has(request.method) || path === "/ui/signin") return false
    if (!request.headers.get("cookie")?.includes(SESSION_COOKIE)) return false
    if ((await host.auth.principal(request)).via !== "session") return false
    let form: unknown
    if (!request.headers.has("x-csrf-token") && FORM.test(request.headers.get("content-type") ?? ""))
      form = (
        await request
          .clone()
          .formData()
          .catch(() => undefined)
      )?.get("_csrf")
    return !(await host.auth.checkCsrf(request, form))
  }

  async function handle(request: Request, requestId: string): Promise<Response> {
    const started = performance.now()
    const pathname = pathOf(request.url)
    const origin = request.headers.get("origin")
    const corsAllowed = origin !== null && (anyOrigin || corsOrigins.has(origin)) && !isPage(pathname)
    let response: Response
    // the route of a request refused here, before the router (the router's own are in routeOf)
    let refusedOn: string | undefined
    const lengthHeader = request.headers.get("content-length")
    const length = Number(lengthHeader ?? 0)
    if (length > maxBody) {
      response = tooLarge(pathname, `${length} bytes`)
      refusedOn = routeBeforeRouter(request.method, pathname)
    } else if (
      request.method === "OPTIONS" &&
      corsAllowed &&
      request.headers.has("access-control-request-method")
    ) {
      response = new Response(null, {
        status: 204,
        headers: {
          "access-control-allow-methods": "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
          "access-control-allow-headers":
            request.headers.get("access-control-request-headers") ??
            "content-type, authorization, x-api-key, x-request-id",
          "access-control-max-age": "600",
        },
      })
    } else {
      let req = request
      let oversized = false
      // a body without Content-Length (chunked) is counted as it arrives, whatever the method: Bun has no
      // limit of its own (SERVER_BODY_LIMIT). It gives GET and HEAD no body.
      if (lengthHeader === null && request.body) {
        const body = await readLimited(request.body, maxBody)
        if (body) req = new Request(request, { body })
        else oversized = true
      }
      if (oversized) {
        response = tooLarge(pathname, `larger than the limit`)
        // the rest of the body is still coming: the connection cannot carry another request
        response.headers.set("connection", "close")
        refusedOn = routeBeforeRouter(request.method, pathname)
      } else if (await csrfRefused(req, pathname)) {
        response = errorResponse(403, "csrf", "missing or wrong CSRF token: reload the page and try again")
        refusedOn = routeBeforeRouter(request.method, pathname)
      } else response = await elysia.handle(req)
      if (req !== request) {
        const route = routeOf.get(req)
        if (route) routeOf.set(request, route)
      }
    }
    const ms = performance.now() - started
    const route = refusedOn ?? routeOf.get(request) ?? "_not_found"
    try {
      const h = response.headers
      h.set("x-request-id", requestId)
      if (draining) h.set("connection", "close")
      const render = requestScope.getStore()?.renderMs
      h.set(
        "server-timing",
        `route;desc="${cachedRouteName(route)}";dur=${ms.toFixed(2)}${render === undefined ? "" : `, render;dur=${render.toFixed(2)}`}`,
      )
      if (corsAllowed) {
        // `*` never goes with credentials; an allow-listed origin is trusted with them
        h.set("access-control-allow-origin", anyOrigin ? "*" : (origin as string))
        if (!anyOrigin) h.set("access-control-allow-credentials", "true")
        h.set("access-control-expose-headers", "X-Request-ID, X-Record-Count, X-Record-Group, Retry-After")
        if (!anyOrigin) h.append("vary", "Origin")
      }
    } catch {
      // immutable headers (rare): the response stands as it is
    }
    if (log.isEnabled("debug"))
      log.debug("request", { method: request.method, route, status: response.status, ms: Math.round(ms) })
    if (host.events.has("http.request"))
      host.events.emit("http.request", {
        method: request.method,
        route,
        status: response.status,
        durationMs: ms,
        renderMs: requestScope.getStore()?.renderMs,
      })
    return response
  }

  // fast routes by path: "/livez" (GET and HEAD) and "POST /api/events" (the plain case of a POST, below)
  const fastGets = new Map<string, FastRoute>()
  const fastPosts = new Map<string, FastRoute>()
  for (const m of host.mounted)
    for (const [key, route] of Object.entries(m.fastRoutes ?? {})) {
      const { method, path } = fastRouteKey(key)
      const table = method === "GET" ? fastGets : fastPosts
      if (table.has(path)) throw new Error(`fast route ${key} of ${m.plugin.id} is already taken`)
      table.set(path, route)
    }

  /**
   * A POST the fast route may answer: a body of known length within the limit, no browser session (those
   * need the CSRF check) and no Origin (CORS headers). Anything else takes the router to the same route.
   */
  const plainPost = (headers: Headers): boolean => {
    const length = headers.get("content-length")
    return (
      length !== null &&
      Number(length) <= maxBody &&
      !headers.has("origin") &&
      !headers.get("cookie")?.includes(SESSION_COOKIE)
    )
  }

  const emitRequest = (method: string, route: string, status: number, durationMs: number) => {
    if (host.events.has("http.request"))
      host.events.emit("http.request", { method, route, status, durationMs })
  }

  /**
   * A fast POST: no router, no hooks; request id (also in every log line the route writes), Server-Timing
   * and the request event all the same.
   */
  async function answerFastPost(route: FastRoute, path: string, request: Request) {
    const requestId = requestIdOf(request.headers)
    const started = performance.now()
    let response: Response
    try {
      response = await requestScope.run({ requestId }, () => route(request))
    } catch (error) {
      // as the router answers it: a full write queue is back-pressure (503), anything else a bug
      response =
        error instanceof WriterFullError
          ? overloaded(error, path)
          : error instanceof ApiError
            ? errorResponse(error.status, error.code, error.message, error.details, error.headers)
            : await internalError(error, request, path, requestId)
    }
    const ms = performance.now() - started
    response.headers.set("x-request-id", requestId)
    response.headers.set("server-timing", `route;desc="${cachedRouteName(path)}";dur=${ms.toFixed(2)}`)
    if (draining) response.headers.set("connection", "close")
    emitRequest("POST", path, response.status, ms)
    return response
  }

  /**
   * A fast GET or HEAD — a probe, called by kubelets and load balancers every few seconds per instance:
   * answered without a promise when the route answers without one; the request id is echoed when the
   * caller sent one (none is generated: a probe writes no log line to correlate), no Server-Timing.
   */
  function answerProbe(route: FastRoute, path: string, request: Request): Response | Promise<Response> {
    const started = performance.now()
    const failed = (error: unknown) => internalError(error, request, path, requestIdOf(request.headers))
    let answer: Response | Promise<Response>
    try {
      answer = route(request)
    } catch (error) {
      return failed(error)
    }
    return answer instanceof Promise
      ? answer.then((r) => probeAnswered(r, path, request, started), failed)
      : probeAnswered(answer, path, request, started)
  }

  function probeAnswered(answer: Response, path: string, request: Request, started: number): Response {
    const response = request.method === "HEAD" ? new Response(null, answer) : answer
    const requestId = callerRequestId(request.headers)
    if (requestId !== undefined) response.headers.set("x-request-id", requestId)
    if (draining) response.headers.set("connection", "close")
    emitRequest(request.method, path, response.status, performance.now() - started)
    return response
  }

  return {
    elysia: elysia as unknown as Elysia,
    fetch(incoming) {
      const method = incoming.method
      const fastTable =
        method === "GET" || method === "HEAD" ? fastGets : method === "POST" ? fastPosts : undefined
      if (fastTable?.size) {
        const path = pathOf(incoming.url)
        const fast = fastTable.get(path)
        if (fast) {
          if (fastTable === fastGets) return answerProbe(fast, path, incoming)
          if (plainPost(incoming.headers)) return answerFastPost(fast, path, incoming)
        }
      }
      // Elysia 1.4 takes the path from index 11 of the URL on: a host shorter than 4 characters
      // (`Host: api`) would lose the start of the path. Such requests get a longer host in their URL.
      const slash = incoming.url.indexOf("/", incoming.url.indexOf("//") + 2)
      const request =
        slash >= 0 && slash < 11
          ? new Request(incoming.url.replace(/^(\w+:\/\/)[^/]*/, "$1localhost"), incoming)
          : incoming
      const requestId = requestIdOf(request.headers)
      return requestScope.run({ requestId }, () => handle(request, requestId))
    },
  }
}

function notFoundPage(host: Host, request: Request): Promise<Response> {
  return errorPage(host, request, 404, "There is no page here.")
}

export function errorPage(host: Host, request: Request, status: number, message: string): Promise<Response> {
  return createUi(host).page(request, {
    title: status === 404 ? "Not found" : "Error",
    status,
    body: html`<div class="notice error"><strong>${status}</strong> ${message}</div>`,
  })
}
