/**
 * Shutdown as load balancers see it: from `server.draining` (SIGTERM) on, every readiness format says
 * "not taking traffic" while liveness, startup and the c2c ping still answer as before. (The real signal,
 * the drain period and the writes are proven with a spawned process in test/core-sigterm.test.ts.)
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createTestApp, type TestApp } from "../../test/support"
import { SHUTDOWN_MESSAGE } from "./formats"
import healthPlugin from "./plugin"
import { switchable, switchablePlugin } from "./testing"

const ADMIN = { authorization: "Bearer adm-token" }
let app: TestApp

beforeAll(async () => {
  app = await createTestApp({
    plugins: [healthPlugin, switchablePlugin(switchable("pass"))],
    env: { LOGBOOK_ADMIN_TOKEN: "adm-token", LOGBOOK_DATA_DIR: mkdtempSync(join(tmpdir(), "lb-drain-")) },
  })
})
afterAll(() => app.close())

const get = async (path: string, headers: Record<string, string> = {}) => {
  const r = await app.request(path, { headers })
  return { status: r.status, text: await r.text() }
}
const READY = "/readyz?exclude=disk"

test("before the signal every readiness format is ready (the probe's cached answer included)", async () => {
  expect(await get(READY)).toEqual({ status: 200, text: "ok" })
  expect(await get("/readyz")).toMatchObject({ status: 200 })
  expect((await get("/health")).status).toBe(200)
  expect((await get("/healthcheck/")).status).toBe(200)
  expect((await get("/c2c/health_check")).status).toBe(200)
  expect((await get("/actuator/health/readiness")).status).toBe(200)
})

test("after server.draining: not ready in every format, still live", async () => {
  app.host.events.emit("server.draining", { signal: "SIGTERM", drainMs: 5000 })

  // Kubernetes: the (previously cached) readiness answer turns 503; liveness and startup stay 200
  expect(await get("/readyz")).toMatchObject({ status: 503 })
  const verbose = await get(`${READY}&verbose`)
  expect(verbose.status).toBe(503)
  expect(verbose.text).toContain("[-]shutdown failed: reason withheld\n")
  expect(verbose.text.endsWith("readyz check failed\n")).toBe(true)
  expect(await get("/livez")).toEqual({ status: 200, text: "ok" })
  expect(await get("/livez?verbose")).toMatchObject({ status: 200 })
  expect(await get("/startupz")).toEqual({ status: 200, text: "ok" })

  // IETF: fail / 503, the shutdown shown as a check of its own
  const ietf = await get("/health", ADMIN)
  expect(ietf.status).toBe(503)
  const body = JSON.parse(ietf.text)
  expect(body.status).toBe("fail")
  expect(body.output).toBe("failing: shutdown")
  expect(body.checks["shutdown:status"][0]).toMatchObject({
    componentType: "system",
    observedValue: "stopping",
    status: "fail",
    output: SHUTDOWN_MESSAGE,
  })
  expect(body.checks["svc:responseTime"][0].status).toBe("pass")
  // anonymous callers get the same status, the reason withheld like every other
  const anonymous = JSON.parse((await get("/health")).text)
  expect(anonymous.status).toBe("fail")
  expect(anonymous.checks["shutdown:status"][0].output).toBe("reason withheld")

  // panopticon: 500, a `shutdown` component that is not healthy
  const pan = await get("/healthcheck/", ADMIN)
  expect(pan.status).toBe(500)
  const p = JSON.parse(pan.text)
  expect(p.service_healthy).toBe(false)
  expect(p.components.shutdown).toMatchObject({ healthy: false, status_message: SHUTDOWN_MESSAGE })
  expect(p.components.svc.healthy).toBe(true)

  // c2c: a level-1 failure (what load balancers ask for); max_level=0 stays a ping
  const c2c = await get("/c2c/health_check", ADMIN)
  expect(c2c.status).toBe(500)
  expect(JSON.parse(c2c.text).failures.shutdown).toEqual({
    message: SHUTDOWN_MESSAGE,
    timing: 0,
    level: 1,
    result: { observedValue: "stopping" },
  })
  expect(await get("/c2c/health_check?max_level=0")).toEqual({
    status: 200,
    text: '{"successes":{},"failures":{}}',
  })

  // Spring: readiness and the root OUT_OF_SERVICE (503), liveness UP
  expect(await get("/actuator/health/readiness")).toEqual({
    status: 503,
    text: '{"status":"OUT_OF_SERVICE"}',
  })
  expect(await get("/actuator/health")).toEqual({ status: 503, text: '{"status":"OUT_OF_SERVICE"}' })
  expect(await get("/actuator/health/liveness")).toEqual({ status: 200, text: '{"status":"UP"}' })

  // the native API names the phase
  const native = await app.request("/api/v1/health", { headers: ADMIN })
  expect((await native.json()).phase).toBe("stopping")
})

test("a second draining event changes nothing", async () => {
  const before = JSON.parse((await get("/health", ADMIN)).text).checks["shutdown:status"][0].time
  app.host.events.emit("server.draining", { signal: "SIGTERM", drainMs: 0 })
  const after = JSON.parse((await get("/health", ADMIN)).text).checks["shutdown:status"][0].time
  expect(after).toBe(before)
})
