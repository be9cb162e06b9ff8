/**
 * The runner: parallel execution (proven with a barrier, not with timings), caches, background
 * intervals, checks registered after start, status aliases, and the readiness life cycle.
 */
import { afterAll, describe, expect, test } from "bun:test"
import { boot } from "../../src/boot"
import { createLogging } from "../../src/log"
import { definePlugin } from "../../src/plugin/contract"
import { createTestApp, testDatabase } from "../../test/support"
import healthPlugin from "./plugin"
import { normalizeResult, parseStatus } from "./runner"
import { until } from "./testing"

describe("parallel checks", () => {
  test("N checks that each wait until all N have started all pass (sequential runs would time out)", async () => {
    const N = 6
    let started = 0
    let open: () => void = () => {}
    const barrier = new Promise<void>((r) => {
      open = r
    })
    const checks = Array.from({ length: N }, (_, i) => ({
      name: `wait-${i}`,
      timeoutMs: 1500,
      async check() {
        started++
        if (started === N) open()
        await barrier
        return { status: "pass" as const, message: `started with ${started} others` }
      },
    }))
    const app = await createTestApp({
      plugins: [healthPlugin, definePlugin({ id: "barrier", title: "Barrier", checks: () => checks })],
    })
    try {
      const r = await app.request(`/c2c/health_check?checks=${checks.map((c) => c.name).join(",")}`)
      const body = await r.json()
      expect(body.failures).toEqual({})
      expect(Object.keys(body.successes).sort()).toEqual(checks.map((c) => c.name).sort())
      expect(r.status).toBe(200)
    } finally {
      await app.close()
    }
  })
})

describe("cache, intervals, late registration", () => {
  let calls = 0
  let background = 0
  const plugin = definePlugin({
    id: "counting",
    title: "Counting",
    checks: () => [
      {
        name: "cached",
        cacheTtlMs: 1000,
        check() {
          calls++
          return { status: "pass", message: `call ${calls}` }
        },
      },
      {
        name: "ticking",
        intervalMs: 20,
        check() {
          background++
          return { status: "pass" }
        },
      },
    ],
    start(ctx) {
      ctx.health.register({
        name: "late",
        check: () => ({ status: "warn", message: "registered after start" }),
      })
    },
  })
  let app: Awaited<ReturnType<typeof createTestApp>>
  afterAll(() => app?.close())

  test("a cached result is reused until its TTL (host clock) runs out", async () => {
    app = await createTestApp({ plugins: [healthPlugin, plugin] })
    await app.request("/c2c/health_check?checks=cached")
    await app.request("/health")
    await app.request("/readyz")
    expect(calls).toBe(1)
    app.clock.advance(1001)
    await app.request("/health")
    expect(calls).toBe(2)
    const forced = await app.request("/api/v1/health/checks/cached/run", {
      method: "POST",
      headers: { authorization: "Bearer x" },
    })
    expect(forced.status).toBe(401)
  })

  test("a check with an interval runs in the background", async () => {
    const before = background
    await until(() => background >= before + 3)
  })

  test("a check registered after start appears in every format", async () => {
    const ietf = await (await app.request("/health")).json()
    expect(ietf.checks["late:responseTime"][0].status).toBe("warn")
    const readyz = await (await app.request("/readyz?verbose")).text()
    expect(readyz).toContain("[+]late ok")
    const c2c = await (await app.request("/c2c/health_check")).json()
    expect(c2c.successes.late).toBeDefined()
  })
})

describe("one request, one run", () => {
  test("a failing /readyz runs each check once (the failure view reuses the results)", async () => {
    let calls = 0
    const failing = definePlugin({
      id: "failing",
      title: "Failing",
      checks: () => [{ name: "down", check: () => ({ status: "fail", message: `call ${++calls}` }) }],
    })
    const app = await createTestApp({ plugins: [healthPlugin, failing] })
    try {
      const r = await app.request("/readyz")
      expect(r.status).toBe(503)
      expect(await r.text()).toContain("[-]down failed: reason withheld\n")
      expect(calls).toBe(1)
      await app.request("/readyz")
      expect(calls).toBe(2)
    } finally {
      await app.close()
    }
  })
})

