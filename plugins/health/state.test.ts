/**
 * Transitions: stored once per change (with thresholds against flapping), put once on the change
 * timeline, state restored per instance, webhook on down/restored with a de-duplication window.
 */
import { afterAll, describe, expect, test } from "bun:test"
import type { ChangeInput } from "../../src/plugin/contract"
import { createTestApp, type TestApp } from "../../test/support"
import healthPlugin from "./plugin"
import { settle, switchable, switchablePlugin, timelinePlugin, until } from "./testing"

const ADMIN = { authorization: "Bearer adm" }

async function runSvc(app: TestApp) {
  const r = await app.request("/api/v1/health/checks/svc/run", { method: "POST", headers: ADMIN })
  expect(r.status).toBe(200)
  return (await r.json()) as { status: string }
}

const transitionsOf = async (app: TestApp) => {
  const r = await app.request("/api/v1/health/transitions?check=svc", { headers: ADMIN })
  return ((await r.json()) as { transitions: Array<{ from: string | null; to: string; message: string }> })
    .transitions
}

// explicit timeouts: Bun's default is 5 s for every test and hook (bunfig.toml cannot change it), and each
// test builds an app — on PostgreSQL, seconds on a loaded machine, before the checks even run
describe("transitions with thresholds", () => {
  const ctl = switchable()
  const events: Array<ChangeInput & { source: string }> = []
  const hooks: unknown[] = []
  const receiver = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      hooks.push(await req.json())
      return new Response("ok")
    },
  })
  let app: TestApp
  afterAll(async () => {
    await app?.close()
    receiver.stop(true)
  }, 30_000)

  test("each change is recorded once, after the threshold, and reaches the timeline once (without its message)", async () => {
    app = await createTestApp({
      plugins: [healthPlugin, switchablePlugin(ctl), timelinePlugin(events)],
      env: {
        LOGBOOK_ADMIN_TOKEN: "adm",
        LOGBOOK_HEALTH_FAILURE_THRESHOLD: "2",
        LOGBOOK_HEALTH_SUCCESS_THRESHOLD: "3",
        LOGBOOK_HEALTH_WEBHOOK_URL: `http://127.0.0.1:${receiver.port}/hook`,
        LOGBOOK_HEALTH_WEBHOOK_DEDUPE_SECONDS: "600",
      },
    })
    await runSvc(app) // first result: unknown → pass (history only, not news)
    ctl.mode = "timeout"
    await runSvc(app) // 1 of 2 failures: no transition yet
    expect((await transitionsOf(app)).map((t) => t.to)).toEqual(["pass"])
    app.clock.advance(1000)
    await runSvc(app) // 2 of 2: pass → fail
    await runSvc(app) // still failing: nothing new
    await until(async () => (await transitionsOf(app)).length === 2)
    ctl.mode = "pass"
    await settle()
    await runSvc(app)
    await runSvc(app) // 2 of 3 successes
    ctl.mode = "timeout"
    await runSvc(app) // the streak breaks
    ctl.mode = "pass"
    await settle()
    for (let i = 0; i < 3; i++) await runSvc(app) // 3 of 3: fail → pass
    await until(async () => (await transitionsOf(app)).length === 3)
    const rows = await transitionsOf(app)
    expect(rows.map((t) => [t.from, t.to, t.message])).toEqual([
      ["fail", "pass", "svc ok"],
      // confirmed by the second result, while the timed-out run still hangs
      ["pass", "fail", expect.stringMatching(/^timeout after 100 ms, still running for \d+\.\d s$/)],
      [null, "pass", "svc ok"],
    ])
    await until(() => events.length === 2)
    // LOGBOOK_HEALTH_SHOW_DETAILS is "authenticated" (the default): the messages stay in the stored
    // transitions above, the timeline (readable by anyone with `read`) says the state change only
    expect(events).toEqual([
      expect.objectContaining({
        category: "health",
        description: "svc: pass → fail",
        criticality: 4,
        source: "health",
      }),
      expect.objectContaining({
        category: "health",
        description: "svc: fail → pass",
        criticality: 2,
      }),
    ])
    // visible through the change timeline the host hands to every plugin
    const seen = await app.host.mounted[0].ctx.changes.between(0, app.clock.now())
    expect(seen.map((e) => e.description)).toContain("svc: pass → fail")

    await until(() => hooks.length === 2)
    expect(hooks).toEqual([
      expect.objectContaining({ event: "down", check: "svc", status: "fail", previous: "pass" }),
      expect.objectContaining({ event: "restored", check: "svc", status: "pass", previous: "fail" }),
    ])
  }, 30_000)

  test("a second down/restored within the de-duplication window sends no webhook, but is recorded", async () => {
    ctl.mode = "fail"
    await settle()
    await runSvc(app)
    await runSvc(app)
    ctl.mode = "pass"
    await settle()
    for (let i = 0; i < 3; i++) await runSvc(app)
    await until(async () => (await transitionsOf(app)).length === 5)
    await until(() => events.length === 4)
    // stopping the plugin drains its queue (store → timeline → webhook): every hook has been decided
    const health = app.host.mounted.find((m) => m.plugin.id === "health")
    await health?.plugin.stop?.(health.ctx)
    expect(hooks.length).toBe(2)
  }, 30_000)
})

