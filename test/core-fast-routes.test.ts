/**
 * Fast routes: exact-path GET/HEAD handlers a plugin declares for hot probes, answered before the router —
 * with the request id and the http.request event like every other route.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { definePlugin, type LogbookEvents } from "../src/plugin/contract"
import { createTestApp, type TestApp } from "./support"

let app: TestApp
const seen: Array<LogbookEvents["http.request"]> = []
let calls = 0

beforeAll(async () => {
  const probe = definePlugin({
    id: "probe",
    title: "Probe",
    setup(ctx) {
      ctx.events.on("http.request", (e) => seen.push(e))
    },
    fastRoutes: () => ({
      "/probe-ok": () => {
        calls++
        return new Response("ok\n", { headers: { "content-type": "text/plain" } })
      },
      "/probe-async": async () => new Response("later", { status: 503 }),
    }),
  })
  app = await createTestApp({ plugins: [probe] })
}, 30_000)
afterAll(() => app.close())

test("a fast route answers GET with its body, the caller's request id and the request event", async () => {
  const res = await app.request("/probe-ok", { headers: { "x-request-id": "probe-123" } })
  expect(res.status).toBe(200)
  expect(await res.text()).toBe("ok\n")
  expect(res.headers.get("x-request-id")).toBe("probe-123")
  expect(res.headers.get("server-timing")).toMatch(/^route;desc="probe_ok";dur=\d/)
  expect(seen.at(-1)).toMatchObject({ method: "GET", route: "/probe-ok", status: 200 })
})

test("HEAD gets the status and headers without a body; async handlers work", async () => {
  const head = await app.request("/probe-ok", { method: "HEAD" })
  expect(head.status).toBe(200)
  expect(await head.text()).toBe("")
  const later = await app.request("/probe-async?x=1")
  expect(later.status).toBe(503)
  expect(await later.text()).toBe("later")
})

test("other methods and other paths go through the router as usual", async () => {
  const before = calls
  const post = await app.request("/probe-ok", { method: "POST" })
  expect(post.status).toBe(404)
  expect((await post.json()).error.code).toBe("not_found")
  expect((await app.request("/probe-ok/more")).status).toBe(404)
  expect(calls).toBe(before)
})

test("fast routes are listed with the plugin's routes", () => {
  expect(app.host.infos.find((p) => p.id === "probe")?.routes).toEqual(["GET /probe-ok", "GET /probe-async"])
})
