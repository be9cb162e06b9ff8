/**
 * Static assets served from the app itself (embedded in the compiled binary by the `type: "file"`
 * imports): htmx 4.0.1 and its SSE extension, the stylesheet and page script, Swagger UI's files.
 */
import htmxSse from "htmx.org/dist/ext/hx-sse.min.js" with { type: "file" }
import htmx from "htmx.org/dist/htmx.min.js" with { type: "file" }
import swaggerCss from "swagger-ui-dist/swagger-ui.css" with { type: "file" }
import swaggerBundle from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "file" }
import appCss from "./assets/app.css" with { type: "file" }
// @ts-expect-error a plain browser script imported as a file path, not as a module
import appJs from "./assets/app.js" with { type: "file" }
import favicon from "./assets/favicon.svg" with { type: "file" }

const FILES: Record<string, { path: string; type: string }> = {
  "htmx.min.js": { path: htmx, type: "text/javascript; charset=utf-8" },
  "ext/hx-sse.min.js": { path: htmxSse, type: "text/javascript; charset=utf-8" },
  "app.css": { path: appCss, type: "text/css; charset=utf-8" },
  "app.js": { path: appJs, type: "text/javascript; charset=utf-8" },
  "favicon.svg": { path: favicon, type: "image/svg+xml" },
  "swagger-ui-bundle.js": { path: swaggerBundle, type: "text/javascript; charset=utf-8" },
  "swagger-ui.css": { path: swaggerCss, type: "text/css; charset=utf-8" },
}

const cache = new Map<string, { body: ArrayBuffer; type: string; etag: string }>()

/** The response for /assets/<name>, or undefined when there is no such asset. */
export async function assetResponse(name: string, request: Request): Promise<Response | undefined> {
  const f = FILES[name]
  if (!f) return undefined
  let entry = cache.get(name)
  if (!entry) {
    const body = await Bun.file(f.path).arrayBuffer()
    entry = { body, type: f.type, etag: `"${Bun.hash(body).toString(36)}"` }
    cache.set(name, entry)
  }
  if (request.headers.get("if-none-match") === entry.etag) return new Response(null, { status: 304 })
  return new Response(entry.body, {
    headers: { "content-type": entry.type, etag: entry.etag, "cache-control": "public, max-age=3600" },
  })
}
