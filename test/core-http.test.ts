/**
 * The HTTP core: request ids, the one JSON error shape for every status, no stack traces for anonymous
 * callers, the body limit (Content-Length and chunked, on a real socket), CORS, the writer's 503.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { connect } from "node:net"
import { Elysia } from "elysia"
import { readLimited } from "../src/http/app"
import { definePlugin, type LogbookEvents } from "../src/plugin/contract"
import { samplePlugin } from "./core-sample-plugin"
import { createTestApp, type TestApp } from "./support"

let app: TestApp
let base: string
const ADMIN = "admin-token-for-http-tests"
const measured: Array<LogbookEvents["http.request"]> = []

beforeAll(async () => {
  app = await createTestApp({
    plugins: [samplePlugin],
    env: {
      LOGBOOK_ADMIN_TOKEN: ADMIN,
      LOGBOOK_MAX_BODY_BYTES: "4096",
      LOGBOOK_CORS_ORIGINS: "https://dash.example",
    },
  })
  base = await app.listen()
  app.host.events.on("http.request", (e) => measured.push(e))
}, 30_000)
afterAll(async () => {
  await app.close()
}, 30_000)

/** The one `http.request` event (what metrics are taken from) of the request that `send` makes. */
async function measuredOf<T>(send: () => Promise<T>): Promise<[T, LogbookEvents["http.request"]]> {
  const before = measured.length
  const result = await send()
  expect(measured.length).toBe(before + 1)
  return [result, measured[before] as LogbookEvents["http.request"]]
}

type ErrorBody = { error: { code: string; message: string; details?: unknown } }
async function expectError(res: Response, status: number, code: string): Promise<ErrorBody> {
  expect(res.status).toBe(status)
  expect(res.headers.get("content-type")).toStartWith("application/json")
  const body = (await res.json()) as ErrorBody
  expect(body.error.code).toBe(code)
  expect(typeof body.error.message).toBe("string")
  expect(Object.keys(body)).toEqual(["error"])
  return body
}

describe("request id", () => {
  test.each(["X-Request-ID", "X-Correlation-ID", "Request-ID", "X-Varnish"])(
    "accepted from %s and echoed",
    async (h) => {
      const res = await app.request("/api/v1/sample/notes/1", { headers: { [h]: "abc-123.def" } })
      expect(res.headers.get("x-request-id")).toBe("abc-123.def")
    },
  )

  test("X-Request-ID wins over the others", async () => {
    const res = await app.request("/nope", {
      headers: { "x-correlation-id": "corr-1", "x-request-id": "req-1" },
    })
    expect(res.headers.get("x-request-id")).toBe("req-1")
  })

  test.each([["x".repeat(200)], ["bad<script>"], ["semi;colon"], [""]])(
    "invalid %p is replaced by a generated id",
    async (v) => {
      const res = await app.request("/nope", { headers: { "x-request-id": v } })
      const id = res.headers.get("x-request-id")!
      expect(id).not.toBe(v)
      expect(id).toMatch(/^[0-9a-f-]{36}$/)
    },
  )

  test("generated when absent, different each time", async () => {
    const a = (await app.request("/nope")).headers.get("x-request-id")
    const b = (await app.request("/nope")).headers.get("x-request-id")
    expect(a).toMatch(/^[0-9a-f-]{36}$/)
    expect(a).not.toBe(b)
  })

  test("every log line of a request carries its id", async () => {
    const id = `trace-${Date.now()}`
    const res = await app.request("/api/v1/sample/notes", {
      method: "POST",
      json: { text: "hello" },
      headers: { "x-request-id": id },
    })
    expect(res.status).toBe(201)
    const mine = app.logs.filter((l) => l.requestId === id)
    expect(mine.map((l) => l.msg)).toEqual(["note stored", "request"])
    // and nothing of this request was logged without it
    expect(app.logs.filter((l) => l.msg === "note stored" && l.requestId !== id).length).toBe(
      app.logs.filter((l) => l.msg === "note stored").length - 1,
    )
    const errId = `err-${Date.now()}`
    await app.request("/api/v1/sample/boom", { headers: { "x-request-id": errId } })
    const errLines = app.logs.filter((l) => l.requestId === errId)
    expect(errLines.map((l) => l.msg)).toEqual(["unhandled error", "request"])
  })
})

