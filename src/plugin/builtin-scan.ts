/**
 * Built-in plugin discovery: every `plugins/<id>/plugin.ts` becomes part of the virtual module
 * `logbook:builtin-plugins`. The same scan serves the runtime (bunfig preload, for `bun run` and
 * `bun test`) and the bundler (scripts/build.ts, for `bun build --compile`).
 */
import { existsSync, readdirSync } from "node:fs"
import { basename, dirname, join, resolve } from "node:path"

export const BUILTIN_MODULE = "logbook:builtin-plugins"

export function builtinPluginFiles(root: string): string[] {
  const dir = resolve(root, "plugins")
  if (!existsSync(dir)) return []
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, "plugin.ts")))
    .map((d) => join(dir, d.name, "plugin.ts"))
    .sort()
}

/**
 * Source of the virtual module: `export default [{ id, source, load }, …]`. Each plugin is imported
 * lazily by `load()`, so one that fails to import is reported as failed instead of taking every other
 * plugin (and the server) down with it; the bundler still includes every one of them.
 */
export function builtinModuleSource(root: string): string {
  const files = builtinPluginFiles(root)
  const list = files.map(
    (f) =>
      `{ id: ${JSON.stringify(basename(dirname(f)))}, source: "built-in", load: () => import(${JSON.stringify(f)}) }`,
  )
  return `export default [${list.join(",\n")}]\n`
}
