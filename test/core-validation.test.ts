/**
 * 422 answers name the parameter that failed its schema and say what was wrong with it, for every kind of
 * schema a route declares: range errors of `t.Numeric` and `t.Integer` (whose property Elysia 1.4 loses),
 * values that are no number at all, path parameters, bodies. Over a real socket, against routes of a
 * plugin defined here (not a built-in plugin's routes).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Elysia, t } from "elysia"
import { definePlugin } from "../src/plugin/contract"
import { createTestApp, type TestApp } from "./support"

const ok = { ok: true }
/** A validator of the Standard Schema interface (as zod, valibot, … provide), by hand. */
const nameIsText = {
  "~standard": {
    version: 1 as const,
    vendor: "by-hand",
    types: undefined as { input: unknown; output: { name: string } } | undefined,
    validate: (v: unknown) =>
      typeof (v as { name?: unknown })?.name === "string"
        ? { value: v as { name: string } }
        : { issues: [{ message: "name must be text", path: ["name"] }] },
  },
}
const shapes = definePlugin({
  id: "shapes",
  title: "Shapes",
  routes: () =>
    new Elysia()
      .get("/api/v1/shapes", () => ok, {
        query: t.Object({
          limit: t.Optional(t.Numeric({ minimum: 1, maximum: 1000 })),
          page: t.Optional(t.Integer({ minimum: 1, maximum: 5000 })),
          offset: t.Optional(t.Numeric({ minimum: 0, maximum: 100000 })),
          bucket: t.Optional(t.Numeric({ minimum: 1 })),
          flag: t.Optional(t.Boolean()),
          order: t.Optional(t.Union([t.Literal("asc"), t.Literal("desc")])),
        }),
      })
      .get("/api/v1/shapes/:id", () => ok, { params: t.Object({ id: t.Integer({ minimum: 1 }) }) })
      .get("/api/v1/shapes/:id/around", () => ok, {
        params: t.Object({ id: t.Numeric({ minimum: 1 }) }),
        query: t.Object({
          before: t.Optional(t.Numeric({ minimum: 0, maximum: 1000 })),
          after: t.Optional(t.Numeric({ minimum: 0, maximum: 1000 })),
        }),
      })
      .guard({ query: t.Object({ size: t.Optional(t.Numeric({ maximum: 10 })) }) }, (g) =>
        g.get("/api/v1/shapes/guarded", () => ok),
      )
      .guard(
        { schema: "standalone", query: t.Object({ depth: t.Optional(t.Integer({ maximum: 3 })) }) },
        (g) => g.get("/api/v1/shapes/standalone", () => ok),
      )
      .post("/api/v1/shapes/standard", () => ok, { body: nameIsText })
      .post("/api/v1/shapes", () => ok, {
        body: t.Object({
          text: t.String({ minLength: 1, maxLength: 10 }),
          count: t.Optional(t.Integer({ minimum: 0, maximum: 10 })),
          weight: t.Optional(t.Numeric({ maximum: 5 })),
        }),
      }),
})

let app: TestApp
let base: string
beforeAll(async () => {
  app = await createTestApp({ plugins: [shapes] })
  base = await app.listen()
}, 30_000)
afterAll(async () => {
  await app.close()
}, 30_000)

type Refusal = { error: { code: string; message: string; details: Array<{ path: string; message: string }> } }
async function refused(path: string, init?: RequestInit): Promise<Refusal> {
  const res = await fetch(`${base}${path}`, init)
  const body = (await res.json()) as Refusal
  expect(res.status).toBe(422)
  expect(body.error.code).toBe("validation_failed")
  return body
}

