/**
 * Built-in plugin discovery: every `plugins/<id>/plugin.ts` becomes part of the virtual module
 * `logbook:builtin-plugins`. The same scan serves the runtime (bunfig preload, for `bun run` and
 * `bun test`) and the bundler (scripts/build.ts, for `bun build --compile`).
 */
import { existsSync, readdirSync } from "node:fs"
import { join, resolve } from "node:path"

export const BUILTIN_MODULE = "logbook:builtin-plugins"

export function builtinPluginFiles(root: string): string[] {
  const dir = resolve(root, "plugins")
  if (!existsSync(dir)) return []
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, "plugin.ts")))
    .map((d) => join(dir, d.name, "plugin.ts"))
    .sort()
}

/** Source of the virtual module: `export default [{ plugin, source }, …]`. */
export function builtinModuleSource(root: string): string {
  const files = builtinPluginFiles(root)
  const imports = files.map((f, i) => `import p${i} from ${JSON.stringify(f)}`).join("\n")
  const list = files.map((f, i) => `{ plugin: p${i}, source: "built-in" }`).join(", ")
  return `${imports}\nexport default [${list}]\n`
}