describe("one error shape", () => {
  test("400 from ApiError, with details", async () => {
    const b = await expectError(await app.request("/api/v1/sample/bad"), 400, "bad_request")
    expect(b.error.details).toEqual({ hint: "x" })
  })

  test("400 for an unparsable JSON body", async () => {
    const res = await app.request("/api/v1/sample/notes", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{not json",
    })
    await expectError(res, 400, "bad_request")
  })

  test("401 for anonymous admin, with WWW-Authenticate", async () => {
    const res = await app.request("/api/v1/sample/admin")
    await expectError(res, 401, "unauthorized")
    expect(res.headers.get("www-authenticate")).toContain("Bearer")
  })

  test("401 for a wrong token even where anonymous would do", async () => {
    await expectError(
      await app.request("/api/v1/sample/notes/1", { headers: { authorization: "Bearer nope" } }),
      401,
      "unauthorized",
    )
  })

  test("401 for an invalid token carries WWW-Authenticate with error=invalid_token (RFC 6750)", async () => {
    for (const headers of [{ authorization: "Bearer nope" }, { "x-api-key": "nope" }] as Record<
      string,
      string
    >[])
      for (const path of ["/api/v1/sample/notes/1", "/api/v1/sample/admin"]) {
        const res = await app.request(path, { headers })
        expect(res.status).toBe(401)
        expect(res.headers.get("www-authenticate")).toBe('Bearer realm="logbook", error="invalid_token"')
      }
  })

  test("403 for a token without the role", async () => {
    const created = await app.request("/api/v1/tokens", {
      method: "POST",
      json: { name: "reader", roles: ["read"] },
      headers: { authorization: `Bearer ${ADMIN}` },
    })
    expect(created.status).toBe(201)
    const { token } = (await created.json()) as { token: string }
    await expectError(
      await app.request("/api/v1/sample/admin", { headers: { "x-api-key": token } }),
      403,
      "forbidden",
    )
  })

  test("404 for an unknown API path", async () => {
    await expectError(await app.request("/api/v1/nothing"), 404, "not_found")
    await expectError(await app.request("/api/v1/sample/notes/999"), 404, "not_found")
  })

  test("405 with Allow for a known path with the wrong method", async () => {
    const res = await app.request("/api/v1/sample/notes", { method: "GET" })
    await expectError(res, 405, "method_not_allowed")
    expect(res.headers.get("allow")).toBe("POST")
    const res2 = await app.request("/api/v1/sample/notes/3", { method: "DELETE" })
    await expectError(res2, 405, "method_not_allowed")
    expect(res2.headers.get("allow")).toBe("GET, HEAD")
  })

  test("413 by Content-Length, before the body is read", async () => {
    const res = await app.request("/api/v1/sample/notes", {
      method: "POST",
      json: { text: "x".repeat(5000) },
    })
    const b = await expectError(res, 413, "payload_too_large")
    expect(b.error.message).toContain("LOGBOOK_MAX_BODY_BYTES")
  })

  test("415 for a body type the route does not take", async () => {
    const res = await app.request("/api/v1/sample/notes", {
      method: "POST",
      headers: { "content-type": "application/xml" },
      body: "<text>hi</text>",
    })
    await expectError(res, 415, "unsupported_media_type")
  })

  test("422 for a body that fails its schema, naming the field", async () => {
    const res = await app.request("/api/v1/sample/notes", { method: "POST", json: { text: 5 } })
    const b = await expectError(res, 422, "validation_failed")
    expect(b.error.message).toBe("invalid body: text: must be a string, got 5")
    expect(b.error.details).toEqual([{ path: "/text", message: "must be a string, got 5" }])
    expect(await app.db.all("SELECT * FROM sample_notes WHERE text = '5'")).toEqual([])
  })

  test("500: generic for anonymous callers (no stack, no message), details for admins", async () => {
    const res = await app.request("/api/v1/sample/boom", { headers: { "x-request-id": "r500" } })
    const text = await res.clone().text()
    const b = await expectError(res, 500, "internal")
    expect(text).not.toContain("kaboom")
    expect(text).not.toContain("at ")
    expect(text).not.toContain(".ts")
    expect(b.error.details).toEqual({ requestId: "r500" })
    const admin = await app.request("/api/v1/sample/boom", { headers: { authorization: `Bearer ${ADMIN}` } })
    const ab = await expectError(admin, 500, "internal")
    expect(JSON.stringify(ab.error.details)).toContain("kaboom: secret internals")
    expect(JSON.stringify(ab.error.details)).not.toContain(".ts:")
  })

  test("an answer that fails its own response schema is a 500, not the caller's 422", async () => {
    const res = await app.request("/api/v1/sample/wrong-shape")
    await expectError(res, 500, "internal")
    expect(
      app.logs.some((l) => l.msg === "unhandled error" && l.fields?.path === "/api/v1/sample/wrong-shape"),
    ).toBe(true)
  })

  test("500 on a page is an HTML error page with the request id, no stack", async () => {
    const res = await app.request("/ui/sample/boom", { headers: { "x-request-id": "page500" } })
    expect(res.status).toBe(500)
    const text = await res.text()
    expect(text).toContain("page500")
    expect(text).not.toContain("page kaboom")
  })

  test("503 with Retry-After when the writer is full", async () => {
    const res = await app.request("/api/v1/sample/full")
    await expectError(res, 503, "overloaded")
    expect(res.headers.get("retry-after")).toBe("3")
  })
})

