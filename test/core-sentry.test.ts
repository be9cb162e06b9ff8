/**
 * Sentry: a spawned server with SENTRY_DSN pointing at a fake Sentry (Bun.serve on 127.0.0.1) reports an
 * error thrown by a route, tagged with the request id, without the per-request server integrations.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { createEventBus } from "../src/plugin/registries"
import { initSentry } from "../src/sentry"
import { spawnEnv, spawnServer } from "./core-spawn"

const DROP_IN = `import { definePlugin, Elysia } from "logbook"
export default definePlugin({
  id: "thrower",
  title: "Thrower",
  routes: () => new Elysia().get("/api/v1/thrower", () => { throw new Error("sentry-test-explosion") }, { detail: { hide: true } }),
})
`

type Envelope = {
  header: Record<string, unknown>
  items: Array<{ header: { type: string }; payload: Record<string, unknown> }>
}
const envelopes: Envelope[] = []
let fake: ReturnType<typeof Bun.serve>
let s: Awaited<ReturnType<typeof spawnEnv>>

beforeAll(async () => {
  fake = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const text = new TextDecoder().decode(await req.arrayBuffer())
      if (new URL(req.url).pathname === "/api/1/envelope/") {
        const lines = text.split("\n").filter(Boolean)
        const env: Envelope = { header: JSON.parse(lines[0]), items: [] }
        for (let i = 1; i + 1 < lines.length; i += 2)
          env.items.push({ header: JSON.parse(lines[i]), payload: JSON.parse(lines[i + 1]) })
        envelopes.push(env)
      }
      return Response.json({ id: "0" })
    },
  })
  s = await spawnEnv()
  mkdirSync(s.env.LOGBOOK_PLUGINS_DIR, { recursive: true })
  writeFileSync(join(s.env.LOGBOOK_PLUGINS_DIR, "thrower.ts"), DROP_IN)
}, 30_000)
afterAll(async () => {
  fake.stop(true)
  await s.cleanup()
}, 30_000)

test("without SENTRY_DSN nothing is initialised", async () => {
  expect(
    await initSentry({ dsn: "", environment: "x", release: "y", events: createEventBus(() => {}) }),
  ).toBeUndefined()
})

test("an error thrown by a route reaches Sentry with the request id", async () => {
  const server = await spawnServer({
    ...s.env,
    SENTRY_DSN: `http://public@127.0.0.1:${fake.port}/1`,
    LOGBOOK_SENTRY_ENVIRONMENT: "test-env",
  })
  try {
    const res = await fetch(`${server.url}/api/v1/thrower`, { headers: { "x-request-id": "sentry-req-1" } })
    expect(res.status).toBe(500)
    expect(await res.text()).not.toContain("sentry-test-explosion")
    const deadline = Date.now() + 10_000
    const find = () =>
      envelopes
        .flatMap((e) => e.items)
        .find((i) => i.header.type === "event" && JSON.stringify(i.payload).includes("sentry-test-explosion"))
    while (!find() && Date.now() < deadline) await Bun.sleep(50)
    const event = find()?.payload as {
      tags?: Record<string, string>
      environment?: string
      exception?: { values: Array<{ value: string }> }
      sdk?: { integrations?: string[] }
      contexts?: { request?: { path?: string } }
    }
    expect(event).toBeDefined()
    expect(event.exception?.values[0].value).toBe("sentry-test-explosion")
    expect(event.tags?.request_id).toBe("sentry-req-1")
    expect(event.environment).toBe("test-env")
    expect(event.contexts?.request?.path).toBe("/api/v1/thrower")
    // the per-request instrumentation that costs 4–8× throughput is not installed
    const integrations = event.sdk?.integrations ?? []
    expect(integrations.length).toBeGreaterThan(0)
    for (const name of ["BunServer", "BunHttpServer", "Http"]) expect(integrations).not.toContain(name)
  } finally {
    expect(await server.stop()).toBe(0)
  }
})
