import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { createTestApp, type TestApp } from "../../test/support"
import levels from "./plugin"
import { adminHeaders, testEnv, timelineRecorder } from "./testing"

const MIN = 60_000
let app: TestApp
const timeline = timelineRecorder()

beforeAll(async () => {
  app = await createTestApp({ plugins: [timeline.plugin, levels], env: testEnv })
})
afterAll(() => app?.close())

const post = (json: unknown) =>
  app.request("/api/v1/levels/overrides", { method: "POST", json, headers: adminHeaders })
const count = async (table: string) =>
  Number((await app.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`))?.n)
const rt = () => app.host.services.get("levels")!

describe("overrides on Logbook's own loggers", () => {
  test("invalid levels and windows are refused with nothing stored", async () => {
    const bad: Array<[unknown, RegExp]> = [
      [
        { logger: "app.db", level: "verbose" },
        /TRACE, DEBUG, INFO, WARN, WARNING, ERROR, FATAL, CRITICAL, OFF/,
      ],
      [{ logger: "app.db", level: "NOTSET" }, /inherit/],
      [{ logger: "app..db", level: "DEBUG" }, /dotted name/],
      [{ logger: "app.db", level: "DEBUG", duration: "PT0M" }, /duration/],
      [{ logger: "app.db", level: "DEBUG", duration: "soon" }, /duration/],
      [
        { logger: "app.db", level: "DEBUG", expires_at: app.clock.now() - 1000 },
        /already over|after starts_at/,
      ],
      [
        {
          logger: "app.db",
          level: "DEBUG",
          starts_at: app.clock.now() + 10 * MIN,
          expires_at: app.clock.now() + 5 * MIN,
        },
        /empty/,
      ],
      [{ logger: "app.db", level: "DEBUG", duration: 60, permanent: true }, /at most one/],
      [{ logger: "app.db", level: "DEBUG", scope: "two words" }, /scope/],
    ]
    for (const [body, message] of bad) {
      const r = await post(body)
      expect(r.status).toBe(400)
      expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(message)
    }
    expect(await count("levels_overrides")).toBe(0)
    expect(await count("levels_history")).toBe(0)
    expect(timeline.events.length).toBe(0)
    expect(
      (
        await app.request("/api/v1/levels/overrides", {
          method: "POST",
          json: { logger: "a", level: "DEBUG" },
        })
      ).status,
    ).toBe(401)
  })

  test("instances: this one has applied the current version", async () => {
    const r = (await (await app.request("/api/v1/levels/instances")).json()) as {
      applied: number
      total: number
      version: number
      instances: Array<{ instance_id: string; applied_version: number }>
    }
    expect(r.total).toBe(1)
    expect(r.applied).toBe(1)
    expect(r.instances[0]).toMatchObject({ instance_id: app.host.instanceId, applied_version: r.version })
  })
  test("set → applied at once, on the timeline and in the history; expiry reverts on time, announced once", async () => {
    const r = await post({ logger: "app.db", level: "error", reason: "noisy" })
    expect(r.status).toBe(201)
    const o = (await r.json()) as { id: number; expires_at: number; state: string }
    expect(o.expires_at).toBe(app.clock.now() + 30 * MIN)
    expect(o.state).toBe("active")
    expect(app.host.logging.levels.effective("app.db")).toBe("error")
    expect(app.host.logging.levels.effective("app.db.pool")).toBe("error")
    expect(app.host.logging.levels.effective("app")).toBe("debug")
    const created = timeline.events.at(-1)!
    expect(created).toMatchObject({
      category: "log-level",
      source: "levels",
      author: "admin-token",
      description: "app.db: DEBUG → ERROR for 30m by admin-token: noisy",
    })
    expect(created.tags).toMatchObject({ before: "DEBUG", after: "ERROR", action: "create", reason: "noisy" })

    const tree = (await (await app.request("/api/v1/levels/loggers")).json()) as {
      loggers: Array<{ name: string; effective: string; source: string; winner?: { until: number } }>
    }
    expect(tree.loggers.find((l) => l.name === "app.db")).toMatchObject({
      effective: "error",
      source: "override",
    })
    expect(tree.loggers.find((l) => l.name === "app")).toMatchObject({
      effective: "debug",
      source: "inherited",
    })
    expect(tree.loggers.find((l) => l.name === "root")).toMatchObject({
      effective: "debug",
      source: "config",
    })

    // one ms before the end: still on; at the end: reverted, by recomputation from the rows
    app.clock.advance(30 * MIN - 1)
    await rt().applier.recompute()
    expect(app.host.logging.levels.effective("app.db")).toBe("error")
    app.clock.advance(1)
    await rt().applier.recompute()
    expect(app.host.logging.levels.effective("app.db")).toBe("debug")
    await rt().applier.reload()
    await rt().applier.recompute()
    const expiries = timeline.events.filter((e) => e.tags?.action === "expire")
    expect(expiries.length).toBe(1)
    expect(expiries[0].description).toBe(
      `app.db: ERROR → DEBUG, override #${o.id} (ERROR by admin-token) expired`,
    )
    expect(expiries[0].timestamp).toBe(app.clock.now())
    const h = (await (await app.request("/api/v1/levels/history")).json()) as {
      history: Array<{ action: string }>
    }
    expect(h.history.map((x) => x.action)).toEqual(["expire", "create"])
  })

  test("revoke reverts at once and is recorded with before/after", async () => {
    const o = (await (await post({ logger: "app.http", level: "TRACE", duration: "PT1H" })).json()) as {
      id: number
    }
    expect(app.host.logging.levels.effective("app.http")).toBe("trace")
    const r = await app.request(`/api/v1/levels/overrides/${o.id}?reason=done`, {
      method: "DELETE",
      headers: adminHeaders,
    })
    expect(r.status).toBe(200)
    expect(((await r.json()) as { state: string }).state).toBe("revoked")
    expect(app.host.logging.levels.effective("app.http")).toBe("debug")
    expect(timeline.events.at(-1)).toMatchObject({
      description: `app.http: TRACE → DEBUG, override #${o.id} (TRACE) revoked by admin-token: done`,
      tags: { action: "revoke", before: "TRACE", after: "DEBUG" },
    })
    expect(
      (await app.request(`/api/v1/levels/overrides/${o.id}`, { method: "DELETE", headers: adminHeaders }))
        .status,
    ).toBe(409)
  })

  test("a scheduled override starts at its start; instance scope beats a newer all-instances one", async () => {
    const start = app.clock.now() + 10 * MIN
    await post({ logger: "sched", level: "warning", starts_at: start, duration: 600 })
    expect(app.host.logging.levels.effective("sched")).toBe("debug")
    await post({
      logger: "sched",
      level: "critical",
      scope: app.host.instanceId,
      starts_at: start - MIN,
      duration: 3600,
    })
    app.clock.set(start)
    await rt().applier.recompute()
    expect(app.host.logging.levels.effective("sched")).toBe("critical")
    await post({ logger: "sched", level: "off", scope: "other-instance" })
    expect(app.host.logging.levels.effective("sched")).toBe("critical")
  })

  test("profiles and triggers overlay; a daily trigger switches at its boundaries", async () => {
    const put = await app.request("/api/v1/levels/profiles/nightly", {
      method: "PUT",
      headers: adminHeaders,
      json: { levels: { importer: "debug", "importer.http": "WARN" }, description: "nightly import" },
    })
    expect(put.status).toBe(200)
    const badProfile = await app.request("/api/v1/levels/profiles/bad", {
      method: "PUT",
      headers: adminHeaders,
      json: { levels: { importer: "loud" } },
    })
    expect(badProfile.status).toBe(400)
    const now = new Date(app.clock.now())
    const hh = (d: Date) =>
      `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`
    const from = new Date(Math.ceil(app.clock.now() / 3_600_000) * 3_600_000) // next full hour
    const to = new Date(from.getTime() + 2 * 3_600_000)
    const badTrigger = await app.request("/api/v1/levels/triggers", {
      method: "POST",
      headers: adminHeaders,
      json: {
        profile: "nightly",
        recurrence: { every: "daily", from: "22:00", to: "06:00", tz: "Mars/Olympus" },
      },
    })
    expect(badTrigger.status).toBe(400)
    const tr = await app.request("/api/v1/levels/triggers", {
      method: "POST",
      headers: adminHeaders,
      json: { profile: "nightly", recurrence: { every: "daily", from: hh(from), to: hh(to), tz: "UTC" } },
    })
    expect(tr.status).toBe(201)
    expect(now.getTime()).toBeLessThan(from.getTime())
    expect(app.host.logging.levels.effective("importer")).toBe("debug") // inherited from root (debug) so far
    expect(app.host.logging.levels.configured("importer")).toBeNull()
    app.clock.set(from.getTime())
    await rt().applier.recompute()
    expect(app.host.logging.levels.configured("importer")).toBe("debug")
    expect(app.host.logging.levels.effective("importer.http")).toBe("warning")
    const tree = (await (await app.request("/api/v1/levels/loggers")).json()) as {
      loggers: Array<{ name: string; source: string }>
    }
    expect(tree.loggers.find((l) => l.name === "importer.http")?.source).toBe("profile")
    app.clock.set(to.getTime())
    await rt().applier.recompute()
    expect(app.host.logging.levels.configured("importer")).toBeNull()
    expect(app.host.logging.levels.effective("importer.http")).toBe("debug")

    // back inside the next day's window, then deactivated, then deleted with its profile
    app.clock.set(from.getTime() + 86_400_000)
    await rt().applier.recompute()
    expect(app.host.logging.levels.configured("importer")).toBe("debug")
    const { id } = (await tr.json()) as { id: number }
    const off = await app.request(`/api/v1/levels/triggers/${id}`, {
      method: "PATCH",
      headers: adminHeaders,
      json: { active: false },
    })
    expect(((await off.json()) as { active: boolean }).active).toBe(false)
    expect(app.host.logging.levels.configured("importer")).toBeNull()
    expect(
      (await app.request(`/api/v1/levels/triggers/${id}`, { method: "DELETE", headers: adminHeaders }))
        .status,
    ).toBe(200)
    expect(
      (await app.request("/api/v1/levels/profiles/nightly", { method: "DELETE", headers: adminHeaders }))
        .status,
    ).toBe(200)
    const actions = (
      (await (await app.request("/api/v1/levels/history")).json()) as { history: Array<{ action: string }> }
    ).history
    expect(actions.slice(0, 4).map((h) => h.action)).toEqual([
      "profile.delete",
      "trigger.delete",
      "trigger.end",
      "trigger.deactivate",
    ])
    // each window start and end went on the timeline once, dated at the boundary (the last one ended early)
    const windows = timeline.events.filter(
      (e) => e.tags?.action === "trigger.start" || e.tags?.action === "trigger.end",
    )
    expect(windows.map((e) => [e.tags?.action, e.timestamp])).toEqual([
      ["trigger.start", from.getTime()],
      ["trigger.end", to.getTime()],
      ["trigger.start", from.getTime() + 86_400_000],
      ["trigger.end", from.getTime() + 86_400_000],
    ])
    expect(windows[0].description).toBe(
      `profile nightly (overlay) now applies to Logbook: importer=DEBUG, importer.http=WARNING (trigger #${id})`,
    )
  })
})
