/**
 * The changes pages' script and stylesheet plus the legacy-permalink script, served under
 * /ui/changes/assets/ (the `type: "file"` imports travel inside the compiled binary).
 */

import { type AssetFile, assetServer } from "../../views/assets"
import { LEGACY_SCRIPT } from "./legacy"
import css from "./ui-client.css" with { type: "file" }
// @ts-expect-error a plain browser script imported as a file path, not as a module
import js from "./ui-client.js" with { type: "file" }

const JS = "text/javascript; charset=utf-8"
const FILES: Record<string, AssetFile> = {
  "changes.js": { path: js, type: JS },
  "changes.css": { path: css, type: "text/css; charset=utf-8" },
  "legacy.js": { text: LEGACY_SCRIPT, type: JS },
}

export const SCRIPTS = ["/ui/changes/assets/legacy.js", "/ui/changes/assets/changes.js"]
export const STYLES = ["/ui/changes/assets/changes.css"]

const serve = assetServer(FILES, "no-cache")

export async function clientAsset(name: string, request: Request): Promise<Response> {
  return (await serve(name, request)) ?? new Response("no such asset", { status: 404 })
}
