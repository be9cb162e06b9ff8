/**
 * The transitions stream over a real connection: each stored transition arrives once as a `transition`
 * event with its id; Last-Event-ID / ?after= replay what a client missed; other instances' rows (same
 * database) arrive too; messages only for callers allowed to see details; bad resume ids are refused.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Db } from "../../src/db/database"
import { createTestApp, sharedTestDatabase, type TestApp } from "../../test/support"
import healthPlugin from "./plugin"
import { switchable, switchablePlugin, until } from "./testing"

const ADMIN = { authorization: "Bearer adm-token" }
const STREAM = "/api/v1/health/transitions/stream"
const ctl = switchable("pass")
let app: TestApp
let base: string
/** The same database through another connection: what another instance writes with. */
let other: Db
let cleanup: () => Promise<void>

/** Streams just opened have read their starting point, and LISTEN (PostgreSQL) is in place, a moment later. */
const listening = () => Bun.sleep(200)

/** Stores a transition as another instance does: its own connection, then (PostgreSQL) a NOTIFY. */
async function storeAsOtherInstance(sql: string, params: unknown[]) {
  await other.run(sql, params)
  if (other.dialect === "postgres") await other.run("SELECT pg_notify('logbook_health', '')")
}

interface Event {
  id?: string
  event?: string
  data: Record<string, unknown>
}

/** A stream reader: `next(n)` resolves with the first n `transition` events received so far or later. */
async function open(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, { headers })
  expect(res.status).toBe(200)
  expect(res.headers.get("content-type")).toBe("text/event-stream")
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  const decoder = new TextDecoder()
  let buffer = ""
  const events: Event[] = []
  const pump = (async () => {
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      buffer += decoder.decode(r.value, { stream: true })
      let end = buffer.indexOf("\n\n")
      while (end >= 0) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const fields: Record<string, string> = {}
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) continue
          const i = line.indexOf(": ")
          fields[line.slice(0, i)] = line.slice(i + 2)
        }
        if (fields.data) events.push({ id: fields.id, event: fields.event, data: JSON.parse(fields.data) })
        end = buffer.indexOf("\n\n")
      }
    }
  })().catch(() => {})
  return {
    events,
    async next(n: number): Promise<Event[]> {
      await until(() => events.length >= n)
      return events.slice(0, n)
    },
    async close() {
      await reader.cancel()
      await pump
    },
  }
}

/** Runs check `svc` now (admin) in the mode given and waits until its transition is stored. */
async function runAs(mode: "pass" | "fail", expectTo: string) {
  ctl.mode = mode
  await app.request("/api/v1/health/checks/svc/run", { method: "POST", headers: ADMIN })
  await until(async () => {
    const r = await app.request("/api/v1/health/transitions?check=svc&limit=1", { headers: ADMIN })
    return (await r.json()).transitions[0]?.to === expectTo
  })
}

beforeAll(async () => {
  const shared = await sharedTestDatabase()
  other = shared.b
  cleanup = shared.cleanup
  app = await createTestApp({
    db: shared.a,
    plugins: [healthPlugin, switchablePlugin(ctl)],
    env: { LOGBOOK_ADMIN_TOKEN: "adm-token", LOGBOOK_DATA_DIR: mkdtempSync(join(tmpdir(), "lb-stream-")) },
  })
  base = await app.listen()
  // the check's first result (unknown → pass) is stored before any stream opens
  await runAs("pass", "pass")
})
afterAll(async () => {
  await app.close()
  await other.close()
  await cleanup()
})

test("new transitions arrive once each, with their id; messages only for callers who may see details", async () => {
  const anonymous = await open(STREAM)
  const admin = await open(STREAM, ADMIN)
  try {
    await runAs("fail", "fail")
    await runAs("pass", "pass")
    const [down, up] = await admin.next(2)
    expect(down.event).toBe("transition")
    expect(down.data).toMatchObject({ check: "svc", from: "pass", to: "fail", message: "svc down" })
    expect(down.data.instance).toBe(app.host.instanceId)
    expect(down.id).toBe(String(down.data.id))
    expect(up.data).toMatchObject({ check: "svc", from: "fail", to: "pass", message: "svc ok" })
    expect(Number(up.id)).toBeGreaterThan(Number(down.id))
    const seen = await anonymous.next(2)
    expect(seen.map((e) => [e.id, e.data.to, "message" in e.data])).toEqual([
      [down.id, "fail", false],
      [up.id, "pass", false],
    ])
    // nothing older than the connection (the first result), nothing twice
    expect(admin.events).toHaveLength(2)
  } finally {
    await anonymous.close()
    await admin.close()
  }
})

