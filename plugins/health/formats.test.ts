/**
 * Every endpoint's exact shape and status code for a check that passes, warns, fails, times out and
 * throws — with details (admin token) and without (anonymous).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { definePlugin } from "../../src/plugin/contract"
import { createTestApp, type TestApp } from "../../test/support"
import healthPlugin from "./plugin"
import { type Mode, settle, switchable, switchablePlugin } from "./testing"

const ADMIN = { authorization: "Bearer adm-token" }
const READER = { authorization: "Bearer reader" }
const ctl = switchable()
let app: TestApp

beforeAll(async () => {
  app = await createTestApp({
    plugins: [healthPlugin, switchablePlugin(ctl)],
    env: { LOGBOOK_ADMIN_TOKEN: "adm-token", LOGBOOK_DATA_DIR: mkdtempSync(join(tmpdir(), "lb-health-")) },
  })
})
afterAll(() => app.close())

const get = async (path: string, headers: Record<string, string> = {}) => {
  // every request meets a run that times out now, not one still hanging from an earlier request
  // (that one is reported as "…, still running for N s": runner.test.ts)
  if (ctl.mode === "timeout") {
    ctl.mode = "pass"
    ctl.mode = "timeout"
    await settle()
  }
  const r = await app.request(path, { headers })
  return { status: r.status, type: r.headers.get("content-type"), text: await r.text(), headers: r.headers }
}
const json = async (path: string, headers: Record<string, string> = {}) => {
  const r = await get(path, headers)
  return { ...r, body: JSON.parse(r.text) }
}

const TIME = "2026-11-22T10:00:00Z"
const expected: Record<
  Mode,
  { status: "pass" | "warn" | "fail"; message: string; extras: Record<string, unknown>; stack: boolean }
> = {
  pass: { status: "pass", message: "svc ok", extras: { queued_jobs: 3 }, stack: false },
  warn: { status: "warn", message: "svc slow", extras: { queued_jobs: 40 }, stack: false },
  fail: { status: "fail", message: "svc down", extras: { queued_jobs: 423 }, stack: false },
  timeout: { status: "fail", message: "timeout after 100 ms", extras: {}, stack: false },
  throw: { status: "fail", message: "boom", extras: {}, stack: true },
}

for (const mode of ["pass", "warn", "fail", "timeout", "throw"] as Mode[]) {
  const e = expected[mode]
  const failed = e.status === "fail"
  describe(`a check that ${mode === "throw" ? "throws" : mode === "timeout" ? "times out" : `${mode}es`}`, () => {
    beforeAll(async () => {
      ctl.mode = mode
      await settle()
    })

    test("GET /health (IETF health+json)", async () => {
      const r = await json("/health", ADMIN)
      expect(r.status).toBe(failed ? 503 : 200)
      expect(r.type).toBe("application/health+json")
      expect(r.body).toMatchObject({ version: "0.1.0", serviceId: "logbook", description: "Logbook" })
      if (failed) expect(r.body.status).toBe("fail")
      else expect(["pass", "warn"]).toContain(r.body.status)
      if (failed) expect(r.body.output).toContain("svc")
      expect(r.body.checks["svc:responseTime"]).toEqual([
        {
          componentType: "component",
          observedValue: expect.any(Number),
          observedUnit: "ms",
          status: e.status,
          time: TIME,
          ...(e.status === "pass" ? {} : { output: e.message }),
          level: 1,
          groups: ["ready"],
          since: TIME,
          durationMs: expect.any(Number),
          ...e.extras,
        },
      ])
      const anon = await json("/health")
      expect(anon.status).toBe(r.status)
      const item = anon.body.checks["svc:responseTime"][0]
      expect(item.queued_jobs).toBeUndefined()
      if (e.status !== "pass") expect(item.output).toBe("reason withheld")
    })

    test("GET /readyz, /readyz?verbose, /readyz/svc, /livez", async () => {
      const plain = await get("/readyz", ADMIN)
      expect(plain.status).toBe(failed ? 503 : 200)
      expect(plain.type).toBe("text/plain; charset=utf-8")
      expect(plain.headers.get("x-content-type-options")).toBe("nosniff")
      const verbose = await get("/readyz?verbose")
      expect(verbose.status).toBe(failed ? 503 : 200)
      const lines = verbose.text.trimEnd().split("\n")
      expect(lines[0]).toBe("[+]ping ok")
      expect(lines).toContain(failed ? "[-]svc failed: reason withheld" : "[+]svc ok")
      expect(lines.at(-1)).toBe(failed ? "readyz check failed" : "readyz check passed")
      if (failed) {
        // failure output is always verbose; reasons reach only callers allowed to see details
        expect(plain.text).toContain(`[-]svc failed: ${e.message}\n`)
        expect(plain.text.endsWith("readyz check failed\n")).toBe(true)
      } else expect(plain.text).toBe("ok")
      const one = await get("/readyz/svc")
      expect(one.status).toBe(failed ? 503 : 200)
      expect(one.text).toBe(failed ? "internal server error: reason withheld" : "ok")
      expect((await get("/readyz/svc", ADMIN)).text).toBe(
        failed ? `internal server error: ${e.message}` : "ok",
      )
      // liveness never depends on this (external) check
      const live = await get("/livez?verbose")
      expect(live).toMatchObject({ status: 200, text: "[+]ping ok\nlivez check passed\n" })
    })

    test("GET /healthcheck/ (panopticon)", async () => {
      const r = await json("/healthcheck/", ADMIN)
      expect(r.status).toBe(failed ? 500 : 200)
      expect(r.body.service_healthy).toBe(!failed)
      expect(r.body.timestamp).toBe("2026-11-22T10:00:00.000Z")
      expect(r.body.components.svc).toEqual({
        healthy: !failed,
        status_message: e.message,
        friendly_status: e.message,
        response_time: expect.any(Number),
        ...e.extras,
      })
      expect(r.body.components.svc.response_time).toBeLessThan(5)
      const anon = await json("/healthcheck/")
      expect(anon.body.components.svc).toEqual({ healthy: !failed, response_time: expect.any(Number) })
    })

    test("GET /c2c/health_check", async () => {
      const r = await json("/c2c/health_check?checks=svc", ADMIN)
      expect(r.status).toBe(failed ? 500 : 200)
      if (!failed) {
        expect(r.body).toEqual({
          successes: {
            svc: { timing: expect.any(Number), level: 1, result: { message: e.message, ...e.extras } },
          },
          failures: {},
        })
      } else {
        const f = r.body.failures.svc
        expect(r.body.successes).toEqual({})
        expect(f).toMatchObject({ message: e.message, timing: expect.any(Number), level: 1 })
        if (mode === "fail") expect(f.result).toEqual(e.extras)
        if (mode === "throw") expect(f.result).toEqual({ code: 42 })
        if (e.stack) expect(f.stacktrace).toContain("boom")
        else expect(f.stacktrace).toBeUndefined()
        // stack traces are for admins only, reasons for callers allowed to see details
        const reader = await json("/c2c/health_check?checks=svc")
        expect(reader.body.failures.svc).toEqual({
          message: "reason withheld",
          timing: expect.any(Number),
          level: 1,
        })
      }
    })

    test("GET /actuator/health[/svc]", async () => {
      const root = await json("/actuator/health", ADMIN)
      expect(root.status).toBe(failed ? 503 : 200)
      expect(root.type).toBe("application/vnd.spring-boot.actuator.v3+json")
      expect(root.body.status).toBe(failed ? "DOWN" : "UP")
      const details: Record<string, unknown> = {
        [e.status === "pass" ? "message" : e.status === "warn" ? "warning" : "error"]: e.message,
        durationMs: expect.any(Number),
        ...e.extras,
      }
      if (e.stack) details.stacktrace = expect.stringContaining("boom")
      expect(root.body.components.svc).toEqual({ status: failed ? "DOWN" : "UP", details })
      const one = await json("/actuator/health/svc", { ...ADMIN, accept: "application/json" })
      expect(one.status).toBe(failed ? 503 : 200)
      expect(one.type).toBe("application/json")
      expect(one.body).toEqual({ status: failed ? "DOWN" : "UP", details })
      expect((await json("/actuator/health")).body).toEqual({ status: failed ? "DOWN" : "UP" })
      const readiness = await json("/actuator/health/readiness")
      expect(readiness).toMatchObject({
        status: failed ? 503 : 200,
        body: { status: failed ? "DOWN" : "UP" },
      })
      expect(await json("/actuator/health/liveness")).toMatchObject({ status: 200, body: { status: "UP" } })
    })

    test("GET /api/v1/health", async () => {
      const r = await json("/api/v1/health", ADMIN)
      expect(r.status).toBe(200)
      const svc = r.body.checks.find((c: { name: string }) => c.name === "svc")
      expect(svc).toMatchObject({
        name: "svc",
        status: e.status,
        message: e.message,
        level: 1,
        groups: ["ready"],
        critical: true,
        timeoutMs: 100,
        source: "probe",
        extras: e.extras,
      })
      if (failed) expect(r.body.status).toBe("fail")
    })
  })
}

describe("/health output: what is failing and what is only warning", () => {
  const modes = { bad: "fail", slow: "warn", flaky: "fail" } as Record<string, "pass" | "warn" | "fail">
  const mixed = definePlugin({
    id: "mixed",
    title: "Mixed",
    checks: () =>
      Object.keys(modes).map((name) => ({
        name,
        critical: name !== "flaky", // a failing non-critical check is a warning
        check: () => ({ status: modes[name], message: `${name} is ${modes[name]}` }),
      })),
  })
  let a: TestApp
  beforeAll(async () => {
    a = await createTestApp({
      plugins: [healthPlugin, mixed],
      env: { LOGBOOK_DATA_DIR: mkdtempSync(join(tmpdir(), "lb-health-")) },
    })
  })
  afterAll(() => a.close())
  const output = async () => {
    const body = (await (await a.request("/health")).json()) as {
      status: string
      output?: string
      checks: Record<string, Array<{ status: string }>>
    }
    // the core's checks (database, disk) are in it too: disk warns on a nearly full machine
    const names = (status: string) =>
      Object.entries(body.checks)
        .filter(([, [c]]) => c.status === status)
        .map(([key]) => key.split(":")[0])
    return { status: body.status, output: body.output, fail: names("fail"), warn: names("warn") }
  }

  test("failing and warning checks are named apart; only the parts that apply", async () => {
    let r = await output()
    expect(r.status).toBe("fail")
    expect(r.fail).toEqual(["bad"])
    expect(r.warn).toEqual(expect.arrayContaining(["slow", "flaky"]))
    expect(r.output).toBe(`failing: bad; warning: ${r.warn.join(", ")}`)
    modes.bad = "pass"
    r = await output()
    expect(r.status).toBe("warn")
    expect(r.output).toBe(`warning: ${r.warn.join(", ")}`)
    expect(r.output).toContain("slow, flaky")
    modes.slow = "pass"
    modes.flaky = "pass"
    modes.bad = "fail"
    r = await output()
    if (!r.warn.length) expect(r.output).toBe("failing: bad")
    else expect(r.output).toStartWith("failing: bad; warning: ")
  })
})

describe("requests that are wrong", () => {
  test("c2c: a non-integer max_level and an unknown check name are 400, max_level=0 is a ping", async () => {
    ctl.mode = "pass"
    await settle()
    const bad = await json("/c2c/health_check?max_level=high")
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toContain("max_level must be an integer")
    const unknown = await json("/c2c/health_check?checks=svc,bogus")
    expect(unknown.status).toBe(400)
    expect(unknown.body.error.message).toBe("unknown check: bogus")
    const ping = await json("/c2c/health_check?max_level=0")
    expect(ping).toMatchObject({ status: 200, body: { successes: {}, failures: {} } })
    // levels: the default max_level is 1, so the level-2 `plugins` check needs a higher one
    expect((await json("/c2c/health_check")).body.successes.plugins).toBeUndefined()
    expect((await json("/c2c/health_check?max_level=2")).body.successes.plugins).toBeDefined()
  })

  test("k8s: ?exclude= skips a check and warns about unknown names", async () => {
    ctl.mode = "fail"
    await settle()
    const r = await get("/readyz?verbose&exclude=svc&exclude=bogus")
    expect(r.status).toBe(200)
    expect(r.text).toContain("[+]svc excluded: ok\n")
    expect(r.text).toContain('warn: some health checks cannot be excluded: no matches for "bogus"\n')
    expect(r.text.endsWith("readyz check passed\n")).toBe(true)
    expect((await get("/readyz/bogus")).status).toBe(404)
  })

  test("unknown Spring components are 404; /healthcheck without slash is not ours", async () => {
    expect((await get("/actuator/health/bogus")).status).toBe(404)
    expect((await get("/healthcheck")).status).toBe(404)
  })

  test("native API: unknown tokens are refused, running a check needs an admin", async () => {
    expect((await get("/api/v1/health", READER)).status).toBe(401)
    expect((await get("/api/v1/health")).status).toBe(200)
    const run = await app.request("/api/v1/health/checks/svc/run", { method: "POST" })
    expect(run.status).toBe(401)
    ctl.mode = "pass"
    await settle()
    const ok = await app.request("/api/v1/health/checks/svc/run", { method: "POST", headers: ADMIN })
    expect(ok.status).toBe(200)
    expect((await ok.json()).status).toBe("pass")
  })
})

describe("LOGBOOK_HEALTH_SHOW_DETAILS", () => {
  const withSetting = async (value: string, fn: (a: TestApp) => Promise<void>) => {
    const a = await createTestApp({
      plugins: [healthPlugin, switchablePlugin(ctl)],
      env: { LOGBOOK_ADMIN_TOKEN: "adm-token", LOGBOOK_HEALTH_SHOW_DETAILS: value },
    })
    try {
      await fn(a)
    } finally {
      await a.close()
    }
  }

  test("always: anonymous callers see reasons and extra fields, but no stack traces", async () => {
    ctl.mode = "throw"
    await settle()
    await withSetting("always", async (a) => {
      const c2cBody = await (await a.request("/c2c/health_check?checks=svc")).json()
      expect(c2cBody.failures.svc).toEqual({
        message: "boom",
        timing: expect.any(Number),
        level: 1,
        result: { code: 42 },
      })
      expect(await (await a.request("/readyz/svc")).text()).toBe("internal server error: boom")
    })
  })

  test("never: only admins see details", async () => {
    ctl.mode = "fail"
    await settle()
    await withSetting("never", async (a) => {
      const token = await a.request("/healthcheck/", { headers: ADMIN })
      expect((await token.json()).components.svc.status_message).toBe("svc down")
      const anon = await (await a.request("/healthcheck/")).json()
      expect(anon.components.svc).toEqual({ healthy: false, response_time: expect.any(Number) })
    })
  })

  test("the native API is in the OpenAPI document", async () => {
    const doc = await (await app.request("/openapi/json")).json()
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/api/v1/health",
        "/api/v1/health/checks/{name}",
        "/api/v1/health/checks/{name}/run",
        "/api/v1/health/transitions",
      ]),
    )
    expect(doc.paths["/api/v1/health"].get.tags).toEqual(["health"])
    expect(doc.paths["/livez"]).toBeUndefined()
  })
})
