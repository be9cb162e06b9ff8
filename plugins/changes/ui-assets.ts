/**
 * The changes pages' script and stylesheet plus the legacy-permalink script, served under
 * /ui/changes/assets/ (the `type: "file"` imports travel inside the compiled binary).
 */

import { LEGACY_SCRIPT } from "./legacy"
import css from "./ui-client.css" with { type: "file" }
// @ts-expect-error a plain browser script imported as a file path, not as a module
import js from "./ui-client.js" with { type: "file" }

const JS = "text/javascript; charset=utf-8"
const FILES: Record<string, { path?: string; text?: string; type: string }> = {
  "changes.js": { path: js, type: JS },
  "changes.css": { path: css, type: "text/css; charset=utf-8" },
  "legacy.js": { text: LEGACY_SCRIPT, type: JS },
}

export const SCRIPTS = ["/ui/changes/assets/legacy.js", "/ui/changes/assets/changes.js"]
export const STYLES = ["/ui/changes/assets/changes.css"]

const loaded = new Map<string, { body: ArrayBuffer; type: string; etag: string }>()

export async function clientAsset(name: string, request: Request): Promise<Response> {
  const f = FILES[name]
  if (!f) return new Response("no such asset", { status: 404 })
  let entry = loaded.get(name)
  if (!entry) {
    const body = f.path
      ? await Bun.file(f.path).arrayBuffer()
      : (new TextEncoder().encode(f.text).buffer as ArrayBuffer)
    entry = { body, type: f.type, etag: `"${Bun.hash(body).toString(36)}"` }
    loaded.set(name, entry)
  }
  if (request.headers.get("if-none-match") === entry.etag) return new Response(null, { status: 304 })
  return new Response(entry.body, {
    headers: { "content-type": entry.type, etag: entry.etag, "cache-control": "no-cache" },
  })
}
