/**
 * The HTTP application: one Elysia app with the core's routes (home, sign-in, plugins page, assets,
 * OpenAPI) and every plugin's routes, wrapped by `fetch`, which does per-request work that must surround
 * everything: request id (echoed, and in every log line through AsyncLocalStorage), body-size limit,
 * CORS, Server-Timing, and the `http.request` event with the route template.
 */
import { openapi } from "@elysiajs/openapi"
import { Elysia } from "elysia"
import { assetResponse } from "../../views/assets"
import { type Html, html } from "../../views/html"
import { layout } from "../../views/layout"
import { requestScope } from "../log"
import type { Ui } from "../plugin/contract"
import type { Host } from "../plugin/host"
import { VERSION } from "../version"
import { corePages } from "./core-pages"
import { ApiError, errorResponse } from "./errors"
import { requestIdOf } from "./request-id"

export interface App {
  elysia: Elysia
  /** The request handler: Bun.serve's `fetch`, and what tests call. */
  fetch(request: Request): Promise<Response>
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

export function createApp(host: Host): App {
  const log = host.logging.logger("logbook.http")
  const routeOf = new WeakMap<Request, string>()
  const corsOrigins = new Set(host.config.corsOrigins)
  const anyOrigin = corsOrigins.has("*")

  const elysia = new Elysia({ normalize: true, strictPath: true })
    .onBeforeHandle({ as: "global" }, ({ request, route }) => {
      routeOf.set(request, route)
    })
    .onError({ as: "global" }, ({ code, error, request, path, set }) => {
      if (code === "NOT_FOUND") {
        if (isPage(path)) return notFoundPage(host, request)
        return errorResponse(404, "not_found", `no route for ${request.method} ${path}`)
      }
      if (error instanceof ApiError) {
        if (isPage(path) && error.status !== 401 && error.status !== 403)
          return errorPage(host, request, error.status, error.message)
        return errorResponse(error.status, error.code, error.message, error.details, error.headers)
      }
      if (code === "VALIDATION") {
        const e = error as { all?: Array<{ path: string; message: string; summary?: string }>; type?: string }
        const details = (e.all ?? []).map((x) => ({ path: x.path, message: x.summary ?? x.message }))
        const where = e.type ?? "request"
        const first = details[0]
        return errorResponse(
          422,
          "validation_failed",
          first ? `invalid ${where}: ${first.path || "(root)"} ${first.message}` : `invalid ${where}`,
          details,
        )
      }
      if (code === "PARSE") return errorResponse(400, "bad_request", "the request body could not be parsed")
      const name = (error as { name?: string })?.name
      if (name === "WriterFullError")
        return errorResponse(503, "overloaded", (error as Error).message, undefined, { "retry-after": "1" })
      const status = typeof set.status === "number" && set.status >= 400 ? set.status : 500
      if (status >= 500) {
        log.error("unhandled error", { error, path })
        host.events.emit("http.error", {
          error,
          request,
          requestId: requestScope.getStore()?.requestId ?? "",
        })
        return errorResponse(500, "internal", "internal error; see the server log for this request id")
      }
      return errorResponse(status, "error", (error as Error)?.message ?? "error")
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

  for (const m of host.mounted) if (m.routes) elysia.use(m.routes)

  const maxBody = host.config.maxBodyBytes

  async function handle(request: Request, requestId: string): Promise<Response> {
    const started = performance.now()
    const url = new URL(request.url)
    const origin = request.headers.get("origin")
    const corsAllowed = origin !== null && (anyOrigin || corsOrigins.has(origin)) && !isPage(url.pathname)
    let response: Response
    const length = Number(request.headers.get("content-length") ?? 0)
    if (length > maxBody) {
      response = errorResponse(
        413,
        "payload_too_large",
        `the body is ${length} bytes; the limit is ${maxBody} (LOGBOOK_MAX_BODY_BYTES)`,
      )
    } else if (
      request.method === "OPTIONS" &&
      corsAllowed &&
      request.headers.has("access-control-request-method")
    ) {
      response = new Response(null, {
        status: 200,
        headers: {
          "access-control-allow-methods": "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
          "access-control-allow-headers":
            request.headers.get("access-control-request-headers") ?? "content-type, authorization, x-api-key",
          "access-control-max-age": "600",
        },
      })
    } else {
      response = await elysia.handle(request)
    }
    const ms = performance.now() - started
    const route = routeOf.get(request) ?? "_not_found"
    try {
      const h = response.headers
      h.set("x-request-id", requestId)
      const render = requestScope.getStore()?.renderMs
      h.set(
        "server-timing",
        `route;desc="${routeName(route)}";dur=${ms.toFixed(2)}${render === undefined ? "" : `, render;dur=${render.toFixed(2)}`}`,
      )
      if (corsAllowed) {
        h.set("access-control-allow-origin", anyOrigin ? "*" : (origin as string))
        h.set("access-control-expose-headers", "X-Request-ID, X-Record-Count, X-Record-Group, Retry-After")
        if (!anyOrigin) h.append("vary", "Origin")
      }
    } catch {
      // immutable headers (rare): the response stands as it is
    }
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

  return {
    elysia: elysia as unknown as Elysia,
    fetch(request) {
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
