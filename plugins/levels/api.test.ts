import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { createToken } from "../../src/auth/tokens"
import { createTestApp, type TestApp } from "../../test/support"
import levels from "./plugin"
import { adminHeaders, testEnv } from "./testing"

let app: TestApp
let base: string
let readHeaders: Record<string, string>

beforeAll(async () => {
  app = await createTestApp({ plugins: [levels], env: testEnv })
  base = await app.listen()
  const { token } = await createToken(app.db, { name: "reader", roles: ["read"], now: Date.now() })
  readHeaders = { authorization: `Bearer ${token}` }
})
afterAll(async () => {
  await app?.close()
})

const call = (method: string, path: string, body?: BodyInit, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method, body, headers })

describe("native levels API: admin routes", () => {
  test("401/403 come before the body is looked at: any body, valid or not, gets the role's answer", async () => {
    const json = { "content-type": "application/json" }
    const routes: Array<[string, string]> = [
      ["POST", "/api/v1/levels/overrides"],
      ["PUT", "/api/v1/levels/profiles/nightly"],
      ["POST", "/api/v1/levels/triggers"],
      ["PATCH", "/api/v1/levels/triggers/1"],
    ]
    for (const [method, path] of routes)
      for (const body of ["{bad", "{}", '{"level":5}', "[]", '{"levels":"x","active":"maybe"}']) {
        expect([method, path, body, (await call(method, path, body, json)).status]).toEqual([
          method,
          path,
          body,
          401,
        ])
        const r = await call(method, path, body, { ...json, ...readHeaders })
        expect([method, path, body, r.status]).toEqual([method, path, body, 403])
      }
    // the admin still gets the 422 naming the field
    const r = await call("POST", "/api/v1/levels/overrides", "{}", { ...json, ...adminHeaders })
    expect(r.status).toBe(422)
  })
})

describe("native levels API: JSON bodies only", () => {
  test("a form or text body is a 415 naming application/json (after the role check); JSON without a type is JSON; OpenAPI lists JSON alone", async () => {
    const form = { "content-type": "application/x-www-form-urlencoded" }
    const refused = async (r: Response, type: string) => {
      expect(r.status).toBe(415)
      expect(((await r.json()) as { error: { message: string } }).error.message).toBe(
        `a body of type ${type} is not accepted here; send application/json`,
      )
    }
    const overrideForm = "logger=form.one&level=DEBUG&permanent=true"
    await refused(
      await call("POST", "/api/v1/levels/overrides", overrideForm, { ...form, ...adminHeaders }),
      "application/x-www-form-urlencoded",
    )
    await refused(
      await call("PUT", "/api/v1/levels/profiles/p1", "levels=x", { ...form, ...adminHeaders }),
      "application/x-www-form-urlencoded",
    )
    const multipart = new FormData()
    multipart.set("logger", "form.one")
    multipart.set("level", "DEBUG")
    await refused(
      await call("POST", "/api/v1/levels/overrides", multipart, adminHeaders),
      "multipart/form-data",
    )
    await refused(
      await call("POST", "/api/v1/levels/triggers", '{"profile":"p1"}', {
        "content-type": "text/plain",
        ...adminHeaders,
      }),
      "text/plain",
    )
    await refused(
      await call("PATCH", "/api/v1/levels/triggers/1", "active=true", { ...form, ...adminHeaders }),
      "application/x-www-form-urlencoded",
    )
    // the role still comes first
    expect((await call("POST", "/api/v1/levels/overrides", overrideForm, form)).status).toBe(401)
    expect(
      (await call("POST", "/api/v1/levels/overrides", overrideForm, { ...form, ...readHeaders })).status,
    ).toBe(403)
    const live = async () =>
      (
        (await (await call("GET", "/api/v1/levels/overrides", undefined, adminHeaders)).json()) as {
          overrides: Array<{ logger: string; expires_at: number | null }>
        }
      ).overrides
    expect((await live()).filter((o) => o.logger === "form.one")).toEqual([])
    // JSON with a charset, or sent without a type (bytes), is read as JSON
    const json = JSON.stringify({ logger: "json.one", level: "DEBUG", permanent: true })
    expect(
      (
        await call("POST", "/api/v1/levels/overrides", json, {
          "content-type": "application/json; charset=utf-8",
          ...adminHeaders,
        })
      ).status,
    ).toBe(201)
    const bytes = new TextEncoder().encode(
      JSON.stringify({ logger: "json.two", level: "INFO", permanent: true }),
    )
    expect((await call("POST", "/api/v1/levels/overrides", bytes, adminHeaders)).status).toBe(201)
    expect(
      (await live()).filter((o) => o.logger.startsWith("json.")).map((o) => [o.logger, o.expires_at]),
    ).toEqual([
      ["json.two", null],
      ["json.one", null],
    ])
    // no body at all: still the 422
    expect((await call("POST", "/api/v1/levels/overrides", undefined, adminHeaders)).status).toBe(422)
    const doc = (await (await call("GET", "/openapi/json")).json()) as {
      paths: Record<
        string,
        Record<string, { requestBody: { content: Record<string, unknown> }; responses: object }>
      >
    }
    for (const [path, method] of [
      ["/api/v1/levels/overrides", "post"],
      ["/api/v1/levels/profiles/{name}", "put"],
      ["/api/v1/levels/triggers", "post"],
      ["/api/v1/levels/triggers/{id}", "patch"],
    ] as const) {
      expect([path, Object.keys(doc.paths[path][method].requestBody.content)]).toEqual([
        path,
        ["application/json"],
      ])
      expect(Object.keys(doc.paths[path][method].responses)).toContain("415")
    }
  })
})

