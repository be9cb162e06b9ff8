/**
 * The metrics page's own script and stylesheet, embedded like views/assets.ts (the `type: "file"`
 * imports travel inside the compiled binary) and served under /ui/metrics/assets/.
 */
import { type AssetFile, assetServer } from "../../views/assets"
import css from "./ui-client.css" with { type: "file" }
// @ts-expect-error a plain browser script imported as a file path, not as a module
import js from "./ui-client.js" with { type: "file" }

const FILES: Record<string, AssetFile> = {
  "metrics.js": { path: js, type: "text/javascript; charset=utf-8" },
  "metrics.css": { path: css, type: "text/css; charset=utf-8" },
}

const serve = assetServer(FILES, "no-cache")

export async function clientAsset(name: string, request: Request): Promise<Response> {
  return (await serve(name, request)) ?? new Response("no such asset", { status: 404 })
}
