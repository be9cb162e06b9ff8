/**
 * The compiled binary (issue 2, item 12): `dist/logbook` runs from an empty directory with no source tree
 * next to it, serves pages, embedded assets and OpenAPI, has every built-in plugin inside, loads a drop-in
 * `.ts` file from its plugins.d/ (which imports the virtual module "logbook"), reports a throwing drop-in
 * without failing, runs `migrate` and `token create`, and exits 0 on SIGTERM.
 *
 * The binary is built into a temp directory (a few seconds) unless LOGBOOK_BINARY names one already built
 * (`.ci/run` builds first). Only a build that cannot finish in BUILD_TIMEOUT_MS skips the tests; a build
 * that fails is a failure.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import pkg from "../package.json" with { type: "json" }
import { loadBuiltins } from "../src/boot"
import { freePort, type Running, startLogbook, waitFor } from "./bench/process"
import { PG_URL, testDatabase } from "./support"

const ROOT = resolve(import.meta.dir, "..")
const BUILD_TIMEOUT_MS = 120_000
const work = mkdtempSync(join(tmpdir(), "logbook-binary-"))

interface Built {
  path?: string
  skipped?: string
  failed?: string
}

async function obtainBinary(): Promise<Built> {
  const given = process.env.LOGBOOK_BINARY
  if (given)
    return existsSync(given) ? { path: resolve(given) } : { failed: `LOGBOOK_BINARY=${given} does not exist` }
  const outfile = join(work, "build", "logbook")
  const proc = Bun.spawn([process.execPath, "scripts/build.ts", "--outfile", outfile], {
    cwd: ROOT,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: BUILD_TIMEOUT_MS,
    killSignal: "SIGKILL",
  })
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  if (proc.signalCode === "SIGKILL")
    return { skipped: `the binary could not be built within ${BUILD_TIMEOUT_MS / 1000} s` }
  if (code !== 0) return { failed: `scripts/build.ts exited ${code}\n${out}\n${err}` }
  return { path: outfile }
}

const built = await obtainBinary()
/** The built-in plugins as this source tree has them (each must be inside the binary). */
const builtins = await loadBuiltins()
if (built.skipped) console.warn(`test/binary.test.ts: SKIPPED — ${built.skipped}`)

// An empty directory: the binary, its plugins.d/ with drop-ins, its data dir. No source tree.
const home = join(work, "home")
const binary = join(home, "logbook")
const dataDir = join(home, "data")

const HELLO_DROPIN = `import { defineHealthCheck, definePlugin, Elysia } from "logbook"

export const ping = defineHealthCheck({
  name: "dropin-ping",
  timeoutMs: 1000,
  async check() {
    return { healthy: true, queued_jobs: 3 }
  },
})

export default definePlugin({
  id: "hello-dropin",
  title: "Hello drop-in",
  routes: () => new Elysia().get("/api/v1/hello-dropin", () => ({ hello: "from a drop-in" })),
})
`

const ADMIN_TOKEN = "binary-test-admin-token"

const THROWING_DROPIN = `throw new Error("this drop-in fails on purpose")\n`

let env: Record<string, string>
let dropDb: (() => Promise<void>) | undefined
let server: Running | undefined

function run(args: string[], extraEnv: Record<string, string> = {}) {
  const r = Bun.spawnSync([binary, ...args], {
    cwd: home,
    env: { ...env, ...extraEnv },
    stdin: "ignore",
    timeout: 30_000,
  })
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() }
}

