/**
 * `bun run build`: one executable, `dist/logbook`, from src/main.ts. Everything it needs is inside:
 * the built-in plugins (the virtual module `logbook:builtin-plugins`, produced here by the same scan the
 * runtime preload uses), views, the `type: "file"` assets (htmx, swagger-ui-dist, app.css…), the
 * `type: "text"` drop-in declarations, and every migration (they are code). Drop-in files are not
 * bundled: the binary imports them at run time from LOGBOOK_PLUGINS_DIR.
 *
 * Bytecode (`bytecode: true`, ESM) roughly halves start-up; if Bun refuses it for this graph, the build
 * falls back to a plain compile and says so. `--no-bytecode` skips the attempt; `--outfile <path>` builds
 * elsewhere (the binary test builds into a temp dir).
 */
import { mkdirSync, rmSync, statSync } from "node:fs"
import { relative, resolve } from "node:path"
import { parseArgs } from "node:util"
import type { BunPlugin } from "bun"
import { BUILTIN_MODULE, builtinModuleSource, builtinPluginFiles } from "../src/plugin/builtin-scan"

const root = resolve(import.meta.dir, "..")

/** Serves `logbook:builtin-plugins` to the bundler from the plugins/*\/plugin.ts scan. */
const builtinPlugins: BunPlugin = {
  name: "logbook-builtin-plugins",
  setup(build) {
    const filter = new RegExp(`^${BUILTIN_MODULE.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`)
    build.onResolve({ filter }, () => ({ path: BUILTIN_MODULE, namespace: "logbook-builtin" }))
    build.onLoad({ filter: /.*/, namespace: "logbook-builtin" }, () => ({
      contents: builtinModuleSource(root),
      loader: "ts",
    }))
  },
}

async function compile(outfile: string, bytecode: boolean) {
  return Bun.build({
    entrypoints: [resolve(root, "src/main.ts")],
    target: "bun",
    format: "esm",
    bytecode,
    minify: { syntax: true, whitespace: true, identifiers: false },
    // embedded in the executable (zstd) so stack traces point at the sources; the side file is removed
    sourcemap: "linked",
    plugins: [builtinPlugins],
    // The binary must not pick up the repository's bunfig.toml (its preload points into src/) when it
    // happens to run from a checkout; .env in the working directory is still honoured.
    compile: { outfile, autoloadBunfig: false, autoloadTsconfig: false, autoloadPackageJson: false },
    throw: false,
  })
}

export async function build(
  opts: { outfile?: string; bytecode?: boolean } = {},
): Promise<{ outfile: string; bytecode: boolean }> {
  const t0 = performance.now()
  const outfile = resolve(opts.outfile ?? resolve(root, "dist/logbook"))
  mkdirSync(resolve(outfile, ".."), { recursive: true })
  rmSync(outfile, { force: true })
  const plugins = builtinPluginFiles(root).map((f) => f.slice(root.length + 1))
  console.log(`built-in plugins: ${plugins.length ? plugins.join(", ") : "(none)"}`)
  let bytecode = opts.bytecode ?? true
  let result = await compile(outfile, bytecode)
  if (!result.success && bytecode) {
    console.warn("bytecode build failed; building again without bytecode:")
    for (const l of result.logs) console.warn(`  ${l.message ?? String(l)}`)
    bytecode = false
    result = await compile(outfile, false)
  }
  if (!result.success) {
    for (const l of result.logs) console.error(l)
    throw new Error("build failed")
  }
  rmSync(`${outfile}.map`, { force: true })
  const mb = (statSync(outfile).size / 1024 / 1024).toFixed(1)
  console.log(
    `${relative(root, outfile)}: ${mb} MB, bytecode ${bytecode ? "on" : "off"}, ${Math.round(performance.now() - t0)} ms`,
  )
  return { outfile, bytecode }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { outfile: { type: "string" }, "no-bytecode": { type: "boolean" } },
  })
  try {
    await build({ outfile: values.outfile, bytecode: !values["no-bytecode"] })
  } catch (e) {
    console.error(`build: ${(e as Error).message}`)
    process.exit(1)
  }
}