describe("a 422 names the parameter and the problem", () => {
  test.each([
    ["/api/v1/shapes?limit=0", "query", "/limit", "must be ≥ 1, got 0"],
    ["/api/v1/shapes?limit=100000", "query", "/limit", "must be ≤ 1000, got 100000"],
    ["/api/v1/shapes?page=5001", "query", "/page", "must be ≤ 5000, got 5001"],
    ["/api/v1/shapes?bucket=0", "query", "/bucket", "must be ≥ 1, got 0"],
    ["/api/v1/shapes/1/around?before=-1", "query", "/before", "must be ≥ 0, got -1"],
    ["/api/v1/shapes/0", "params", "/id", "must be ≥ 1, got 0"],
    ["/api/v1/shapes/0/around", "params", "/id", "must be ≥ 1, got 0"],
    ["/api/v1/shapes/guarded?size=11", "query", "/size", "must be ≤ 10, got 11"],
    ["/api/v1/shapes/standalone?depth=4", "query", "/depth", "must be ≤ 3, got 4"],
  ])("a value out of range: %s", async (path, where, param, problem) => {
    const b = await refused(path)
    expect(b.error.details).toEqual([{ path: param, message: problem }])
    expect(b.error.message).toBe(`invalid ${where}: ${param.slice(1)}: ${problem}`)
  })

  test("of two parameters with the same value, the one whose own range it breaks", async () => {
    // offset=5000 is within its range; limit=5000 is not
    const b = await refused("/api/v1/shapes?offset=5000&limit=5000")
    expect(b.error.message).toBe("invalid query: limit: must be ≤ 1000, got 5000")
    const after = await refused("/api/v1/shapes/3/around?before=3&after=3000")
    expect(after.error.message).toBe("invalid query: after: must be ≤ 1000, got 3000")
  })

  test.each([
    ["/api/v1/shapes?limit=abc", "invalid query: limit: must be a number, got 'abc'"],
    ["/api/v1/shapes?page=abc", "invalid query: page: must be an integer, got 'abc'"],
    ["/api/v1/shapes?page=1.5", "invalid query: page: must be an integer, got '1.5'"],
    ["/api/v1/shapes/abc", "invalid params: id: must be an integer, got 'abc'"],
    ["/api/v1/shapes/abc/around", "invalid params: id: must be a number, got 'abc'"],
    ["/api/v1/shapes?flag=maybe", "invalid query: flag: must be true or false, got 'maybe'"],
    ["/api/v1/shapes?order=up", "invalid query: order: must be one of 'asc', 'desc', got 'up'"],
  ])("a value of the wrong kind: %s", async (path, message) => {
    const b = await refused(path)
    expect(b.error.message).toBe(message)
    expect(b.error.details[0]?.path).toBe(`/${message.split(": ")[1]}`)
    expect(JSON.stringify(b)).not.toContain("should be one of")
  })

  test.each([
    [{ text: 5 }, "invalid body: text: must be a string, got 5", "/text"],
    [{ text: "" }, "invalid body: text: must not be empty", "/text"],
    [{ text: "x".repeat(11) }, "invalid body: text: must be at most 10 characters, got 11", "/text"],
    [{}, "invalid body: text: is required", "/text"],
    [{ text: "a", count: 11 }, "invalid body: count: must be ≤ 10, got 11", "/count"],
    [{ text: "a", weight: 9 }, "invalid body: weight: must be ≤ 5, got 9", "/weight"],
  ])("a body: %j", async (json, message, path) => {
    const b = await refused("/api/v1/shapes", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(json),
    })
    expect(b.error.message).toBe(message)
    expect(b.error.details[0]?.path).toBe(path)
  })

  test("a Standard Schema validator's problem is its own message, with its path", async () => {
    const b = await refused("/api/v1/shapes/standard", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: 5 }),
    })
    expect(b.error.message).toBe("invalid body: name: name must be text")
    expect(b.error.details).toEqual([{ path: "name", message: "name must be text" }])
  })

  test("a long value is shortened in the message", async () => {
    const b = await refused(`/api/v1/shapes?limit=${"9".repeat(200)}x`)
    expect(b.error.message.length).toBeLessThan(150)
    expect(b.error.message).toStartWith("invalid query: limit: must be a number, got '999")
  })

  test("valid values still pass", async () => {
    for (const path of [
      "/api/v1/shapes?limit=1000&page=5000&bucket=1&flag=true",
      "/api/v1/shapes/1/around?before=0",
    ])
      expect((await fetch(`${base}${path}`)).status).toBe(200)
  })
})