describe("the route a refused request is measured under", () => {
  const NOTES = "/api/v1/sample/notes"
  const NOTE = "/api/v1/sample/notes/:id"
  test.each([
    ["a body that fails its schema (422)", NOTES, { method: "POST", json: { text: 5 } }, 422, NOTES],
    ["a path parameter that fails its schema (422)", "/api/v1/sample/notes/abc", {}, 422, NOTE],
    [
      "a body that cannot be parsed (400)",
      NOTES,
      { method: "POST", body: "{nope", headers: { "content-type": "application/json" } },
      400,
      NOTES,
    ],
    [
      "a body type the route does not take (415)",
      NOTES,
      { method: "POST", body: "<text/>", headers: { "content-type": "application/xml" } },
      415,
      NOTES,
    ],
    [
      "a body over the limit by Content-Length (413)",
      NOTES,
      { method: "POST", json: { text: "x".repeat(5000) } },
      413,
      NOTES,
    ],
    ["a route's own refusal (401)", "/api/v1/sample/admin", {}, 401, "/api/v1/sample/admin"],
    ["an unknown path (404)", "/api/v1/sample/nope", {}, 404, "_not_found"],
    ["a method the path is not served with (405)", NOTES, { method: "DELETE" }, 405, "_not_found"],
    [
      "a body over the limit on a path no route serves (413)",
      "/api/v1/sample/nope",
      { method: "POST", json: { text: "x".repeat(5000) } },
      413,
      "_not_found",
    ],
  ] as const)("%s", async (_what, path, init, status, route) => {
    const [res, event] = await measuredOf(() => app.request(path, init as RequestInit & { json?: unknown }))
    expect(res.status).toBe(status)
    expect(event).toMatchObject({ method: (init as { method?: string }).method ?? "GET", route, status })
    const name = route === "_not_found" ? route : route.slice(1).replace(/[/:]+/g, "_")
    expect(res.headers.get("server-timing")).toStartWith(`route;desc="${name}";`)
  })

  test("a browser session's request without its CSRF token (403, refused before the router)", async () => {
    const signin = await app.request("/ui/signin", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: ADMIN }).toString(),
    })
    const cookie = (signin.headers.get("set-cookie") ?? "").split(";")[0] as string
    const [res, event] = await measuredOf(() =>
      app.request(NOTES, { method: "POST", json: { text: "no token" }, headers: { cookie } }),
    )
    await expectError(res, 403, "csrf")
    expect(event).toMatchObject({ method: "POST", route: NOTES, status: 403 })
  })
})

