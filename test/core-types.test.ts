/**
 * The shipped drop-in declarations (src/plugin/logbook.d.ts, written by `logbook types`) and the real
 * contract agree: a sample drop-in typed only against `logbook.d.ts` compiles, what it declares is
 * accepted by the host's types, what the host passes satisfies what it expects, and every value the
 * declarations promise exists in the runtime module. Checked by tsc on generated files.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"

const ROOT = resolve(import.meta.dir, "..")
const SAMPLE = `import { definePlugin, defineHealthCheck, Elysia, t, html, type PluginContext } from "logbook"

export const ping = defineHealthCheck({ name: "ping", timeoutMs: 500, check: () => ({ healthy: true, queued_jobs: 3 }) })

export default definePlugin({
  id: "sample",
  title: "Sample",
  migrations: [{ id: "sample/001", sqlite: "CREATE TABLE sample_x (id INTEGER)", postgres: "CREATE TABLE sample_x (id BIGINT)" }],
  nav: [{ title: "Sample", href: "/ui/sample" }],
  checks: () => [ping],
  routes: (ctx: PluginContext) =>
    new Elysia()
      .post("/api/v1/sample", async ({ body }: { body: { v: string } }) => {
        const [id] = await ctx.writer.insert({ table: "sample_x", columns: ["id"], rows: [[body.v]], returning: "id" })
        return { id }
      }, { body: t.Object({ v: t.String() }), detail: { summary: "x", tags: ["sample"] } })
      .get("/ui/sample", async ({ request }: { request: Request }) => {
        const rows = await ctx.db.all<{ id: number }>("SELECT id FROM sample_x WHERE id > ?", [0])
        return ctx.ui.page(request, { title: "Sample", body: html\`<p>\${rows.length}</p>\` })
      }, { beforeHandle: ctx.auth.need("read") }),
})
`
const AGREE = `import type * as Real from ${JSON.stringify(`${ROOT}/src/plugin/contract.ts`)}
import type { dropInApi } from ${JSON.stringify(`${ROOT}/src/plugin/dropin-api.ts`)}
import type * as Declared from "logbook"
import sample, { ping } from "./sample"

type Assert<T extends true> = T
type Extends<A, B> = [A] extends [B] ? true : false

// what a drop-in declares, the host accepts
export type PluginAccepted = Assert<Extends<typeof sample, Real.LogbookPlugin>>
export type DeclaredPluginAccepted = Assert<Extends<Declared.LogbookPlugin, Real.LogbookPlugin>>
export type CheckAccepted = Assert<Extends<typeof ping, Real.HealthCheck>>
export type ResultAccepted = Assert<Extends<Declared.CheckResult, Real.CheckResult>>
export type ChangeAccepted = Assert<Extends<Declared.ChangeInput, Real.ChangeInput>>
// what the host passes, a drop-in may rely on
export type ContextProvided = Assert<Extends<Real.PluginContext, Declared.PluginContext>>
export type PrincipalProvided = Assert<Extends<Real.Principal, Declared.Principal>>
// every value the declarations promise exists in the module the host registers
export type ValuesExist = Assert<Extends<keyof typeof Declared, keyof typeof dropInApi>>
`
// a drift the check must catch: a field the host does not have
const DRIFT = `import type * as Real from ${JSON.stringify(`${ROOT}/src/plugin/contract.ts`)}
import type * as Declared from "logbook"
type Assert<T extends true> = T
type Extends<A, B> = [A] extends [B] ? true : false
export type Drift = Assert<Extends<Real.PluginContext, Declared.PluginContext & { notProvided: string }>>
`

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "logbook-types-"))
  writeFileSync(join(dir, "sample.ts"), SAMPLE)
  writeFileSync(join(dir, "agree.ts"), AGREE)
  writeFileSync(join(dir, "drift.ts"), DRIFT)
})
afterAll(() => rmSync(dir, { recursive: true, force: true }), 30_000)

function tsc(files: string[]) {
  const tsconfig = join(dir, `tsconfig.${files.length}.json`)
  writeFileSync(
    tsconfig,
    JSON.stringify({
      compilerOptions: {
        target: "ESNext",
        module: "Preserve",
        moduleResolution: "bundler",
        lib: ["ESNext", "DOM"],
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        allowImportingTsExtensions: true,
        verbatimModuleSyntax: true,
        types: [],
        typeRoots: [join(ROOT, "node_modules/@types")],
      },
      files: [
        join(ROOT, "src/plugin/logbook.d.ts"),
        join(ROOT, "types/assets.d.ts"),
        ...files.map((f) => join(dir, f)),
      ],
    }),
  )
  const r = Bun.spawnSync([join(ROOT, "node_modules/.bin/tsc"), "-p", tsconfig], { cwd: dir })
  return { code: r.exitCode, out: r.stdout.toString() + r.stderr.toString() }
}

// one tsc run (elysia's types make each run slow): the only errors must be the deliberate drift's
test("a drop-in typed against logbook.d.ts agrees with the real contract; drift is caught", () => {
  const r = tsc(["sample.ts", "agree.ts", "drift.ts"])
  const errorLines = r.out.split("\n").filter((l) => /error TS\d+/.test(l))
  expect(errorLines.length).toBeGreaterThan(0)
  expect(errorLines.filter((l) => !l.startsWith("drift.ts"))).toEqual([])
  expect(r.code).not.toBe(0)
}, 60_000)
