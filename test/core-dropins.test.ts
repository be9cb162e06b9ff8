/**
 * The README's complete drop-in example, loaded from a plugins directory like any drop-in: its table,
 * API route (ingest, in OpenAPI), page, widget and check all work.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { copyFileSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createTestApp, type TestApp } from "./support"

let dir: string
let app: TestApp
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "logbook-example-"))
  copyFileSync(join(import.meta.dir, "core-example-dropin.ts"), join(dir, "deploys.ts"))
  app = await createTestApp({ dropIns: true, env: { LOGBOOK_PLUGINS_DIR: dir } })
}, 30_000)
afterAll(async () => {
  await app.close()
  rmSync(dir, { recursive: true, force: true })
}, 30_000)

test("the README drop-in example works as written", async () => {
  expect(app.host.infos.find((p) => p.id === "deploys")).toMatchObject({
    status: "started",
    source: "drop-in:deploys.ts",
  })
  for (let i = 0; i < 2; i++)
    expect((await app.request("/api/v1/deploys/web", { method: "POST" })).status).toBe(200)
  expect((await app.request("/api/v1/deploys/Bad Name", { method: "POST" })).status).toBe(422)
  const page = await (await app.request("/ui/deploys")).text()
  expect(page).toContain("<tr><td>web</td><td>2</td></tr>")
  expect(page).toContain('href="/ui/deploys"')
  expect(await (await app.request("/ui/deploys/widget")).text()).toContain(
    "<strong>2</strong> deploys counted",
  )
  expect(await (await app.request("/")).text()).toContain(
    'hx-get="/ui/deploys/widget" hx-trigger="load, every 60s"',
  )
  const check = app.host.health.list().find((c) => c.name === "deploys-table")
  expect(await check?.check()).toEqual({ healthy: true, observedValue: 1, observedUnit: "services" })
  const doc = (await (await app.request("/openapi/json")).json()) as {
    paths: Record<string, { post?: { tags?: string[] } }>
  }
  expect(doc.paths["/api/v1/deploys/{service}"]?.post?.tags).toEqual(["deploys"])
})