describe("a hung check", () => {
  /** Check `hung` (timeout 50 ms) whose first run hangs until `release()`; later runs pass at once. */
  async function hungApp() {
    const ctl = { calls: 0, release: () => {} }
    const hang = definePlugin({
      id: "hang",
      title: "Hang",
      checks: () => [
        {
          name: "hung",
          timeoutMs: 50,
          check() {
            ctl.calls++
            if (ctl.calls > 1) return { status: "pass", message: "answered" }
            return new Promise<{ status: "pass" }>((r) => {
              ctl.release = () => r({ status: "pass" })
            })
          },
        },
      ],
    })
    const app = await createTestApp({ plugins: [healthPlugin, hang], env: { LOGBOOK_ADMIN_TOKEN: "adm" } })
    const run = async () =>
      (await (
        await app.request("/api/v1/health/checks/hung/run", { method: "POST", headers: ADMIN })
      ).json()) as { status: string; message: string; durationMs: number }
    return { app, ctl, run }
  }
  const ADMIN = { authorization: "Bearer adm" }

  test("is not called again while its timed-out run is still pending, and recovers when it settles", async () => {
    const { app, ctl, run } = await hungApp()
    try {
      expect(await run()).toMatchObject({ status: "fail", message: "timeout after 50 ms" })
      expect(await run()).toMatchObject({
        status: "fail",
        message: expect.stringMatching(/^timeout after 50 ms, still running for \d+\.\d s$/),
      })
      expect(ctl.calls).toBe(1)
      ctl.release()
      await until(async () => (await run()).status === "pass")
      expect(ctl.calls).toBe(2)
    } finally {
      await app.close()
    }
  })

  test("reports its timeout as its duration while the timed-out run hangs on; the message says for how long", async () => {
    const { app, ctl, run } = await hungApp()
    try {
      const first = await run()
      expect(first).toMatchObject({ status: "fail", message: "timeout after 50 ms" })
      expect(first.durationMs).toBeGreaterThanOrEqual(50)
      await Bun.sleep(250)
      // the run is still hanging, 300 ms after it started: the result answers at once and says so,
      // but its duration (and /health's responseTime) is the bound, not the time spent hanging
      const later = await run()
      expect(later.status).toBe("fail")
      expect(later.durationMs).toBe(50)
      const pending = Number(/still running for (\d+\.\d) s$/.exec(later.message)?.[1])
      expect(pending).toBeGreaterThanOrEqual(0.3)
      expect(pending).toBeLessThan(5)
      const ietf = (await (await app.request("/health", { headers: ADMIN })).json()) as {
        checks: Record<string, Array<{ observedValue: unknown; durationMs: number; output: string }>>
      }
      expect(ietf.checks["hung:responseTime"]?.[0]).toMatchObject({ observedValue: 50, durationMs: 50 })
      expect(ietf.checks["hung:responseTime"]?.[0]?.output).toContain("still running for")
      // the latency sparkline stays at the bound instead of jumping to the time spent hanging
      const page = await (await app.request("/ui/health", { headers: ADMIN })).text()
      const hungRow = page.slice(page.indexOf('id="check-hung"'))
      const max = Number(/aria-label="latency, last \d+ runs, max ([\d.]+) ms/.exec(hungRow)?.[1])
      expect(max).toBeGreaterThanOrEqual(50)
      expect(max).toBeLessThan(250)
    } finally {
      ctl.release()
      await app.close()
    }
  })
})

describe("results", () => {
  test("IETF status words and aliases are accepted in any letter case", () => {
    expect(["pass", "OK", "Up", "warn", "WARN", "fail", "Error", "DOWN"].map(parseStatus)).toEqual([
      "pass",
      "pass",
      "pass",
      "warn",
      "warn",
      "fail",
      "fail",
      "fail",
    ])
    expect(parseStatus("maybe")).toBeUndefined()
  })

  test("panopticon-style and IETF-style returns normalise the same way", () => {
    expect(normalizeResult(undefined)).toEqual({ status: "pass", message: "", extras: {} })
    expect(normalizeResult({ healthy: false, status_message: "queue stalled", queued_jobs: 423 })).toEqual({
      status: "fail",
      message: "queue stalled",
      extras: { queued_jobs: 423 },
    })
    expect(normalizeResult({ healthy: false, status: "queue stalled" })).toMatchObject({
      status: "fail",
      message: "queue stalled",
    })
    expect(normalizeResult({ status: "Down", output: "x", observedValue: 3, observedUnit: "ms" })).toEqual({
      status: "fail",
      message: "x",
      extras: {},
      observedValue: 3,
      observedUnit: "ms",
    })
    expect(normalizeResult({ status: "purple" })).toMatchObject({
      status: "fail",
      message: 'unknown status "purple"',
    })
  })
})

describe("readiness life cycle", () => {
  test("not ready while starting and while shutting down; live throughout", async () => {
    const { db, drop } = await testDatabase()
    let releaseStop: () => void = () => {}
    const stopping = new Promise<void>((r) => {
      releaseStop = r
    })
    let stopEntered = false
    // "aaa" stops after "health" (reverse order): while it blocks, health has already begun shutting down
    const slowStop = definePlugin({
      id: "aaa",
      title: "Slow to stop",
      async stop() {
        stopEntered = true
        await stopping
      },
    })
    const logging = createLogging({ rootLevel: "info", format: "json", write: () => {} })
    const booted = await boot({
      env: { LOGBOOK_DATA_DIR: "/tmp" },
      plugins: [healthPlugin, slowStop],
      db,
      logging,
    })
    const req = (p: string) => booted.app.fetch(new Request(`http://127.0.0.1${p}`))
    try {
      const starting = await req("/readyz?verbose&exclude=database&exclude=disk")
      expect(starting.status).toBe(503)
      expect(await starting.text()).toContain("[-]started failed: reason withheld\n")
      expect((await req("/startupz")).status).toBe(503)
      expect((await req("/livez")).status).toBe(200)
      expect((await (await req("/actuator/health/readiness")).json()).status).toBe("OUT_OF_SERVICE")

      await booted.host.start()
      expect((await req("/readyz?exclude=database&exclude=disk")).status).toBe(200)
      expect(await (await req("/startupz")).text()).toBe("ok")

      const stopped = booted.host.stop()
      await until(() => stopEntered)
      const shutting = await req("/readyz?verbose&exclude=database&exclude=disk&exclude=plugins")
      expect(shutting.status).toBe(503)
      expect(await shutting.text()).toContain("[-]shutdown failed: reason withheld\n")
      expect((await req("/livez")).status).toBe(200)
      releaseStop()
      await stopped
    } finally {
      releaseStop()
      await drop()
    }
  })
})

describe("metrics", () => {
  test("every run (not every cached answer) counts as health_check with name and outcome, and is timed", async () => {
    const seen: Array<{ name: string; tags?: Record<string, string | number> }> = []
    const timed: Array<{ name: string; ms: number; tags?: Record<string, string | number> }> = []
    const sink = definePlugin({
      id: "sink",
      title: "Sink",
      setup(ctx) {
        ctx.metrics.addSink({
          increment: (name, _v, tags) => void seen.push({ name, tags }),
          gauge() {},
          timer: (name, ms, tags) => void timed.push({ name, ms, tags }),
        })
      },
      checks: () => [
        {
          name: "once",
          cacheTtlMs: 60_000,
          check: async () => {
            await Bun.sleep(5)
            return { status: "fail", message: "no" }
          },
        },
      ],
    })
    const app = await createTestApp({ plugins: [healthPlugin, sink] })
    try {
      await app.request("/c2c/health_check?checks=once")
      await app.request("/c2c/health_check?checks=once")
      expect(seen.filter((s) => s.name === "health_check" && s.tags?.name === "once")).toEqual([
        { name: "health_check", tags: { name: "once", outcome: "failure" } },
      ])
      const durations = timed.filter((t) => t.name === "health_check.duration" && t.tags?.name === "once")
      expect(durations).toHaveLength(1)
      expect(durations[0]?.ms).toBeGreaterThanOrEqual(4)
    } finally {
      await app.close()
    }
  })
})

describe("groups", () => {
  test("only `live` checks decide /livez, `startup` checks /startupz, custom groups are Spring groups", async () => {
    const grouped = definePlugin({
      id: "grouped",
      title: "Grouped",
      checks: () => [
        { name: "event-loop", groups: ["live"], check: () => ({ status: "fail", message: "stalled" }) },
        { name: "warmup", groups: ["startup"], check: () => ({ status: "pass" }) },
        { name: "nightly", groups: ["batch"], check: () => ({ status: "pass" }) },
      ],
    })
    const app = await createTestApp({ plugins: [healthPlugin, grouped] })
    try {
      const live = await app.request("/livez")
      expect(live.status).toBe(503)
      expect(await live.text()).toBe(
        "[+]ping ok\n[-]event-loop failed: reason withheld\nlivez check failed\n",
      )
      expect((await app.request("/livez/event-loop")).status).toBe(503)
      expect((await app.request("/livez/database")).status).toBe(404)
      expect(await (await app.request("/startupz?verbose")).text()).toBe(
        "[+]ping ok\n[+]warmup ok\n[+]started ok\nstartupz check passed\n",
      )
      expect(await (await app.request("/readyz?verbose")).text()).not.toContain("event-loop")
      expect((await (await app.request("/actuator/health/liveness")).json()).status).toBe("DOWN")
      expect((await (await app.request("/actuator/health/batch")).json()).status).toBe("UP")
    } finally {
      await app.close()
    }
  })
})

describe("who may look", () => {
  test("the health page needs the read role; the probe endpoints stay public", async () => {
    const app = await createTestApp({ plugins: [healthPlugin], env: { LOGBOOK_ANONYMOUS: "" } })
    try {
      const page = await app.request("/ui/health")
      expect(page.status).toBe(303)
      expect(page.headers.get("location")).toStartWith("/ui/signin")
      expect([401, 303]).toContain((await app.request("/ui/health/widget")).status)
      expect((await app.request("/api/v1/health")).status).toBe(401)
      expect((await app.request("/livez")).status).toBe(200)
      const ietf = await app.request("/health")
      expect(ietf.headers.get("content-type")).toBe("application/health+json")
      expect(["pass", "warn", "fail"]).toContain((await ietf.json()).status)
    } finally {
      await app.close()
    }
  })
})