test("a body refused before the router counts under the route the router would have picked", async () => {
  const routes = ["/api/v1/pick/latest", "/api/v1/pick/:id", "/api/v1/pick/:id/notes", "/api/v1/pick/*"]
  const pick = definePlugin({
    id: "pick",
    title: "Pick",
    routes: () => {
      const app = new Elysia()
      for (const r of routes) app.post(r, () => "ok", { parse: "none" })
      return app
    },
  })
  const small = await createTestApp({ plugins: [pick], env: { LOGBOOK_MAX_BODY_BYTES: "1024" } })
  const seen: string[] = []
  small.host.events.on("http.request", (e) => seen.push(`${e.status} ${e.route}`))
  try {
    for (const [path, route] of [
      ["/api/v1/pick/latest", "/api/v1/pick/latest"],
      ["/api/v1/pick/7", "/api/v1/pick/:id"],
      ["/api/v1/pick/7/notes", "/api/v1/pick/:id/notes"],
      ["/api/v1/pick/7/x/y", "/api/v1/pick/*"],
    ]) {
      seen.length = 0
      for (const size of [10, 2000]) await small.request(path, { method: "POST", body: "x".repeat(size) })
      expect(seen).toEqual([`200 ${route}`, `413 ${route}`])
    }
  } finally {
    await small.close()
  }
})

test("a chunked body over the limit is refused even when cancelling the rest never settles", async () => {
  const chunk = new Uint8Array(1024)
  const body = new ReadableStream<Uint8Array>({
    pull: (c) => c.enqueue(chunk),
    cancel: () => new Promise<void>(() => {}),
  })
  const outcome = await Promise.race([
    readLimited(body, 4096).then((b) => (b === undefined ? "refused" : "read")),
    Bun.sleep(2000).then(() => "hung"),
  ])
  expect(outcome).toBe("refused")
})

