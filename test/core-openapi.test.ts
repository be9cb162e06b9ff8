/**
 * OpenAPI: `/openapi/json` is a valid OpenAPI 3.1 document (checked by a real validator), every native API
 * route has a summary, a tag, request and response schemas, and UI routes are hidden. The second part
 * loads EVERY built-in plugin and lists exactly which routes lack what.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Validator } from "@seriousme/openapi-schema-validator"
import Ajv2020 from "ajv/dist/2020"
import addFormats from "ajv-formats"
import { loadBuiltins } from "../src/boot"
import type { LoadFailure } from "../src/plugin/host"
import { samplePlugin } from "./core-sample-plugin"
import { createTestApp, type TestApp } from "./support"

type Operation = {
  summary?: string
  tags?: string[]
  parameters?: Array<{ name: string; in: string; schema?: unknown }>
  requestBody?: { content?: Record<string, { schema?: unknown }> }
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>
}
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>> }
const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"]

async function documentOf(app: TestApp): Promise<Doc> {
  const res = await app.request("/openapi/json")
  expect(res.status).toBe(200)
  return (await res.json()) as Doc
}

async function validate(doc: Doc): Promise<string[]> {
  const validator = new Validator()
  const res = await validator.validate(structuredClone(doc) as unknown as Record<string, unknown>)
  return res.valid ? [] : (res.errors as unknown[]).map((e) => JSON.stringify(e)).slice(0, 20)
}

/** For each native API operation, what it lacks. Empty = complete. */
function incomplete(doc: Doc): string[] {
  const problems: string[] = []
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!path.startsWith("/api/")) continue
    for (const method of METHODS) {
      const op = item[method]
      if (!op) continue
      const lacks: string[] = []
      if (!op.summary) lacks.push("summary")
      if (!op.tags?.length) lacks.push("tag")
      const ok = Object.entries(op.responses ?? {}).filter(([s]) => /^2\d\d$/.test(s))
      if (!ok.some(([s, r]) => s === "204" || Object.values(r.content ?? {}).some((c) => c.schema)))
        lacks.push("2xx response schema")
      // a body-less action (POST …/run) has no request body; one that is documented must have a schema
      if (op.requestBody && !Object.values(op.requestBody.content ?? {}).some((c) => c.schema))
        lacks.push("request body schema")
      for (const name of path.match(/\{[^}]+\}/g) ?? []) {
        const p = op.parameters?.find((x) => x.in === "path" && `{${x.name}}` === name)
        if (!p?.schema) lacks.push(`path parameter ${name} schema`)
      }
      if (lacks.length) problems.push(`${method.toUpperCase()} ${path}: lacks ${lacks.join(", ")}`)
    }
  }
  return problems
}

const hiddenLeaks = (doc: Doc) =>
  Object.keys(doc.paths).filter((p) => p === "/" || p.startsWith("/ui") || p.startsWith("/assets"))

describe("OpenAPI with the core and a sample plugin", () => {
  let app: TestApp
  let doc: Doc
  beforeAll(async () => {
    app = await createTestApp({ plugins: [samplePlugin] })
    doc = await documentOf(app)
  }, 30_000)
  afterAll(() => app.close(), 30_000)

  test("valid OpenAPI 3.1", async () => {
    expect(doc.openapi).toStartWith("3.1")
    expect(await validate(doc)).toEqual([])
  })

  test("every native API route has summary, tag, request and response schemas", () => {
    expect(Object.keys(doc.paths)).toContain("/api/v1/sample/notes")
    expect(Object.keys(doc.paths)).toContain("/api/v1/tokens")
    expect(incomplete(doc)).toEqual([])
    const post = doc.paths["/api/v1/sample/notes"].post
    expect(post.tags).toEqual(["sample"])
    expect(post.requestBody?.content?.["application/json"]?.schema).toBeDefined()
    expect(Object.keys(post.responses ?? {})).toEqual(expect.arrayContaining(["201", "422"]))
  })

  test("POST /api/v1/tokens takes JSON alone (no form types offered)", () => {
    expect(Object.keys(doc.paths["/api/v1/tokens"].post.requestBody?.content ?? {})).toEqual([
      "application/json",
    ])
  })

  test("the check itself catches a route without schemas", () => {
    const broken: Doc = structuredClone(doc)
    broken.paths["/api/v1/sample/notes"].post = {
      requestBody: { content: { "application/json": {} } },
      responses: {},
    }
    expect(incomplete(broken)).toEqual([
      "POST /api/v1/sample/notes: lacks summary, tag, 2xx response schema, request body schema",
    ])
  })

  test("UI routes, assets and the home page are hidden", () => {
    expect(hiddenLeaks(doc)).toEqual([])
  })

  test("Swagger UI is served from Logbook's own assets", async () => {
    const page = await (await app.request("/openapi")).text()
    expect(page).toContain("/assets/swagger-ui-bundle.js")
    expect(page).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)[a-z]/i)
    expect((await app.request("/assets/swagger-ui-bundle.js")).status).toBe(200)
  })
})