describe("native levels API: desired set, If-None-Match", () => {
  test("W/-weakened, listed and * ETags match (304), and wait= holds for them until the set changes", async () => {
    const desired = (inm?: string, wait?: number) =>
      call("GET", `/api/v1/levels/desired?app=inm-shop${wait ? `&wait=${wait}` : ""}`, undefined, {
        ...readHeaders,
        ...(inm ? { "if-none-match": inm } : {}),
      })
    const first = await desired()
    expect(first.status).toBe(200)
    const etag = first.headers.get("etag") as string
    expect(etag).toMatch(/^"[^"]+"$/)
    for (const inm of [etag, `W/${etag}`, `"x", ${etag}`, `W/"x",W/${etag}`, "*"])
      expect([inm, (await desired(inm)).status]).toEqual([inm, 304])
    for (const inm of ['"x"', `W/"x"`, `${etag.slice(0, -2)}"`])
      expect([inm, (await desired(inm)).status]).toEqual([inm, 200])
    // a weakened ETag is held like the exact one: no change within the wait → 304 after it
    let t = Date.now()
    expect((await desired(`W/${etag}`, 1)).status).toBe(304)
    expect(Date.now() - t).toBeGreaterThanOrEqual(900)
    // …and answered with the new set as soon as it changes
    t = Date.now()
    const held = desired(`"other", W/${etag}`, 10)
    await Bun.sleep(300)
    const set = await call(
      "POST",
      "/api/v1/levels/overrides",
      JSON.stringify({ target: "inm-shop", logger: "shop.db", level: "DEBUG" }),
      { "content-type": "application/json", ...adminHeaders },
    )
    expect(set.status).toBe(201)
    const r = await held
    expect(r.status).toBe(200)
    expect(Date.now() - t).toBeGreaterThanOrEqual(250)
    expect(Date.now() - t).toBeLessThan(8000)
    expect(r.headers.get("etag")).not.toBe(etag)
    expect(Object.keys(((await r.json()) as { levels: object }).levels)).toEqual(["shop.db"])
  })
})

describe("native levels API: OpenAPI", () => {
  test("integers are integers in bodies and responses (a string branch only for query parameters); every operation documents its errors", async () => {
    const doc = (await (await call("GET", "/openapi/json")).json()) as {
      paths: Record<
        string,
        Record<string, { parameters?: unknown; requestBody?: unknown; responses: Record<string, unknown> }>
      >
    }
    const stringIntegers = (v: unknown): number =>
      Array.isArray(v)
        ? v.reduce((n: number, x) => n + stringIntegers(x), 0)
        : v && typeof v === "object"
          ? ((v as { type?: string; format?: string }).type === "string" &&
            (v as { format?: string }).format === "integer"
              ? 1
              : 0) + Object.values(v).reduce((n: number, x) => n + stringIntegers(x), 0)
          : 0
    const ops = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith("/api/v1/levels/"))
      .flatMap(([path, methods]) => Object.entries(methods).map(([m, op]) => [`${m} ${path}`, op] as const))
    expect(ops.length).toBe(16)
    const errors = Object.fromEntries(
      ops.map(([name, op]) => [name, Object.keys(op.responses).filter((s) => s >= "400")]),
    )
    for (const [name, op] of ops) {
      expect([name, stringIntegers(op.requestBody), stringIntegers(op.responses)]).toEqual([name, 0, 0])
      expect([name, errors[name].includes("401") && errors[name].includes("403")]).toEqual([name, true])
    }
    expect(errors["post /api/v1/levels/overrides"]).toEqual(["400", "401", "403", "415", "422"])
    expect(errors["delete /api/v1/levels/overrides/{id}"]).toEqual(["401", "403", "404", "409", "422"])
    expect(errors["get /api/v1/levels/overrides/{id}"]).toEqual(["401", "403", "404"])
    expect(errors["patch /api/v1/levels/triggers/{id}"]).toEqual(["400", "401", "403", "404", "415", "422"])
    expect(errors["get /api/v1/levels/desired"]).toEqual(["401", "403", "422"])
  })
})
