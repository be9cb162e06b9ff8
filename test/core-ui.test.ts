/**
 * The UI shell from the server side: navigation and home widgets assembled from plugins (each widget with
 * its own htmx trigger), escaping, and the plugins page with built-in, drop-in, failed and strict cases.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { samplePlugin } from "./core-sample-plugin"
import { runLogbook, spawnEnv } from "./core-spawn"
import { createTestApp, type TestApp } from "./support"

const GOOD = `import { definePlugin, defineHealthCheck, Elysia, t, html } from "logbook"
export default definePlugin({
  id: "hello",
  title: "Hello drop-in",
  nav: [{ title: "Hello", href: "/ui/hello" }],
  checks: () => [defineHealthCheck({ name: "hello-ok", check: () => ({ healthy: true }) })],
  routes: (ctx) =>
    new Elysia()
      .get("/api/v1/hello", () => ({ hello: ctx.pluginId }), {
        response: { 200: t.Object({ hello: t.String() }) },
        detail: { summary: "Say hello", tags: ["hello"] },
      })
      .get("/ui/hello", ({ request }) => ctx.ui.page(request, { title: "Hello", body: html\`<p>\${"<hi>"}</p>\` }), {
        detail: { hide: true },
      }),
})
`
const CHECK_ONLY = `import { defineHealthCheck } from "logbook"
export const redis = defineHealthCheck({ name: "redis", timeoutMs: 1000, async check() { return { healthy: true, queued_jobs: 3 } } })
`
const BROKEN = `throw new Error("this drop-in fails on purpose")\n`

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "logbook-dropins-"))
  writeFileSync(join(dir, "hello.ts"), GOOD)
  writeFileSync(join(dir, "redis.ts"), CHECK_ONLY)
  writeFileSync(join(dir, "broken.ts"), BROKEN)
  writeFileSync(join(dir, "notes.txt"), "not a plugin")
})
afterAll(() => rmSync(dir, { recursive: true, force: true }), 30_000)

describe("home and navigation", () => {
  let app: TestApp
  beforeAll(async () => {
    app = await createTestApp({ plugins: [samplePlugin] })
  }, 30_000)
  afterAll(() => app.close(), 30_000)

  test("navigation comes from the plugins", async () => {
    const page = await (await app.request("/ui/sample")).text()
    expect(page).toContain('<a href="/ui/sample" class="active" aria-current="page">Sample</a>')
  })

  test("the home page assembles every widget, each with its own trigger", async () => {
    const page = await (await app.request("/")).text()
    expect(page).toContain('<div hx-get="/ui/sample/widget?w=a" hx-trigger="load, every 7s"')
    expect(page).toContain('<div hx-get="/ui/sample/widget?w=b" hx-trigger="load, every 30s"')
    // the widget title is plugin data: escaped like everything else
    expect(page).toContain("<h2>Sample B &lt;b&gt;</h2>")
    // nothing from other hosts
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//)
  })

  test("htmx partial requests get the fragment without the layout", async () => {
    const res = await app.request("/ui/sample", {
      headers: { "hx-request": "true", "hx-request-type": "partial" },
    })
    const text = await res.text()
    expect(text).toBe('<p id="sample">sample page</p>')
    expect(res.headers.get("vary")).toContain("HX-Request")
  })

  test("unknown pages get an HTML 404 inside the layout", async () => {
    const res = await app.request("/ui/nothing-here")
    expect(res.status).toBe(404)
    expect(res.headers.get("content-type")).toContain("text/html")
    expect(await res.text()).toContain("There is no page here.")
  })
})

describe("plugins page", () => {
  let app: TestApp
  beforeAll(async () => {
    app = await createTestApp({
      plugins: [samplePlugin],
      dropIns: true,
      env: { LOGBOOK_PLUGINS_DIR: dir, LOGBOOK_ADMIN_TOKEN: "admin-ui" },
    })
  }, 30_000)
  afterAll(() => app.close(), 30_000)

  const row = (page: string, id: string) =>
    page.match(new RegExp(`<tr data-plugin="${id}">([\\s\\S]*?)</tr>`))?.[1] ?? ""

  test("lists each plugin with source, status, routes and checks", async () => {
    const page = await (await app.request("/ui/plugins")).text()
    const sample = row(page, "sample")
    expect(sample).toContain("<strong>Sample &lt;plugin&gt;</strong>")
    expect(sample).toContain("<td>built-in</td>")
    expect(sample).toContain('<span class="badge pass">started</span>')
    expect(sample).toContain("<code>POST /api/v1/sample/notes</code>")
    expect(sample).toContain("<code>sample-check</code>")
    const hello = row(page, "hello")
    expect(hello).toContain("<td>drop-in:hello.ts</td>")
    expect(hello).toContain('<span class="badge pass">started</span>')
    expect(hello).toContain("<code>GET /api/v1/hello</code>")
    expect(hello).toContain("<code>hello-ok</code>")
    // a file of health checks only: its checks are listed by source
    expect(page).toContain('<li><code>redis</code> <span class="muted">from drop-in:redis.ts</span></li>')
  })

  test("a throwing drop-in is shown as failed; the rest runs", async () => {
    const page = await (await app.request("/ui/plugins")).text()
    const broken = row(page, "broken.ts")
    expect(broken).toContain("<td>drop-in:broken.ts</td>")
    expect(broken).toContain('<span class="badge fail">failed</span>')
    expect(broken).toContain("this drop-in fails on purpose")
    // anonymous visitors see the message, not the stack (file paths)
    expect(broken).not.toContain(dir)
    const asAdmin = await (
      await app.request("/ui/plugins", { headers: { authorization: "Bearer admin-ui" } })
    ).text()
    expect(row(asAdmin, "broken.ts")).toContain(dir)
    expect(
      app.logs.some((l) => l.msg === "plugin failed" && String(l.fields?.source) === "drop-in:broken.ts"),
    ).toBe(true)
    // the drop-in's routes work, and its page escapes
    expect(await (await app.request("/api/v1/hello")).json()).toEqual({ hello: "hello" })
    expect(await (await app.request("/ui/hello")).text()).toContain("<p>&lt;hi&gt;</p>")
  })

  test("LOGBOOK_STRICT_PLUGINS=1 makes a failing plugin fatal", async () => {
    await expect(
      createTestApp({
        plugins: [samplePlugin],
        dropIns: true,
        env: { LOGBOOK_PLUGINS_DIR: dir, LOGBOOK_STRICT_PLUGINS: "1" },
      }),
    ).rejects.toThrow("broken.ts")
  })

  test("strict start-up of the real server exits non-zero naming the file", async () => {
    const s = await spawnEnv()
    try {
      mkdirSync(s.env.LOGBOOK_PLUGINS_DIR, { recursive: true })
      writeFileSync(join(s.env.LOGBOOK_PLUGINS_DIR, "broken.ts"), BROKEN)
      const r = await runLogbook(["serve"], { ...s.env, LOGBOOK_PORT: "0", LOGBOOK_STRICT_PLUGINS: "1" })
      expect(r.code).toBe(1)
      expect(r.stderr).toContain("broken.ts")
      expect(r.stderr).toContain("this drop-in fails on purpose")
    } finally {
      await s.cleanup()
    }
  })
})
