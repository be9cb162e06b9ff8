/**
 * Fast routes: exact-path handlers a plugin declares for hot probes (GET/HEAD) and ingestion (POST),
 * answered before the router — with the request id and the http.request event like every other route. A
 * fast POST gets only the plain case; everything else takes the router to the plugin's twin route.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { Elysia } from "elysia"
import { WriterFullError } from "../src/db/writer"
import { definePlugin, fastRouteKey, type LogbookEvents } from "../src/plugin/contract"
import { createTestApp, type TestApp } from "./support"

let app: TestApp
const seen: Array<LogbookEvents["http.request"]> = []
let calls = 0
let fastPosts = 0
const errors: string[] = []
let routed = 0

beforeAll(async () => {
  const probe = definePlugin({
    id: "probe",
    title: "Probe",
    setup(ctx) {
      ctx.events.on("http.request", (e) => seen.push(e))
      ctx.events.on("http.error", (e) => errors.push((e.error as Error).message))
    },
    routes: () =>
      new Elysia().post("/ingest", async ({ request }) => {
        routed++
        return new Response(`routed:${(await request.text()).length}`, { status: 201 })
      }),
    fastRoutes: (ctx) => ({
      "POST /ingest-logs": async (request) => {
        await request.text()
        ctx.log.warning("a line written by a fast route")
        return new Response(null, { status: 204 })
      },
      "POST /ingest": async (request) => {
        fastPosts++
        return new Response(`fast:${(await request.text()).length}`, { status: 201 })
      },
      "/probe-ok": () => {
        calls++
        return new Response("ok\n", { headers: { "content-type": "text/plain" } })
      },
      "/probe-async": async () => new Response("later", { status: 503 }),
      "/probe-broken": () => {
        throw new Error("probe bug")
      },
      "POST /ingest-full": async () => {
        throw new WriterFullError(2)
      },
      "POST /ingest-broken": async () => {
        throw new Error("handler bug")
      },
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
  expect(seen.at(-1)).toMatchObject({ method: "GET", route: "/probe-ok", status: 200 })
})

test("a fast GET is a probe: no request id is generated when the caller sent none, no Server-Timing", async () => {
  const before = seen.length
  const res = await app.request("/probe-ok")
  expect(res.status).toBe(200)
  expect(res.headers.get("x-request-id")).toBeNull()
  expect(res.headers.get("server-timing")).toBeNull()
  // a caller's invalid id is not echoed either
  const bad = await app.request("/probe-ok", { headers: { "x-request-id": "<script>" } })
  expect(bad.headers.get("x-request-id")).toBeNull()
  // still counted, once per request
  expect(seen.length).toBe(before + 2)
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

test("a plain POST (known length, no Origin, no session) takes the fast route; the event names its path", async () => {
  const res = await app.request("/ingest", {
    method: "POST",
    body: "hello",
    // as it comes off the wire (a Request built in a test has no Content-Length of its own)
    headers: { "content-type": "text/plain", "content-length": "5", "x-request-id": "post-1" },
  })
  expect(res.status).toBe(201)
  expect(await res.text()).toBe("fast:5")
  expect(res.headers.get("x-request-id")).toBe("post-1")
  expect(res.headers.get("server-timing")).toMatch(/^route;desc="ingest";dur=\d/)
  expect(seen.at(-1)).toMatchObject({ method: "POST", route: "/ingest", status: 201 })
  expect(fastPosts).toBe(1)
})

test("a line a fast route logs carries the request's id, as the router's do", async () => {
  const res = await app.request("/ingest-logs", {
    method: "POST",
    body: "x",
    headers: { "content-length": "1", "x-request-id": "fast-log-1" },
  })
  expect(res.status).toBe(204)
  expect(app.logs.find((l) => l.msg === "a line written by a fast route")?.requestId).toBe("fast-log-1")
})

test("every other POST goes through the router to the twin route: chunked, oversized, CORS, session cookie", async () => {
  const before = { fastPosts, routed }
  const chunked = new ReadableStream({
    start(c) {
      c.enqueue(new TextEncoder().encode("abc"))
      c.close()
    },
  })
  const asChunks = await app.request("/ingest", { method: "POST", body: chunked })
  expect(await asChunks.text()).toBe("routed:3")
  const withOrigin = await app.request("/ingest", {
    method: "POST",
    body: "x",
    headers: { origin: "https://elsewhere.example", "content-length": "1" },
  })
  expect(await withOrigin.text()).toBe("routed:1")
  // a session cookie: the router's CSRF check decides (this one is no valid session, so it passes on)
  const session = await app.request("/ingest", {
    method: "POST",
    body: "x",
    headers: { cookie: "logbook_session=forged", "content-length": "1" },
  })
  expect(await session.text()).toBe("routed:1")
  const tooLarge = await app.request("/ingest", {
    method: "POST",
    body: "x",
    headers: { "content-length": String(app.host.config.maxBodyBytes + 1) },
  })
  expect(tooLarge.status).toBe(413)
  expect(fastPosts).toBe(before.fastPosts)
  expect(routed).toBe(before.routed + 3)
})

test("a fast route that throws is answered as the router would: 503 + Retry-After for a full queue, else a JSON 500 reported", async () => {
  const post = (path: string) =>
    app.request(path, {
      method: "POST",
      body: "x",
      headers: { "content-length": "1", "x-request-id": "err-1" },
    })
  const full = await post("/ingest-full")
  expect(full.status).toBe(503)
  expect(full.headers.get("retry-after")).toBe("2")
  expect((await full.json()).error.code).toBe("overloaded")
  const broken = await post("/ingest-broken")
  expect(broken.status).toBe(500)
  expect(await broken.json()).toMatchObject({ error: { code: "internal", details: { requestId: "err-1" } } })
  const probe = await app.request("/probe-broken")
  expect(probe.status).toBe(500)
  expect((await probe.json()).error.code).toBe("internal")
  expect(errors).toEqual(["handler bug", "probe bug"])
})

test("fast routes are listed with the plugin's routes, once each", () => {
  expect(app.host.infos.find((p) => p.id === "probe")?.routes).toEqual([
    "POST /ingest-logs",
    "POST /ingest",
    "GET /probe-ok",
    "GET /probe-async",
    "GET /probe-broken",
    "POST /ingest-full",
    "POST /ingest-broken",
  ])
})

test("fast route keys are a path or POST and a path; anything else is refused", () => {
  expect(fastRouteKey("/livez")).toEqual({ method: "GET", path: "/livez" })
  expect(fastRouteKey("POST /api/events")).toEqual({ method: "POST", path: "/api/events" })
  for (const bad of ["PUT /x", "POST", "livez", "POST /a b"]) expect(() => fastRouteKey(bad)).toThrow(bad)
})

test("after server.draining (SIGTERM) every answer asks the client to close its connection", async () => {
  expect((await app.request("/probe-ok")).headers.get("connection")).toBeNull()
  app.host.events.emit("server.draining", { signal: "SIGTERM", drainMs: 1000 })
  expect((await app.request("/probe-ok")).headers.get("connection")).toBe("close")
  expect((await app.request("/probe-async")).headers.get("connection")).toBe("close")
  const post = await app.request("/ingest", { method: "POST", body: "x", headers: { "content-length": "1" } })
  expect(post.headers.get("connection")).toBe("close")
  // and through the router
  expect((await app.request("/nope")).headers.get("connection")).toBe("close")
})