describe.skipIf(Boolean(built.skipped))("compiled binary", () => {
  beforeAll(async () => {
    if (built.failed) throw new Error(built.failed)
    mkdirSync(join(home, "plugins.d"), { recursive: true })
    copyFileSync(built.path as string, binary)
    writeFileSync(join(home, "plugins.d", "hello.ts"), HELLO_DROPIN)
    writeFileSync(join(home, "plugins.d", "broken.ts"), THROWING_DROPIN)
    env = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: home,
      LOGBOOK_DATA_DIR: dataDir,
      LOGBOOK_SHUTDOWN_DRAIN_SECONDS: "0", // the drain itself is tested by core-sigterm.test.ts
      LOGBOOK_ADMIN_TOKEN: ADMIN_TOKEN, // health details (extra fields) are for callers with a token
    }
    if (PG_URL) {
      // the binary speaks to its own fresh schema on the test PostgreSQL
      const pg = await testDatabase()
      await pg.db.close()
      env.LOGBOOK_DATABASE_URL = pg.url
      dropDb = pg.drop
    }
  }, 30_000)

  afterAll(async () => {
    await server?.stop().catch(() => {})
    await dropDb?.()
    rmSync(work, { recursive: true, force: true })
  }, 30_000)

  test("--version and --help", () => {
    const v = run(["--version"])
    expect(v.code).toBe(0)
    expect(v.stdout.trim()).toBe(pkg.version)
    const h = run(["--help"])
    expect(h.code).toBe(0)
    for (const cmd of ["serve", "migrate", "token create", "--version"]) expect(h.stdout).toContain(cmd)
  }, 30_000)

  test("an unknown command exits non-zero with the help", () => {
    const r = run(["frobnicate"])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("unknown command")
  }, 30_000)

  test("migrate and token create work from the binary", () => {
    const m = run(["migrate"])
    expect(m.code, m.stderr).toBe(0)
    expect(m.stdout).toContain("up to date")
    if (!PG_URL) expect(existsSync(dataDir)).toBe(true)
    const t = run(["token", "create", "--name", "binary-test", "--role", "admin"])
    expect(t.code).toBe(0)
    expect(t.stdout.trim()).toMatch(/^\S{20,}$/)
    const l = run(["token", "list"])
    expect(l.code).toBe(0)
    expect(l.stdout).toContain("binary-test")
  }, 30_000)

  test("serves from an empty directory with built-ins, assets, OpenAPI and drop-ins", async () => {
    server = await startLogbook({ cmd: [binary, "serve"], cwd: home, env, port: freePort() })
    const get = (path: string) => fetch(`${server!.baseUrl}${path}`)

    const home_ = await get("/")
    expect(home_.status).toBe(200)
    expect(await home_.text()).toContain("/assets/htmx.min.js")

    // `with { type: "file" }` assets are embedded: byte-identical to the package files
    for (const [path, file] of [
      ["/assets/htmx.min.js", "node_modules/htmx.org/dist/htmx.min.js"],
      ["/assets/ext/hx-sse.min.js", "node_modules/htmx.org/dist/ext/hx-sse.min.js"],
      ["/assets/swagger-ui-bundle.js", "node_modules/swagger-ui-dist/swagger-ui-bundle.js"],
      ["/assets/swagger-ui.css", "node_modules/swagger-ui-dist/swagger-ui.css"],
      ["/assets/app.css", "views/assets/app.css"],
      ["/assets/app.js", "views/assets/app.js"],
    ]) {
      const r = await get(path)
      expect(r.status, path).toBe(200)
      expect(Bun.hash(await r.arrayBuffer()), path).toBe(
        Bun.hash(await Bun.file(join(ROOT, file)).arrayBuffer()),
      )
    }

    const ui = await get("/openapi")
    expect(ui.status).toBe(200)
    const uiHtml = await ui.text()
    expect(uiHtml).toContain("/assets/swagger-ui-bundle.js")
    expect(uiHtml).not.toMatch(/(src|href)=["']https?:\/\//)
    const spec = await get("/openapi/json")
    expect(spec.status).toBe(200)
    const doc = (await spec.json()) as { openapi: string; paths: Record<string, unknown> }
    expect(doc.openapi).toMatch(/^3\.1\./)
    expect(Object.keys(doc.paths)).toContain("/api/v1/hello-dropin")

    // the drop-in plugin's route answers (it imported Elysia and definePlugin from "logbook")
    const hello = await get("/api/v1/hello-dropin")
    expect(hello.status).toBe(200)
    expect(await hello.json()).toEqual({ hello: "from a drop-in" })

    // the `with { type: "text" }` declarations are embedded too
    const types = run(["types", join(work, "types")])
    expect(types.code).toBe(0)
    expect(await Bun.file(join(work, "types", "logbook.d.ts")).text()).toBe(
      await Bun.file(join(ROOT, "src/plugin/logbook.d.ts")).text(),
    )
  }, 30_000)

  test("the plugins page lists every built-in plugin started, the drop-ins and the broken one", async () => {
    const page = await (await fetch(`${server!.baseUrl}/ui/plugins`)).text()
    const status = (id: string) =>
      new RegExp(`<tr data-plugin="${id}">[\\s\\S]*?<span class="badge[^"]*">([a-z]+)</span>`).exec(page)?.[1]
    // a plugin that works from source but not from the binary (e.g. reads files next to its sources) shows here
    expect(Object.fromEntries(builtins.map(({ plugin }) => [plugin.id, status(plugin.id)]))).toEqual(
      Object.fromEntries(builtins.map(({ plugin }) => [plugin.id, "started"])),
    )
    expect(status("hello-dropin")).toBe("started")
    expect(status("broken.ts")).toBe("failed")
    expect(page).toContain("drop-in:hello.ts")
    expect(page).toContain("dropin-ping")
    // the throwing drop-in is reported (page + log) and the server runs anyway
    expect(page).toContain("drop-in:broken.ts")
    expect(page).toContain("this drop-in fails on purpose")
    expect(server!.output()).toContain("this drop-in fails on purpose")
  }, 30_000)

  test.if(builtins.some((b) => b.plugin.id === "health"))(
    "the drop-in check appears in every health format, under its name, with its extra field",
    async () => {
      const get = (path: string, admin = false) =>
        fetch(`${server!.baseUrl}${path}`, {
          headers: admin ? { authorization: `Bearer ${ADMIN_TOKEN}` } : {},
        })
      /** The JSON answer of a health format: entries by name under `key` (checks, components, successes). */
      type Keyed = Record<string, Record<string, unknown>>
      const json = async (path: string, admin = false) => {
        const r = await get(path, admin)
        expect(r.status, path).toBe(200)
        return (await r.json()) as Record<string, unknown>
      }
      const entry = async (path: string, key: string, name: string, admin = true) =>
        ((await json(path, admin))[key] as Keyed)[name]
      // IETF: "<name>:<measurement>" (no observedValue → responseTime); extra fields with details only
      const [ietf] = (await entry("/health", "checks", "dropin-ping:responseTime")) as unknown as Keyed[]
      expect(ietf).toMatchObject({ status: "pass", componentType: "component", level: 1, queued_jobs: 3 })
      const [anonymous] = (await entry(
        "/health",
        "checks",
        "dropin-ping:responseTime",
        false,
      )) as unknown as Keyed[]
      expect(anonymous).toMatchObject({ status: "pass" })
      expect(anonymous.queued_jobs).toBeUndefined()
      // Kubernetes: one line per check of the ready group (the default group)
      const readyz = await get("/readyz?verbose")
      expect(readyz.status).toBe(200)
      expect(await readyz.text()).toContain("\n[+]dropin-ping ok\n")
      expect(await (await get("/readyz/dropin-ping")).text()).toBe("ok")
      // panopticon: a component keyed by the check's name, extra fields passed through
      expect(await entry("/healthcheck/", "components", "dropin-ping")).toMatchObject({
        healthy: true,
        response_time: expect.any(Number),
        queued_jobs: 3,
      })
      // c2cwsgiutils: a success at level 1 (the default max_level), its extra fields as the result
      expect(await entry("/c2c/health_check", "successes", "dropin-ping")).toMatchObject({
        level: 1,
        timing: expect.any(Number),
        result: { queued_jobs: 3 },
      })
      // Spring: a component of the aggregate (shown with details), and by itself
      expect(await entry("/actuator/health", "components", "dropin-ping")).toMatchObject({
        status: "UP",
        details: { queued_jobs: 3 },
      })
      expect(await json("/actuator/health/dropin-ping")).toEqual({ status: "UP" })
    },
    30_000,
  )

  test("a token created by the CLI signs in to the running binary", async () => {
    const t = run(["token", "create", "--name", "signin", "--role", "read"])
    expect(t.code).toBe(0)
    const r = await fetch(`${server!.baseUrl}/ui/signin`, {
      method: "POST",
      body: new URLSearchParams({ token: t.stdout.trim(), next: "/" }),
      redirect: "manual",
    })
    expect(r.status).toBe(303)
    expect(r.headers.get("set-cookie")).toBeTruthy()
  }, 30_000)

  test("SIGTERM exits 0", async () => {
    const code = await server!.stop()
    expect(code).toBe(0)
    expect(server!.output()).toContain('"stopped"')
    server = undefined
  }, 30_000)

  test("started from another directory, it loads the plugins.d next to itself", async () => {
    expect(existsSync(join(work, "plugins.d"))).toBe(false)
    const other = await startLogbook({ cmd: [binary, "serve"], cwd: work, env })
    try {
      const r = await fetch(`${other.baseUrl}/api/v1/hello-dropin`)
      expect(r.status).toBe(200)
    } finally {
      expect(await other.stop()).toBe(0)
    }
  }, 30_000)

  test("`types` run from another directory writes next to the binary's plugins.d, creating none where it ran", () => {
    const r = Bun.spawnSync([binary, "types"], { cwd: work, env, stdin: "ignore", timeout: 30_000 })
    expect(r.exitCode).toBe(0)
    expect(r.stdout.toString()).toContain(join(home, "plugins.d", "logbook.d.ts"))
    expect(existsSync(join(home, "plugins.d", "logbook.d.ts"))).toBe(true)
    // a ./plugins.d created here would shadow the one next to the binary at the next start
    expect(existsSync(join(work, "plugins.d"))).toBe(false)
  })

  test("LOGBOOK_STRICT_PLUGINS=1 makes the broken drop-in fatal", async () => {
    const proc = Bun.spawn([binary, "serve"], {
      cwd: home,
      env: { ...env, LOGBOOK_PORT: String(freePort()), LOGBOOK_STRICT_PLUGINS: "1" },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    })
    const code = await waitFor(
      "the strict binary to exit",
      () => (proc.exitCode === null ? undefined : proc.exitCode),
      15_000,
    )
    if (proc.exitCode === null) proc.kill("SIGKILL")
    expect(code).not.toBe(0)
    expect((await new Response(proc.stderr).text()) + (await new Response(proc.stdout).text())).toContain(
      "this drop-in fails on purpose",
    )
  }, 30_000)
})
