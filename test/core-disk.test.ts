/**
 * The core's `disk` check (SQLite): `/health` reports the data directory's filesystem as
 * `disk:utilization`, the percentage USED (an alert on "utilization > 90" must fire on a full disk), with
 * the free percentage in the message.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { mkdtempSync, statfsSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import healthPlugin from "../plugins/health/plugin"
import { openSqlite } from "../src/db/database"
import { diskOutcome } from "../src/plugin/disk-check"
import { createTestApp, type TestApp } from "./support"

const dataDir = mkdtempSync(join(tmpdir(), "lb-disk-"))
let app: TestApp

beforeAll(async () => {
  // the check exists on SQLite only (the database file is in the data directory), whatever the test dialect
  app = await createTestApp({
    db: openSqlite(":memory:"),
    plugins: [healthPlugin],
    env: { LOGBOOK_ADMIN_TOKEN: "adm-token", LOGBOOK_DATA_DIR: dataDir },
  })
})
afterAll(() => app.close())

test("/health: disk:utilization is the percentage used; the message gives the free percentage", async () => {
  const r = await app.request("/health", { headers: { authorization: "Bearer adm-token" } })
  const body = (await r.json()) as { checks: Record<string, Array<Record<string, unknown>>> }
  expect(body.checks["disk:utilization"]).toBeDefined()
  const [disk] = body.checks["disk:utilization"]
  expect(disk.observedUnit).toBe("percent")
  const s = statfsSync(dataDir)
  const used = 100 - (s.bavail / s.blocks) * 100
  const observed = disk.observedValue as number
  expect(Math.abs(observed - used)).toBeLessThan(1) // other writers may use the disk meanwhile
  // shown to an admin only for non-pass results; the native API shows it always
  const api = await app.request("/api/v1/health/checks/disk", {
    headers: { authorization: "Bearer adm-token" },
  })
  const text = JSON.stringify(await api.json())
  const free = Number(/([\d.]+)% free in /.exec(text)?.[1])
  expect(text).toContain(`${observed}% used, `)
  expect(observed + free).toBeCloseTo(100, 0)
})

test("a nearly full disk: utilization 97 (fail), 92 (warn), 50 (pass); free in the message", () => {
  expect(diskOutcome({ bavail: 3, blocks: 100 }, "/data")).toEqual({
    status: "fail",
    message: "97% used, 3% free in /data",
    observedValue: 97,
    observedUnit: "percent",
  })
  expect(diskOutcome({ bavail: 8, blocks: 100 }, "/data")).toMatchObject({
    status: "warn",
    observedValue: 92,
  })
  expect(diskOutcome({ bavail: 1, blocks: 2 }, "/data")).toMatchObject({ status: "pass", observedValue: 50 })
  expect(diskOutcome({ bavail: 0, blocks: 0 }, "/data")).toMatchObject({ status: "fail", observedValue: 100 })
})
