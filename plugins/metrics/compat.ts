/**
 * The pull surfaces operators already scrape: `GET /metrics` (Prometheus text 0.0.4, OpenMetrics 1.0 by
 * `Accept`) and c2cwsgiutils' `GET /c2c/stats.json` (`?reset=1` clears after the snapshot; admins only).
 */
import { Elysia } from "elysia"
import { errorResponse } from "../../src/http/errors"
import type { MetricsContext, MetricsService } from "./service"

export function compatRoutes(ctx: MetricsContext, svc: MetricsService) {
  return new Elysia()
    .get(
      "/metrics",
      async ({ request }) => {
        const { body, contentType } = await svc.prom.expose(request.headers.get("accept"))
        return new Response(body, { headers: { "content-type": contentType, "cache-control": "no-store" } })
      },
      { beforeHandle: ctx.auth.need("read"), detail: { hide: true } },
    )
    .get(
      "/c2c/stats.json",
      async ({ request }) => {
        const reset = new URL(request.url).searchParams.get("reset")
        if (reset !== null && reset !== "0") {
          const p = await ctx.auth.principal(request)
          if (!p.roles.has("admin"))
            return p.via === "anonymous"
              ? errorResponse(401, "unauthorized", "reset=1 needs an admin token", undefined, {
                  "www-authenticate": 'Bearer realm="logbook"',
                })
              : errorResponse(403, "forbidden", "reset=1 needs the admin role")
        }
        const snapshot = svc.stats.snapshot()
        if (reset !== null && reset !== "0") svc.stats.reset()
        return new Response(JSON.stringify(snapshot), {
          headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
        })
      },
      { beforeHandle: ctx.auth.need("read"), detail: { hide: true } },
    )
}
