/**
 * The README's complete drop-in example, loaded from a plugins directory like any drop-in: its table,
 * API route (ingest, in OpenAPI), page, widget and check all work.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
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

test("a drop-in with a syntax error is reported with its message, line and column (log, plugins page)", async () => {
  const broken = mkdtempSync(join(tmpdir(), "logbook-broken-"))
  writeFileSync(join(broken, "broken.ts"), "// a drop-in being edited\nexport default {{{ broken\n")
  writeFileSync(join(broken, "one.ts"), "export default 1 +\n")
  const ADMIN = "admin-token-for-broken-dropins"
  const b = await createTestApp({
    dropIns: true,
    env: { LOGBOOK_PLUGINS_DIR: broken, LOGBOOK_ADMIN_TOKEN: ADMIN },
  })
  try {
    const error = b.host.infos.find((p) => p.id === "broken.ts")?.error ?? ""
    expect(error.split("\n")[0]).toBe('broken.ts:2:17: Expected identifier but found "{" (and 2 more)')
    expect(error).toContain(`${join(broken, "broken.ts")}:2:20: Expected ":" but found "broken"`)
    expect(error).toContain(`${join(broken, "broken.ts")}:2:26: Unexpected end of file`)
    expect(error).toContain("| export default {{{ broken")
    expect(error).not.toContain("AggregateError")
    // one build error alone is a BuildMessage, not an AggregateError: located the same way
    const one = b.host.infos.find((p) => p.id === "one.ts")?.error ?? ""
    expect(one.split("\n")[0]).toBe("one.ts:1:19: Unexpected end of file")
    const logged = b.logs.find((l) => l.msg === "plugin failed" && l.fields?.plugin === "broken.ts")
    expect(String(logged?.fields?.error)).toContain("broken.ts:2:17: Expected identifier but found")
    // the first line for everyone, every problem (with its path) for admins
    const anonymous = await (await b.request("/ui/plugins")).text()
    expect(anonymous).toContain("broken.ts:2:17: Expected identifier but found &quot;{&quot; (and 2 more)")
    expect(anonymous).not.toContain(broken)
    const admin = await (
      await b.request("/ui/plugins", { headers: { authorization: `Bearer ${ADMIN}` } })
    ).text()
    expect(admin).toContain(`${join(broken, "broken.ts")}:2:26: Unexpected end of file`)
  } finally {
    await b.close()
    rmSync(broken, { recursive: true, force: true })
  }
}, 30_000)