describe("on a real socket", () => {
  const raw = async (request: string, body: Uint8Array | string = ""): Promise<string> => {
    const { promise, resolve } = Promise.withResolvers<string>()
    let out = ""
    const url = new URL(base)
    await Bun.connect({
      hostname: url.hostname,
      port: Number(url.port),
      socket: {
        open(s) {
          s.write(request)
          if (body) s.write(body)
        },
        data(_s, d) {
          out += new TextDecoder().decode(d)
        },
        close() {
          resolve(out)
        },
        error() {
          resolve(out)
        },
      },
    })
    return promise
  }
  const chunked = (payload: string) => `${payload.length.toString(16)}\r\n${payload}\r\n0\r\n\r\n`

  test("413 for a chunked body over the limit, in the JSON shape, measured under its route", async () => {
    const payload = JSON.stringify({ text: "y".repeat(6000) })
    const [out, event] = await measuredOf(() =>
      raw(
        "POST /api/v1/sample/notes HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        chunked(payload),
      ),
    )
    expect(out).toStartWith("HTTP/1.1 413")
    expect(out).toContain('"code":"payload_too_large"')
    expect(event).toMatchObject({ method: "POST", route: "/api/v1/sample/notes", status: 413 })
    expect(await app.db.all("SELECT id FROM sample_notes WHERE length(text) > 5000")).toEqual([])
  })

  test("a chunked body over the limit is counted whatever the method (Bun itself has no limit)", async () => {
    const [out, event] = await measuredOf(() =>
      raw(
        "OPTIONS /api/v1/sample/notes HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        chunked("o".repeat(6000)),
      ),
    )
    expect(out).toStartWith("HTTP/1.1 413")
    expect(out).toContain('"code":"payload_too_large"')
    expect(event.status).toBe(413)
  })

  // a body far over the limit (the audit's was 10.6 MB): the 413 comes while the client is still sending, and
  // the connection is closed after it (the rest of the body is never read); a keep-alive client, too
  test("a chunked body 20x over the limit: 413 with Connection: close, and the connection closes", async () => {
    const url = new URL(base)
    const out = await new Promise<string>((resolve) => {
      let got = ""
      const s = connect(Number(url.port), url.hostname, () => {
        s.write(
          "POST /api/v1/sample/notes HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        )
        const chunk = "c".repeat(4096)
        for (let i = 0; i < 20; i++) s.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`)
        s.write("0\r\n\r\n")
      })
      s.on("data", (d) => {
        got += d.toString()
      })
      s.on("close", () => resolve(got))
      s.on("error", () => resolve(got))
      setTimeout(() => {
        s.destroy()
        resolve(`still open after 5 s: ${got}`)
      }, 5000)
    })
    expect(out).toStartWith("HTTP/1.1 413")
    expect(out.toLowerCase()).toContain("connection: close")
    expect(out).toContain('"code":"payload_too_large"')
  }, 10_000)

  test("a chunked body under the limit is accepted", async () => {
    const payload = JSON.stringify({ text: "chunked-ok" })
    const out = await raw(
      "POST /api/v1/sample/notes HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
      chunked(payload),
    )
    expect(out).toStartWith("HTTP/1.1 201")
    expect(await app.db.all("SELECT text FROM sample_notes WHERE text = 'chunked-ok'")).toEqual([
      { text: "chunked-ok" },
    ])
  })

  test("a short Host header still routes (Elysia reads the path from URL index 11)", async () => {
    for (const host of ["x", "api"]) {
      const out = await raw(
        `GET /api/v1/sample/notes/999999 HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      )
      expect(out).toContain('"message":"no note 999999"')
    }
  })

  test("413 by Content-Length over the socket", async () => {
    const out = await raw(
      "POST /api/v1/sample/notes HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n",
      "z".repeat(5000),
    )
    expect(out).toStartWith("HTTP/1.1 413")
    expect(out).toContain('"code":"payload_too_large"')
  })

  // Bun.serve answers a Content-Length over its own maxRequestBodySize itself, before `fetch`, with a bare
  // 413: no body, no request id, not measured. Only the start of the body is sent: it is never read.
  test.each([
    ["100 MB", 100 * 1024 * 1024],
    ["past 2^53", 2 ** 53 + 2],
  ])("a declared body of %s: Logbook's own 413, with the request id, measured", async (_what, length) => {
    const [out, event] = await measuredOf(() =>
      raw(
        `POST /api/v1/sample/notes HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\nX-Request-ID: huge-body-1\r\nConnection: close\r\n\r\n`,
        "z".repeat(64 * 1024),
      ),
    )
    expect(out).toStartWith("HTTP/1.1 413")
    const [head = "", body = ""] = out.split("\r\n\r\n")
    expect(head.toLowerCase()).toContain("x-request-id: huge-body-1")
    expect(head.toLowerCase()).toContain("content-type: application/json")
    const error = (JSON.parse(body) as ErrorBody).error
    expect(error.code).toBe("payload_too_large")
    expect(error.message).toContain(`${length} bytes`)
    expect(event).toMatchObject({ method: "POST", route: "/api/v1/sample/notes", status: 413 })
  })
})

describe("CORS for the API", () => {
  test("an allow-listed origin gets CORS headers (with credentials) and a working preflight", async () => {
    const pre = await app.request("/api/v1/sample/notes", {
      method: "OPTIONS",
      headers: {
        origin: "https://dash.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, authorization",
      },
    })
    expect(pre.status).toBe(204)
    expect(pre.headers.get("access-control-allow-origin")).toBe("https://dash.example")
    expect(pre.headers.get("access-control-allow-methods")).toContain("POST")
    expect(pre.headers.get("access-control-allow-headers")).toBe("content-type, authorization")
    expect(pre.headers.get("access-control-allow-credentials")).toBe("true")
    const res = await app.request("/api/v1/sample/notes/1", { headers: { origin: "https://dash.example" } })
    expect(res.headers.get("access-control-allow-origin")).toBe("https://dash.example")
    expect(res.headers.get("vary")).toContain("Origin")
    expect(res.headers.get("access-control-expose-headers")).toContain("X-Request-ID")
  })

  test("other origins and pages get no CORS headers", async () => {
    const res = await app.request("/api/v1/sample/notes/1", { headers: { origin: "https://evil.example" } })
    expect(res.headers.get("access-control-allow-origin")).toBeNull()
    const pre = await app.request("/api/v1/sample/notes", {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    })
    expect(pre.headers.get("access-control-allow-origin")).toBeNull()
    const page = await app.request("/ui/plugins", { headers: { origin: "https://dash.example" } })
    expect(page.headers.get("access-control-allow-origin")).toBeNull()
  })

  test("`*` allows any origin and never credentials", async () => {
    const any = await createTestApp({ plugins: [samplePlugin], env: { LOGBOOK_CORS_ORIGINS: "*" } })
    try {
      const res = await any.request("/api/v1/sample/notes/1", {
        headers: { origin: "https://whoever.example" },
      })
      expect(res.headers.get("access-control-allow-origin")).toBe("*")
      expect(res.headers.get("access-control-allow-credentials")).toBeNull()
      const pre = await any.request("/api/v1/sample/notes", {
        method: "OPTIONS",
        headers: { origin: "https://whoever.example", "access-control-request-method": "POST" },
      })
      expect(pre.status).toBe(204)
      expect(pre.headers.get("access-control-allow-credentials")).toBeNull()
    } finally {
      await any.close()
    }
  })

  test("no CORS headers at all by default", async () => {
    const plain = await createTestApp({ plugins: [samplePlugin] })
    try {
      const res = await plain.request("/api/v1/sample/notes/1", {
        headers: { origin: "https://dash.example" },
      })
      expect(res.headers.get("access-control-allow-origin")).toBeNull()
    } finally {
      await plain.close()
    }
  })
})

test("a misspelt LOGBOOK_* variable is warned about at start-up", async () => {
  const typo = await createTestApp({ plugins: [samplePlugin], env: { LOGBOOK_PROT: "9000" } })
  try {
    const warning = typo.logs.find((l) => l.msg.startsWith("unknown LOGBOOK_* variables"))
    expect(warning?.level).toBe("warning")
    expect(warning?.fields?.variables).toEqual(["LOGBOOK_PROT"])
  } finally {
    await typo.close()
  }
})

test("variables a plugin reads by prefix (envPrefixes) are not called misspelt; the bare prefix is", async () => {
  const tagged = definePlugin({ id: "prefixed", title: "prefixed", envPrefixes: ["LOGBOOK_PREFIXED_TAG_"] })
  const app = await createTestApp({
    plugins: [tagged],
    env: { LOGBOOK_PREFIXED_TAG_ENV: "prod", LOGBOOK_PREFIXED_TAG_: "x" },
  })
  try {
    const warning = app.logs.find((l) => l.msg.startsWith("unknown LOGBOOK_* variables"))
    expect(warning?.fields?.variables).toEqual(["LOGBOOK_PREFIXED_TAG_"])
  } finally {
    await app.close()
  }
})