test("Last-Event-ID and ?after= replay what a client missed, then keep following", async () => {
  const all = await (await app.request("/api/v1/health/transitions?check=svc", { headers: ADMIN })).json()
  const ids = (all.transitions as Array<{ id: number }>).map((t) => t.id).sort((a, b) => a - b)
  expect(ids.length).toBe(3)

  const resumed = await open(STREAM, { ...ADMIN, "last-event-id": String(ids[1]) })
  const fromStart = await open(`${STREAM}?after=0&check=svc`)
  try {
    expect((await resumed.next(1)).map((e) => Number(e.id))).toEqual([ids[2]])
    expect((await fromStart.next(3)).map((e) => Number(e.id))).toEqual(ids)
    await runAs("fail", "fail")
    const [, live] = await resumed.next(2)
    expect(live.data).toMatchObject({ from: "pass", to: "fail" })
    expect((await fromStart.next(4))[3].id).toBe(live.id)
  } finally {
    await resumed.close()
    await fromStart.close()
  }
})

test("another instance's transitions (same database) arrive too; ?instance= and ?check= filter", async () => {
  const every = await open(STREAM)
  const onlyOther = await open(`${STREAM}?instance=web-2`)
  const otherCheck = await open(`${STREAM}?check=billing`)
  await listening()
  try {
    await storeAsOtherInstance(
      "INSERT INTO health_transitions (instance_id, check_name, from_status, to_status, message, at) VALUES (?, ?, ?, ?, ?, ?)",
      ["web-2", "billing", "pass", "fail", "refused", app.clock.now()],
    )
    const [e] = await every.next(1)
    expect(e.data).toMatchObject({ instance: "web-2", check: "billing", from: "pass", to: "fail" })
    expect((await onlyOther.next(1))[0].id).toBe(e.id)
    expect((await otherCheck.next(1))[0].id).toBe(e.id)
    await runAs("pass", "pass")
    await every.next(2)
    expect(onlyOther.events).toHaveLength(1)
    expect(otherCheck.events).toHaveLength(1)
  } finally {
    await every.close()
    await onlyOther.close()
    await otherCheck.close()
  }
})

test("a lower id that becomes visible after a higher one (instances committing at once) is still delivered", async () => {
  const stream = await open(STREAM)
  await listening()
  const insert = (id: number, check: string) =>
    storeAsOtherInstance(
      "INSERT INTO health_transitions (id, instance_id, check_name, from_status, to_status, message, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      [id, "web-3", check, "pass", "warn", "slow", app.clock.now()],
    )
  try {
    await insert(100_002, "late-high")
    expect((await stream.next(1))[0].data.check).toBe("late-high")
    await insert(100_001, "late-low")
    const [, low] = await stream.next(2)
    expect(low).toMatchObject({ id: "100001", data: { check: "late-low" } })
    // and nothing twice
    await runAs("fail", "fail")
    expect((await stream.next(3)).map((e) => e.data.check)).toEqual(["late-high", "late-low", "svc"])
  } finally {
    await stream.close()
  }
})

test("a resume id that is not a transition id is refused, naming the problem", async () => {
  const bad = await app.request(STREAM, { headers: { "last-event-id": "yesterday" } })
  expect(bad.status).toBe(400)
  expect((await bad.json()).error.message).toBe(
    'Last-Event-ID must be a transition id (a non-negative integer), got "yesterday"',
  )
  const badQuery = await app.request(`${STREAM}?after=-3`)
  expect(badQuery.status).toBe(400)
  expect((await badQuery.json()).error.message).toBe(
    'after must be a transition id (a non-negative integer), got "-3"',
  )
})

test("the stream is in the OpenAPI document, as text/event-stream", async () => {
  const doc = await (await app.request("/openapi/json")).json()
  const op = doc.paths[STREAM].get
  expect(op.tags).toEqual(["health"])
  expect(Object.keys(op.responses["200"].content)).toEqual(["text/event-stream"])
})
