/**
 * With the real changes plugin: create, revoke and expiry of a level land on the change timeline (stored,
 * readable through `between`) with source "levels", category "log-level", actor, before/after and reason.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { createTestApp, type TestApp } from "../../test/support"
import changes from "../changes/plugin"
import levels from "./plugin"
import { adminHeaders, testEnv } from "./testing"

let app: TestApp
beforeAll(async () => {
  app = await createTestApp({ plugins: [changes, levels], env: testEnv })
})
afterAll(() => app?.close())

test("create, revoke and expire are on the change timeline", async () => {
  const t0 = app.clock.now()
  const post = (json: unknown) =>
    app.request("/api/v1/levels/overrides", { method: "POST", headers: adminHeaders, json })
  const a = (await (await post({ logger: "app.db", level: "ERROR", reason: "r1" })).json()) as { id: number }
  const b = (await (await post({ logger: "app.http", level: "TRACE", duration: "PT1H" })).json()) as {
    id: number
  }
  await app.request(`/api/v1/levels/overrides/${b.id}`, { method: "DELETE", headers: adminHeaders })
  app.clock.advance(30 * 60_000)
  await app.host.services.get("levels")?.applier.recompute()

  const events = await app.host.services.get("changes")!.between(t0, app.clock.now())
  const mine = events.filter((e) => e.source === "levels")
  expect(mine.map((e) => [e.category, e.tags.action, e.author])).toEqual([
    ["log-level", "expire", "logbook"],
    ["log-level", "revoke", "admin-token"],
    ["log-level", "create", "admin-token"],
    ["log-level", "create", "admin-token"],
  ])
  expect(mine[0].description).toBe(`app.db: ERROR → DEBUG, override #${a.id} (ERROR by admin-token) expired`)
  expect(mine[0].timestamp).toBe(t0 + 30 * 60_000)
  expect(mine[3]).toMatchObject({
    description: "app.db: DEBUG → ERROR for 30m by admin-token: r1",
    tags: { before: "DEBUG", after: "ERROR", reason: "r1", logger: "app.db" },
  })
})
