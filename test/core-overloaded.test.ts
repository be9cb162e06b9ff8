/**
 * A full write queue (503) on compatibility routes keeps their original error shape (plugins' `overloaded`,
 * the sibling of `bodyTooLarge`): changelog clients get `{"message": …}` from POST /api/events, Chronologer
 * clients `{"error": {"type", "message"}}` from POST /api/v1/record — through the fast route (a plain POST
 * on a real socket) and through the router (in-process, no Content-Length) — always with Retry-After.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import changes from "../plugins/changes/plugin"
import records from "../plugins/records/plugin"
import { createTestApp, type TestApp } from "./support"

let app: TestApp
let base: string
beforeAll(async () => {
  app = await createTestApp({ plugins: [records, changes], env: { LOGBOOK_WRITER_QUEUE_MAX: "2" } })
  base = await app.listen()
}, 30_000)
afterAll(() => app.close(), 30_000)

/** A burst of concurrent posts against a queue of 2 rows: the 503s among the answers. */
async function refusedOf(send: () => Promise<Response>): Promise<Response[]> {
  const answers = await Promise.all(Array.from({ length: 200 }, send))
  const refused = answers.filter((r) => r.status === 503)
  expect(refused.length).toBeGreaterThan(0)
  expect(answers.every((r) => r.status === 201 || r.status === 503)).toBe(true)
  return refused
}

const RECORD = {
  method: "POST",
  body: "name=a&msg=m&levelno=20&created=1",
  headers: { "content-type": "application/x-www-form-urlencoded" },
}
const EVENT = {
  method: "POST",
  body: JSON.stringify({ criticality: 1, unix_timestamp: 1795342058, category: "c", description: "d" }),
  headers: { "content-type": "application/json" },
}

describe("503 on a full write queue, in the compatibility shapes", () => {
  for (const [way, send] of [
    ["the fast route", (path: string, init: RequestInit) => () => fetch(`${base}${path}`, init)],
    ["the router", (path: string, init: RequestInit) => () => app.request(path, init)],
  ] as const) {
    test(`POST /api/v1/record through ${way}: Chronologer's {"error": {"type", "message"}}`, async () => {
      for (const r of await refusedOf(send("/api/v1/record", RECORD))) {
        expect(r.headers.get("retry-after")).toBe("1")
        expect(r.headers.get("x-request-id")).toBeTruthy()
        const body = (await r.json()) as { error: Record<string, unknown> }
        expect(Object.keys(body.error).sort()).toEqual(["message", "type"])
        expect(body.error.type).toBe("ServiceUnavailable")
      }
    })

    test(`POST /api/events through ${way}: the changelog's {"message": …}`, async () => {
      for (const r of await refusedOf(send("/api/events", EVENT))) {
        expect(r.headers.get("retry-after")).toBe("1")
        expect(r.headers.get("x-request-id")).toBeTruthy()
        const body = (await r.json()) as Record<string, unknown>
        expect(Object.keys(body)).toEqual(["message"])
        expect(body.message).toContain("write queue is full")
      }
    })
  }
})
