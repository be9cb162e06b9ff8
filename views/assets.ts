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

const FILES: Record<string, AssetFile> = {
  "htmx.min.js": { path: htmx, type: "text/javascript; charset=utf-8" },
  "ext/hx-sse.min.js": { path: htmxSse, type: "text/javascript; charset=utf-8" },
  "app.css": { path: appCss, type: "text/css; charset=utf-8" },
  "app.js": { path: appJs, type: "text/javascript; charset=utf-8" },
  "favicon.svg": { path: favicon, type: "image/svg+xml" },
  "swagger-ui-bundle.js": { path: swaggerBundle, type: "text/javascript; charset=utf-8" },
  "swagger-ui.css": { path: swaggerCss, type: "text/css; charset=utf-8" },
}

export interface AssetFile {
  /** A file path from an `import … with { type: "file" }` (embedded in the binary). */
  path?: string
  /** Or the content itself. */
  text?: string
  type: string
}

/**
 * A server for a fixed set of named assets: read once, ETag from the content, 304 on If-None-Match.
 * Plugins use it for their own scripts and stylesheets. Unknown names (including `constructor` and the
 * like) resolve to undefined.
 */
export function assetServer(files: Record<string, AssetFile>, cacheControl = "public, max-age=3600") {
  const cache = new Map<string, { body: ArrayBuffer; type: string; etag: string }>()
  return async (name: string, request: Request): Promise<Response | undefined> => {
    const f = Object.hasOwn(files, name) ? files[name] : undefined
    if (!f) return undefined
    let entry = cache.get(name)
    if (!entry) {
      const body = f.path
        ? await Bun.file(f.path).arrayBuffer()
        : (new TextEncoder().encode(f.text ?? "").buffer as ArrayBuffer)
      entry = { body, type: f.type, etag: `"${Bun.hash(body).toString(36)}"` }
      cache.set(name, entry)
    }
    if (request.headers.get("if-none-match") === entry.etag) return new Response(null, { status: 304 })
    return new Response(entry.body, {
      headers: { "content-type": entry.type, etag: entry.etag, "cache-control": cacheControl },
    })
  }
}

/** The response for /assets/<name>, or undefined when there is no such asset. */
export const assetResponse = assetServer(FILES)
