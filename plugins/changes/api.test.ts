/**
 * The native API (/api/v1/changes) and the change timeline service other plugins use.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test"
import { Validator } from "@seriousme/openapi-schema-validator"
import { createToken } from "../../src/auth/tokens"
import { definePlugin, type PluginContext } from "../../src/plugin/contract"
import { createTestApp, type TestApp } from "../../test/support"
import changes from "./plugin"

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0)

interface Item {
  id: number
  timestamp: number
  criticality: number | null
  criticality_name: string
  category: string
  description: string
  source: string
  service: string | null
  tags: Record<string, string>
}

// another plugin putting events on the timeline through its context
let otherCtx: PluginContext | undefined
const other = definePlugin({
  id: "deployer",
  title: "Deployer (test)",
  setup(ctx) {
    otherCtx = ctx
  },
})

describe("native API", () => {
  let app: TestApp
  const create = (json: unknown, headers?: Record<string, string>) =>
    app.request("/api/v1/changes", { method: "POST", json, headers })
  const list = async (query = "") => {
    const r = await app.request(`/api/v1/changes${query}`)
    expect(r.status).toBe(200)
    return (await r.json()) as { items: Item[]; next_cursor: string | null }
  }
  const count = async () =>
    Number((await app.db.get<{ n: number }>("SELECT count(*) AS n FROM changes_events"))?.n)

  beforeAll(async () => {
    app = await createTestApp({ plugins: [changes, other] })
  })
  afterAll(() => app.close())
  beforeEach(async () => {
    await app.db.run("DELETE FROM changes_events")
    app.clock.set(T0)
  })

  test("create one: names and numbers for criticality, s or ms timestamps, default now", async () => {
    let r = await create({
      category: "deploy",
      description: "api v2",
      criticality: "warning",
      service: "api",
    })
    expect(r.status).toBe(201)
    const { ids } = (await r.json()) as { ids: number[] }
    expect(r.headers.get("location")).toBe(`/api/v1/changes/${ids[0]}`)
    r = await app.request(`/api/v1/changes/${ids[0]}`)
    const e = (await r.json()) as Item
    expect(e).toMatchObject({
      timestamp: T0,
      criticality: 3,
      criticality_name: "warning",
      source: "api",
      service: "api",
      tags: {},
    })
    await create({ category: "a", description: "s", timestamp: 1795342058 })
    await create({ category: "a", description: "ms", timestamp: 1795342058123 })
    await create({ category: "a", description: "iso", timestamp: "2026-11-22T09:00:00Z", criticality: 5 })
    const items = (await list()).items
    expect(items.map((i) => [i.description, i.timestamp])).toEqual([
      ["ms", 1795342058123],
      ["s", 1795342058000],
      ["api v2", T0],
      ["iso", Date.UTC(2026, 10, 22, 9)],
    ])
    expect((await app.request("/api/v1/changes/999999")).status).toBe(404)
  })

  test("create an array, all or nothing; bad input → 422 naming the field, nothing stored", async () => {
    let r = await create([
      { category: "a", description: "1", tags: { team: "core", "k8s.io/app": "x" } },
      {
        category: "b",
        description: "2",
        url: "https://ci.example/run/1",
        environment: "prod",
        author: "ann",
      },
    ])
    expect(r.status).toBe(201)
    expect(((await r.json()) as { ids: number[] }).ids.length).toBe(2)
    const ok = { category: "a", description: "ok" }
    // body → the start of the message: the item (for arrays) and the field, then what is wrong
    const bad: Array<[unknown, string]> = [
      [[ok, { category: "a", description: "x", criticality: 9 }], "[1].criticality: must be 1–5 or one of"],
      [[ok, ok, { category: "a", description: "x", criticality: 0 }], "[2].criticality: must be 1–5"],
      [{ category: "a", description: "x", criticality: 6 }, "criticality: must be 1–5"],
      [{ category: "a", description: "x", criticality: "loud" }, "criticality: must be 1–5 or one of info"],
      [
        { category: "a", description: "x", url: "javascript:alert(1)" },
        "url: must be an http:// or https://",
      ],
      [{ category: "a", description: "x", timestamp: "yesterday" }, "timestamp: must be epoch seconds"],
      [{ category: "a" }, "description: is required"],
      [[ok, { description: "x" }], "[1].category: is required"],
      [
        { category: "a", description: "x".repeat(10_001) },
        "description: is 10001 characters; the maximum is 10000",
      ],
      [{ category: "a", description: "x", tags: { "bad key": "v" } }, 'tags: tag name "bad key" must match'],
      [{ category: "a", description: "x", tags: { team: 5 } }, "tags.team: must be a string; got 5"],
      [[ok, { category: "a", description: "x", tags: { team: true } }], "[1].tags.team: must be a string"],
      [{ category: "a", description: "x", service: null }, "service: must not be null"],
      [{ category: 7, description: "x" }, "category: must be a string; got 7"],
      [[ok, "deploy"], "[1]: must be a change object"],
      ["deploy", "(root): must be a change object or an array of 1 to 1000"],
      [[], "(root): empty array: send a change object or an array of 1 to 1000"],
      [Array.from({ length: 1001 }, () => ok), "(root): 1001 changes in one array; the maximum is 1000"],
    ]
    for (const [b, start] of bad) {
      r = await create(b)
      expect(r.status).toBe(422)
      const body = (await r.json()) as {
        error: { code: string; message: string; details: Array<{ path: string; message: string }> }
      }
      expect(body.error.code).toBe("validation_failed")
      expect(body.error.message).toStartWith(start)
      expect(body.error.message).toEndWith("; nothing was stored")
      expect(`${body.error.details[0].path}: ${body.error.details[0].message}`).toStartWith(start)
    }
    // every problem of every item is in the details; the message names the first and counts the others
    r = await create([
      { category: "a" },
      ok,
      { category: "a", description: "x", criticality: 0, url: "ftp://x" },
    ])
    const all = (await r.json()) as { error: { message: string; details: Array<{ path: string }> } }
    expect(all.error.details.map((d) => d.path)).toEqual(["[0].description", "[2].url", "[2].criticality"])
    expect(all.error.message).toStartWith("[0].description: is required (and 2 more, see details)")
    r = await app.request("/api/v1/changes", {
      method: "POST",
      body: "{nope",
      headers: { "content-type": "application/json" },
    })
    expect(r.status).toBe(400)
    expect(await count()).toBe(2)
  })

  test("JSON only: a form or text body is a 415 naming the type to send, nothing stored; OpenAPI lists JSON alone", async () => {
    const post = (body: BodyInit, type?: string) =>
      app.request("/api/v1/changes", {
        method: "POST",
        body,
        headers: type ? { "content-type": type } : undefined,
      })
    const refused = async (r: Response, type: string) => {
      expect(r.status).toBe(415)
      expect(((await r.json()) as { error: { message: string } }).error.message).toBe(
        `a body of type ${type} is not accepted here; send application/json`,
      )
    }
    await refused(
      await post("category=a&description=b", "application/x-www-form-urlencoded"),
      "application/x-www-form-urlencoded",
    )
    await refused(
      await post(new URLSearchParams({ category: "a", description: "b" })),
      "application/x-www-form-urlencoded",
    )
    const form = new FormData()
    form.set("category", "a")
    form.set("description", "b")
    await refused(await post(form), "multipart/form-data")
    await refused(await post('{"category":"a","description":"b"}', "text/plain"), "text/plain")
    expect(await count()).toBe(0)
    // JSON, with a charset or as another +json type, or sent without a type
    const json = '{"category":"a","description":"b"}'
    expect((await post(json, "application/json; charset=utf-8")).status).toBe(201)
    expect((await post(json, "application/merge-patch+json")).status).toBe(201)
    expect((await post(new TextEncoder().encode(json))).status).toBe(201) // bytes: no Content-Type
    const empty = await app.request("/api/v1/changes", { method: "POST" })
    expect(empty.status).toBe(422)
    expect(await empty.text()).toContain("no body: send a change object or an array of 1 to 1000 as JSON")
    expect(await count()).toBe(3)
    // the changelog API keeps parsing any Content-Type as JSON (its clients' wire format)
    const legacy = await app.request("/api/events", {
      method: "POST",
      body: '{"criticality":1,"unix_timestamp":1795000000,"category":"a","description":"b"}',
      headers: { "content-type": "application/x-www-form-urlencoded" },
    })
    expect(legacy.status).toBe(201)
    expect(await count()).toBe(4)
    const doc = (await (await app.request("/openapi/json")).json()) as {
      paths: Record<
        string,
        { post: { requestBody: { content: Record<string, unknown> }; responses: object } }
      >
    }
    const op = doc.paths["/api/v1/changes"].post
    expect(Object.keys(op.requestBody.content)).toEqual(["application/json"])
    expect(Object.keys(op.responses)).toContain("415")
  })

  test("a wrong value or type in any field is a 422 naming that field (and the item), never the whole body", async () => {
    const fields = ["category", "description", "criticality", "timestamp", "service", "environment"]
    fields.push("author", "url", "tags")
    const values: unknown[] = [null, 0, 2.5, -1, true, "", "x".repeat(300), {}, [], { a: 1 }, ["x"], 1e300]
    let stored = 0
    for (const field of fields)
      for (const value of values)
        for (const batch of [false, true]) {
          const item = { category: "deploy", description: "d", [field]: value }
          const r = await create(batch ? [{ category: "a", description: "b" }, item] : item)
          if (r.status === 201) {
            stored += batch ? 2 : 1 // valid after all (an empty service, tags {}, a short category…)
            continue
          }
          const b = (await r.json()) as { error: { message: string } }
          expect({ field, value, status: r.status }).toEqual({ field, value, status: 422 })
          expect(b.error.message).toStartWith(batch ? `[1].${field}` : field)
        }
    expect(stored).toBeGreaterThan(0)
    expect(await count()).toBe(stored)
  })

  test("filters: window, criticality list/minimum, category, service, environment, tag, text", async () => {
    const mk = (o: Record<string, unknown>) => ({ category: "deploy", description: "d", ...o })
    await create([
      mk({ description: "old", timestamp: T0 - 2 * 3600_000 }),
      mk({
        description: "crit api",
        criticality: 5,
        service: "api",
        environment: "prod",
        tags: { team: "core" },
      }),
      mk({
        description: "warn web 100%",
        criticality: 3,
        service: "web",
        environment: "staging",
        category: "flag",
      }),
      mk({ description: "future", timestamp: T0 + 60_000 }),
    ])
    const d = async (q: string) => (await list(q)).items.map((i) => i.description)
    expect(await d("?window=1h")).toEqual(["future", "warn web 100%", "crit api"])
    expect(await d(`?window=1h&until=${T0}`)).toEqual(["warn web 100%", "crit api"])
    expect(await d(`?since=${T0 - 3 * 3600_000}&until=${new Date(T0 - 3600_000).toISOString()}`)).toEqual([
      "old",
    ])
    expect(await d("?criticality=5,warning")).toEqual(["warn web 100%", "crit api"])
    expect(await d("?min_criticality=4")).toEqual(["crit api"])
    expect(await d("?category=flag")).toEqual(["warn web 100%"])
    expect(await d("?service=api,nothing")).toEqual(["crit api"])
    expect(await d("?environment=staging")).toEqual(["warn web 100%"])
    expect(await d("?tag=team:core")).toEqual(["crit api"])
    expect(await d("?tag=team:other")).toEqual([])
    expect(await d("?q=WEB%20100%25")).toEqual(["warn web 100%"])
    expect(await d("?q=_")).toEqual([])
    for (const q of ["?window=soon", "?criticality=7", "?until=tomorrow", "?tag=novalue", "?cursor=xyz"])
      expect((await app.request(`/api/v1/changes${q}`)).status).toBe(400)
    const c = await app.request("/api/v1/changes/counts?window=1h")
    expect(await c.json()).toEqual({
      from: T0 - 3600_000,
      until: T0,
      total: 3,
      categories: [
        { category: "deploy", count: 2 },
        { category: "flag", count: 1 },
      ],
    })
  })

  test("cursor pagination walks every event once, newest first, ties by id", async () => {
    const batch = Array.from({ length: 25 }, (_, i) => ({
      category: "c",
      description: `e${i}`,
      timestamp: T0 - Math.floor(i / 3) * 1000, // groups of equal timestamps
    }))
    await create(batch)
    const seen: string[] = []
    let cursor: string | null = ""
    let pages = 0
    while (cursor !== null) {
      const page = await list(`?limit=7${cursor ? `&cursor=${cursor}` : ""}`)
      seen.push(...page.items.map((i) => i.description))
      cursor = page.next_cursor
      pages++
    }
    expect(pages).toBe(4)
    expect(new Set(seen).size).toBe(25)
    expect(seen.slice(0, 3)).toEqual(["e2", "e1", "e0"])
  })

  test("ctx.changes.record from another plugin lands with its id as source", async () => {
    if (!otherCtx) throw new Error("the test plugin was not set up")
    await otherCtx.changes.record({ category: "deploy", description: "rolled out v7", criticality: 4 })
    const items = (await list()).items
    expect(items.map((i) => [i.source, i.description, i.criticality])).toEqual([
      ["deployer", "rolled out v7", 4],
    ])
    const between = await otherCtx.changes.between(T0 - 1000, T0 + 1000)
    expect(between.map((e) => e.description)).toEqual(["rolled out v7"])
    expect(await otherCtx.changes.between(T0 - 1000, T0 + 1000, { minCriticality: 5 })).toEqual([])
    await expect(
      otherCtx.changes.record({ category: "x", description: "y".repeat(10_001) }),
    ).rejects.toThrow()
    // the compat list shows it too
    const compat = (await (await app.request("/api/events?hours_ago=1")).json()) as unknown[]
    expect(compat.length).toBe(1)
  })
})

describe("OpenAPI", () => {
  test("the document with the changes plugin is valid; every /api/v1/changes operation has summary, tag, schemas", async () => {
    const app = await createTestApp({ plugins: [changes] })
    try {
      const doc = (await (await app.request("/openapi/json")).json()) as {
        paths: Record<string, Record<string, { summary?: string; tags?: string[]; responses?: object }>>
      }
      const res = await new Validator().validate(structuredClone(doc) as unknown as Record<string, unknown>)
      expect(res.errors ?? []).toEqual([])
      const ops = Object.entries(doc.paths).filter(([p]) => p.startsWith("/api/v1/changes"))
      expect(ops.map(([p]) => p).sort()).toEqual([
        "/api/v1/changes",
        "/api/v1/changes/counts",
        "/api/v1/changes/{id}",
      ])
      for (const [, item] of ops)
        for (const op of Object.values(item)) {
          expect(op.summary?.length).toBeGreaterThan(5)
          expect(op.tags).toEqual(["changes"])
          expect(Object.keys(op.responses ?? {})).toContain(op === item.post ? "201" : "200")
        }
      // the compatibility and UI routes stay out of the document
      expect(Object.keys(doc.paths).filter((p) => p === "/api/events" || p.startsWith("/ui/"))).toEqual([])
    } finally {
      await app.close()
    }
  })
})

describe("native API roles", () => {
  let app: TestApp
  beforeAll(async () => {
    app = await createTestApp({ plugins: [changes], env: { LOGBOOK_ANONYMOUS: "" } })
  })
  afterAll(() => app.close())

  test("create needs ingest, reads need read", async () => {
    const json = { category: "a", description: "b" }
    expect((await app.request("/api/v1/changes", { method: "POST", json })).status).toBe(401)
    expect((await app.request("/api/v1/changes")).status).toBe(401)
    const { token: reader } = await createToken(app.db, { name: "reader", roles: ["read"], now: T0 })
    const { token: writer } = await createToken(app.db, { name: "writer", roles: ["ingest"], now: T0 })
    const auth = (tk: string) => ({ authorization: `Bearer ${tk}` })
    expect(
      (await app.request("/api/v1/changes", { method: "POST", json, headers: auth(reader) })).status,
    ).toBe(403)
    expect(
      (await app.request("/api/v1/changes", { method: "POST", json, headers: auth(writer) })).status,
    ).toBe(201)
    expect((await app.request("/api/v1/changes", { headers: auth(writer) })).status).toBe(403)
    expect((await app.request("/api/v1/changes", { headers: auth(reader) })).status).toBe(200)
    expect((await app.request("/api/events?hours_ago=1", { headers: auth(reader) })).status).toBe(200)
    expect((await app.request("/api/events?hours_ago=1")).status).toBe(401)
  })

  test("a caller without the ingest role is refused before the body is judged", async () => {
    const bad = { category: "a" } // no description: a 422 for a caller who may ingest
    expect((await app.request("/api/v1/changes", { method: "POST", json: bad })).status).toBe(401)
    const { token: reader } = await createToken(app.db, { name: "reader-2", roles: ["read"], now: T0 })
    const headers = { authorization: `Bearer ${reader}` }
    expect((await app.request("/api/v1/changes", { method: "POST", json: bad, headers })).status).toBe(403)
    // a body of a refused type too: the role first, then the type (415)
    const form = { method: "POST", body: "category=a&description=b" }
    const formType = { "content-type": "application/x-www-form-urlencoded" }
    expect((await app.request("/api/v1/changes", { ...form, headers: formType })).status).toBe(401)
    expect(
      (await app.request("/api/v1/changes", { ...form, headers: { ...headers, ...formType } })).status,
    ).toBe(403)
  })
})
