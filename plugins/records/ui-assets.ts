/**
 * The records pages' own script and stylesheet, embedded like views/assets.ts (the `type: "file"`
 * imports travel inside the compiled binary) and served under /ui/records/assets/.
 */
import css from "./ui-client.css" with { type: "file" }
// @ts-expect-error a plain browser script imported as a file path, not as a module
import js from "./ui-client.js" with { type: "file" }

const FILES: Record<string, { path: string; type: string }> = {
  "records.js": { path: js, type: "text/javascript; charset=utf-8" },
  "records.css": { path: css, type: "text/css; charset=utf-8" },
}

const cache = new Map<string, { body: ArrayBuffer; type: string; etag: string }>()

export async function clientAsset(name: string, request: Request): Promise<Response> {
  const f = Object.hasOwn(FILES, name) ? FILES[name] : undefined
  if (!f) return new Response("no such asset", { status: 404 })
  let entry = cache.get(name)
  if (!entry) {
    const body = await Bun.file(f.path).arrayBuffer()
    entry = { body, type: f.type, etag: `"${Bun.hash(body).toString(36)}"` }
    cache.set(name, entry)
  }
  if (request.headers.get("if-none-match") === entry.etag) return new Response(null, { status: 304 })
  return new Response(entry.body, {
    headers: { "content-type": entry.type, etag: entry.etag, "cache-control": "no-cache" },
  })
}