describe("state per instance", () => {
  test("a restarted instance keeps its last status: no repeated first transition", async () => {
    const ctl = switchable("fail")
    const events: Array<ChangeInput & { source: string }> = []
    const app = await createTestApp({
      plugins: [healthPlugin, switchablePlugin(ctl), timelinePlugin(events)],
      env: { LOGBOOK_ADMIN_TOKEN: "adm", LOGBOOK_INSTANCE_ID: "node-a" },
    })
    try {
      await runSvc(app)
      await until(() => events.length === 1)
      expect(events[0].description).toBe("svc: unknown → fail")
      expect(events[0].tags).toMatchObject({ instance: "node-a", check: "svc" })
      // a new state tracker on the same database and instance id picks up "fail" from the table
      const health = app.host.mounted.find((m) => m.plugin.id === "health")
      await health?.plugin.stop?.(health.ctx)
      const { createStateTracker } = await import("./state")
      const tracker = createStateTracker({
        ctx: health?.ctx as never,
        failureThreshold: 1,
        successThreshold: 1,
        webhookUrl: "",
        webhookDedupeMs: 0,
        timelineMessages: false,
      })
      await tracker.load()
      expect(tracker.get("svc")?.status).toBe("fail")
      expect(tracker.recent("svc")).toEqual([
        { check: "svc", from: null, to: "fail", message: "svc down", at: app.clock.now() },
      ])
    } finally {
      await app.close()
    }
  }, 30_000)
})

describe("with the real changes plugin", () => {
  // the change timeline is readable by the anonymous `read` role (the default): check messages reach it
  // only when LOGBOOK_HEALTH_SHOW_DETAILS shows details to everyone
  for (const show of ["authenticated", "never", "always"] as const) {
    const message = show === "always"
    test(`a transition is on the change timeline once, with its criticality and tags (details ${show})`, async () => {
      const { default: changesPlugin } = await import("../changes/plugin")
      const ctl = switchable("pass")
      const app = await createTestApp({
        plugins: [healthPlugin, switchablePlugin(ctl), changesPlugin],
        env: { LOGBOOK_ADMIN_TOKEN: "adm", LOGBOOK_INSTANCE_ID: "node-b", LOGBOOK_HEALTH_SHOW_DETAILS: show },
      })
      try {
        await runSvc(app)
        ctl.mode = "fail"
        await settle()
        await runSvc(app)
        await runSvc(app)
        // stopping the health plugin drains its queue: everything it will ever record is recorded
        const health = app.host.mounted.find((m) => m.plugin.id === "health")
        await health?.plugin.stop?.(health.ctx)
        const all = await app.host.mounted[0].ctx.changes.between(0, app.clock.now() + 1)
        expect(all.filter((e) => e.category === "health")).toEqual([
          expect.objectContaining({
            category: "health",
            description: message ? "svc: pass → fail: svc down" : "svc: pass → fail",
            criticality: 4,
            source: "health",
            tags: { check: "svc", instance: "node-b", from: "pass", to: "fail" },
          }),
        ])
        // what an anonymous reader gets from the timeline
        const anonymous = await app.request("/api/v1/changes?category=health")
        expect(anonymous.status).toBe(200)
        expect((await anonymous.text()).includes("svc down")).toBe(message)
        // the message is kept with the stored transition, for those who may see details
        const stored = await app.request("/api/v1/health/transitions?check=svc", { headers: ADMIN })
        expect(await stored.json()).toMatchObject({
          transitions: [
            { from: "pass", to: "fail", message: "svc down" },
            { from: null, to: "pass" },
          ],
        })
        const stranger = await app.request("/api/v1/health/transitions?check=svc")
        expect((await stranger.text()).includes("svc down")).toBe(message)
      } finally {
        await app.close()
      }
    }, 30_000)
  }
})
