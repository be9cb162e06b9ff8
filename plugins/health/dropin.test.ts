/**
 * Checks from outside the code: drop-in files (`import { defineHealthCheck } from "logbook"`), configured
 * simple checks (HTTP, TCP, PostgreSQL, Redis), duplicate names refused loudly, and `logbook check`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { createTestApp, PG_URL, type TestApp } from "../../test/support"
import healthPlugin from "./plugin"

const ADMIN = { authorization: "Bearer adm" }
const ROOT = resolve(import.meta.dir, "../..")

const DROP_IN = `import { defineHealthCheck } from "logbook"

export default defineHealthCheck({
  name: "dropped",
  level: 1,
  async check() {
    return { healthy: true, status_message: "from a file", queued_jobs: 7 }
  },
})

// "database" belongs to the core: this one must be refused, loudly
export const clash = defineHealthCheck({ name: "database", check: () => ({ healthy: true }) })
`

describe("a drop-in file", () => {
  let app: TestApp
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "lb-dropins-"))
    writeFileSync(join(dir, "checks.ts"), DROP_IN)
    app = await createTestApp({
      plugins: [healthPlugin],
      dropIns: true,
      env: { LOGBOOK_PLUGINS_DIR: dir, LOGBOOK_ADMIN_TOKEN: "adm" },
    })
  })
  afterAll(() => app.close())

  test("appears in every format", async () => {
    const ietf = await (await app.request("/health", { headers: ADMIN })).json()
    expect(ietf.checks["dropped:responseTime"][0]).toMatchObject({ status: "pass", queued_jobs: 7 })
    expect(await (await app.request("/readyz?verbose")).text()).toContain("[+]dropped ok\n")
    expect(await (await app.request("/readyz/dropped")).text()).toBe("ok")
    const pan = await (await app.request("/healthcheck/", { headers: ADMIN })).json()
    expect(pan.components.dropped).toEqual({
      healthy: true,
      status_message: "from a file",
      friendly_status: "from a file",
      response_time: expect.any(Number),
      queued_jobs: 7,
    })
    const c2c = await (await app.request("/c2c/health_check?checks=dropped")).json()
    expect(c2c.successes.dropped).toEqual({ timing: expect.any(Number), level: 1 })
    const spring = await (await app.request("/actuator/health/dropped")).json()
    expect(spring).toEqual({ status: "UP" })
    const native = await (await app.request("/api/v1/health")).json()
    expect(native.checks.find((c: { name: string }) => c.name === "dropped").source).toBe("drop-in:checks.ts")
    const page = await (await app.request("/ui/health", { headers: ADMIN })).text()
    expect(page).toContain('id="check-dropped"')
  })

  test("a duplicate name is refused and shown: log, `plugins` check, health page", async () => {
    expect(
      app.logs.some(
        (l) => l.level === "error" && JSON.stringify(l).includes('health check \\"database\\" is already'),
      ),
    ).toBe(true)
    const r = await (await app.request("/api/v1/health/checks/plugins", { headers: ADMIN })).json()
    expect(r.status).toBe("warn")
    expect(r.message).toContain('drop-in:checks.ts: health check "database" is already registered by core')
    const page = await (await app.request("/ui/health", { headers: ADMIN })).text()
    expect(page).toContain("already registered by core")
  })
})

describe("configured simple checks", () => {
  const upstream = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname
      if (path === "/ok") return new Response("hello world")
      if (path === "/remote-health")
        return new Response(JSON.stringify({ status: "WARN" }), {
          headers: { "content-type": "application/health+json" },
        })
      return new Response("nope", { status: 503 })
    },
  })
  // a tiny RESP server: answers PING with +PONG
  const redis = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(s, d) {
        if (d.toString().startsWith("PING")) s.write("+PONG\r\n")
      },
    },
  })
  const closed = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } })
  const closedPort = closed.port
  closed.stop(true)

  let app: TestApp
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "lb-hcfg-"))
    const file = join(dir, "checks.json")
    const base = `http://127.0.0.1:${upstream.port}`
    writeFileSync(
      file,
      JSON.stringify({
        checks: [
          { name: "redis", type: "redis", host: "127.0.0.1", port: redis.port },
          { name: "tcp-open", type: "tcp", host: "127.0.0.1", port: upstream.port },
          { name: "tcp-closed", type: "tcp", host: "127.0.0.1", port: closedPort, timeoutMs: 1000 },
          {
            name: "pg",
            type: "postgres",
            url: PG_URL || `postgres://postgres@127.0.0.1:${closedPort}/x`,
            timeoutMs: 1500,
          },
        ],
      }),
    )
    app = await createTestApp({
      plugins: [healthPlugin],
      env: {
        LOGBOOK_ADMIN_TOKEN: "adm",
        LOGBOOK_HEALTH_CHECKS_FILE: file,
        LOGBOOK_HEALTH_CHECKS: JSON.stringify([
          { name: "http-ok", type: "http", url: `${base}/ok`, expectBody: "hello" },
          { name: "http-body", type: "http", url: `${base}/ok`, expectBody: "goodbye" },
          { name: "http-503", type: "http", url: `${base}/down`, level: 2, groups: ["ready", "upstream"] },
          { name: "http-remote", type: "http", url: `${base}/remote-health` },
          { name: "database", type: "tcp", host: "127.0.0.1", port: 1 },
        ]),
      },
    })
  })
  afterAll(async () => {
    await app.close()
    upstream.stop(true)
    redis.stop(true)
  })

  test("each kind reports what it found", async () => {
    const body = await (await app.request("/api/v1/health", { headers: ADMIN })).json()
    const by = Object.fromEntries(
      (
        body.checks as Array<{
          name: string
          status: string
          message: string
          groups: string[]
          source: string
        }>
      ).map((c) => [c.name, c]),
    )
    expect(by["http-ok"]).toMatchObject({ status: "pass", message: "URL is available" })
    expect(by["http-body"]).toMatchObject({
      status: "fail",
      message: 'response body does not contain "goodbye"',
    })
    expect(by["http-503"]).toMatchObject({
      status: "fail",
      message: "server responded with unexpected status code: 503",
      groups: ["ready", "upstream"],
    })
    expect(by["http-remote"]).toMatchObject({ status: "warn", message: "remote service reports warn" })
    expect(by.redis).toMatchObject({ status: "pass", message: "redis answered PONG" })
    expect(by["tcp-open"].status).toBe("pass")
    expect(by["tcp-closed"].status).toBe("fail")
    expect(by.pg.status).toBe(PG_URL ? "pass" : "fail")
    // the configured "database" clashes with the core's: refused, and said so
    expect(by.database.source).toBe("core")
    expect(by.plugins).toMatchObject({ status: "warn" })
    expect(by.plugins.message).toContain(
      'configured check: health check "database" is already registered by core',
    )
    // custom groups work as Spring groups
    const upstreamGroup = await app.request("/actuator/health/upstream")
    expect(upstreamGroup.status).toBe(503)
  })

  test("a malformed configuration is named, not ignored", async () => {
    const bad = await createTestApp({
      plugins: [healthPlugin],
      env: {
        LOGBOOK_ADMIN_TOKEN: "adm",
        LOGBOOK_HEALTH_CHECKS: JSON.stringify([{ name: "x", type: "http", url: "ftp://example" }]),
      },
    })
    try {
      const r = await (await bad.request("/api/v1/health/checks/plugins", { headers: ADMIN })).json()
      expect(r.status).toBe("warn")
      expect(r.message).toContain("LOGBOOK_HEALTH_CHECKS[0] (http): /url")
    } finally {
      await bad.close()
    }
  })
})

describe("logbook check", () => {
  const run = async (dropIn: string) => {
    const dir = mkdtempSync(join(tmpdir(), "lb-check-"))
    writeFileSync(join(dir, "probe.ts"), dropIn)
    const proc = Bun.spawn(["bun", "src/main.ts", "check"], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/tmp",
        LOGBOOK_DATA_DIR: join(dir, "data"),
        LOGBOOK_PLUGINS_DIR: dir,
        LOGBOOK_LOG_LEVEL: "critical",
      },
      stdout: "pipe",
      stderr: "pipe",
    })
    const [code, out] = await Promise.all([proc.exited, new Response(proc.stdout).text()])
    return { code, out }
  }

  test("exits 1 when a check fails, 0 when none does", async () => {
    const failing = await run(
      `import { defineHealthCheck } from "logbook"
export default defineHealthCheck({ name: "probe", check() { throw new Error("probe is down") } })`,
    )
    expect(failing.out).toContain("fail probe: probe is down")
    expect(failing.code).toBe(1)
    const passing = await run(
      `import { defineHealthCheck } from "logbook"
export default defineHealthCheck({ name: "probe", check: () => ({ healthy: true, message: "fine" }) })`,
    )
    expect(passing.out).toContain("pass probe: fine")
    expect(passing.code).toBe(0)
  })
})