describe("OpenAPI with ALL built-in plugins", () => {
  let app: TestApp | undefined
  let doc: Doc
  const failures: LoadFailure[] = []
  beforeAll(async () => {
    const builtins = await loadBuiltins(failures)
    app = await createTestApp({ plugins: builtins.map((b) => b.plugin) })
    doc = await documentOf(app)
    for (const info of app.host.infos) if (info.status === "failed") failures.push(info as LoadFailure)
  }, 30_000)
  afterAll(() => app?.close(), 30_000)

  test("every built-in plugin loads", () => {
    expect(failures.map((f) => `${f.id}: ${f.error?.split("\n")[0]}`)).toEqual([])
  })

  test("the document is valid OpenAPI 3.1", async () => {
    expect(await validate(doc)).toEqual([])
  })

  test("every native API route is complete (this list names the routes that are not)", () => {
    expect(incomplete(doc)).toEqual([])
  })

  test("no UI route leaks into the document", () => {
    expect(hiddenLeaks(doc)).toEqual([])
  })
})

/**
 * Every documented GET route of changes, records and health, called with seeded data: the real answer
 * must match the schema the document gives for its status (so a schema drifting from the code fails here).
 */
describe("documented responses match real answers", () => {
  let app: TestApp | undefined
  let doc: Doc
  beforeAll(async () => {
    const builtins = await loadBuiltins([])
    app = await createTestApp({ plugins: builtins.map((b) => b.plugin) })
    doc = await documentOf(app)
  }, 30_000)
  afterAll(() => app?.close(), 30_000)

  test("each GET route of changes, records and health answers what its schema says", async () => {
    const a = app as TestApp
    const change = await a.request("/api/v1/changes", {
      method: "POST",
      json: { category: "deploy", description: "v1.2 out", criticality: 3, service: "api" },
    })
    expect(change.status).toBe(201)
    const changeId = ((await change.json()) as { ids: number[] }).ids[0]
    const now = a.clock.now() / 1000
    const rec = await a.request("/api/v1/records", {
      method: "POST",
      json: [
        { name: "app.db", created: now - 2, levelno: 30, msg: "slow %s", args: ["query"], extra_key: 1 },
        { name: "app.web", created: now - 1, levelno: 40, message: "boom" },
      ],
    })
    expect(rec.status).toBe(201)
    const recordId = ((await rec.json()) as { ids: number[] }).ids[0]
    const overview = (await (await a.request("/api/v1/health")).json()) as { checks: Array<{ name: string }> }
    const checkName = overview.checks[0]?.name
    // the first results are stored as transitions from null (written behind the answer): wait for them
    for (let i = 0; i < 50; i++) {
      const t = (await (await a.request("/api/v1/health/transitions")).json()) as { transitions: unknown[] }
      if (t.transitions.length) break
      await Bun.sleep(50)
    }
    const stored = (await (await a.request("/api/v1/health/transitions")).json()) as {
      transitions: Array<{ from: unknown }>
    }
    expect(stored.transitions.some((t) => t.from === null)).toBe(true)

    const ajv = new Ajv2020({ strict: false, allErrors: true })
    addFormats(ajv)
    const checked: string[] = []
    const problems: string[] = []
    for (const [path, item] of Object.entries(doc.paths)) {
      if (!/^\/api\/v1\/(changes|records|health)/.test(path) || path.endsWith("/stream")) continue
      const op = item.get
      if (!op) continue
      if (path.includes("{name}") && !checkName) continue
      const url = path
        .replace("/changes/{id}", `/changes/${changeId}`)
        .replace("/records/{id}", `/records/${recordId}`)
        .replace("{name}", encodeURIComponent(checkName ?? ""))
      const res = await a.request(url)
      const schema = op.responses?.[String(res.status)]?.content?.["application/json"]?.schema
      if (res.status !== 200 || !schema) {
        problems.push(`GET ${url}: ${res.status}${schema ? "" : " (no schema documented)"}`)
        continue
      }
      const body = await res.json()
      if (!ajv.validate(schema as object, body))
        problems.push(`GET ${url}: ${ajv.errorsText(ajv.errors)} in ${JSON.stringify(body).slice(0, 300)}`)
      checked.push(path)
    }
    expect(problems).toEqual([])
    expect(checked).toEqual(
      expect.arrayContaining([
        "/api/v1/changes",
        "/api/v1/changes/{id}",
        "/api/v1/changes/counts",
        "/api/v1/records",
        "/api/v1/records/{id}",
        "/api/v1/records/{id}/around",
        "/api/v1/records/histogram",
        "/api/v1/records/loggers",
        "/api/v1/health",
        "/api/v1/health/transitions",
      ]),
    )
  })

  test("records and changes refuse a non-integer limit or id alike (422)", async () => {
    const a = app as TestApp
    for (const url of [
      "/api/v1/records?limit=1.5",
      "/api/v1/records/1.5",
      "/api/v1/records/histogram?bucket=0.5",
      "/api/v1/changes?limit=1.5",
      "/api/v1/changes/1.5",
    ])
      expect(`${url} ${(await a.request(url)).status}`).toBe(`${url} 422`)
  })
})
