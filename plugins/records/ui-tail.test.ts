/**
 * The live tail across instances: two apps on one database (a SQLite file opened twice, or one PostgreSQL
 * schema through two pools) stand for two Logbooks behind a load balancer. A tail opened on A shows what
 * is ingested through B, once, beside A's own records — and on PostgreSQL also a record whose lower id
 * became visible after a higher one.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { definePlugin, type PluginContext } from "../../src/plugin/contract"
import { createTestApp, PG_URL, sharedTestDatabase, type TestApp } from "../../test/support"
import recordsPlugin from "./plugin"
import { ingest, type NormalisedRecord } from "./service"

const contexts: PluginContext[] = []
const capture = definePlugin({
  id: "tailtest",
  title: "context capture",
  setup(c) {
    contexts.push(c)
  },
})

let a: TestApp
let b: TestApp
let ctxA: PluginContext
let ctxB: PluginContext
let cleanup: () => Promise<void>

beforeAll(async () => {
  const shared = await sharedTestDatabase()
  cleanup = shared.cleanup
  a = await createTestApp({ plugins: [capture, recordsPlugin], db: shared.a })
  b = await createTestApp({ plugins: [capture, recordsPlugin], db: shared.b })
  ;[ctxA, ctxB] = contexts as [PluginContext, PluginContext]
}, 30_000)

afterAll(async () => {
  await a.close()
  await b.close()
  await cleanup()
}, 30_000)

const rec = (message: string, level = 40): NormalisedRecord => ({
  ts: Date.now() * 1000,
  level,
  name: "tail.cross",
  message,
  logrec: {},
})

/** A tail opened on app A: the ids of the record rows received, in order, each as often as it came. */
async function openTail(query: string, lastEventId?: string) {
  const abort = new AbortController()
  const res = await a.request(`/ui/records/tail?q=${encodeURIComponent(query)}`, {
    signal: abort.signal,
    ...(lastEventId === undefined ? {} : { headers: { "last-event-id": lastEventId } }),
  })
  expect(res.headers.get("content-type")).toStartWith("text/event-stream")
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  const decoder = new TextDecoder()
  let text = ""
  const pump = (async () => {
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += decoder.decode(r.value)
  })().catch(() => {})
  const rowIds = () => [...text.matchAll(/<tr class="record" id="record-(\d+)"/g)].map((m) => Number(m[1]))
  /** Waits (generously) until pred holds of the stream. */
  const until = async (pred: () => boolean, what: string) => {
    const deadline = Date.now() + 15_000
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(text)}`)
      await Bun.sleep(20)
    }
  }
  if (lastEventId === undefined) await until(() => text.includes("no backlog"), "the start of the tail")
  else await until(() => text.includes(": live tail"), "the start of the resumed tail")
  // the watcher on A listens (LISTEN / data_version) a moment after the tail opened
  await Bun.sleep(200)
  return {
    rowIds,
    text: () => text,
    /** The SSE id a browser would send as Last-Event-ID on reconnecting. */
    lastEventId: () => [...text.matchAll(/^id: (\d+)$/gm)].at(-1)?.[1],
    until,
    async close() {
      abort.abort()
      await reader.cancel().catch(() => {})
      await pump
    },
  }
}

test("a tail on one instance shows records ingested through another, each once, beside its own", async () => {
  const tail = await openTail("crossinst")
  try {
    const [fromB] = await ingest(ctxB, [rec("crossinst from B")])
    await ingest(ctxB, [rec("not for this tail")])
    await tail.until(() => tail.rowIds().includes(fromB as number), "B's record on A")
    const [fromA] = await ingest(ctxA, [rec("crossinst from A")])
    const [again] = await ingest(ctxB, [rec("crossinst from B again")])
    await tail.until(() => tail.rowIds().includes(again as number), "B's second record on A")
    // a few more wake-ups (A's data_version / NOTIFY, safety poll) re-read the window: still nothing twice
    await ingest(ctxB, [rec("unrelated")])
    await Bun.sleep(1200)
    expect(tail.rowIds().sort((x, y) => x - y)).toEqual([fromB, fromA, again] as number[])
    // the SSE id is where a resume (Last-Event-ID) starts: on SQLite the highest record id known, on
    // PostgreSQL the read floor, which trails it
    const sseIds = [...tail.text().matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))
    if (a.db.dialect === "sqlite") expect(Math.max(...sseIds)).toBeGreaterThanOrEqual(again as number)
    else expect(Math.max(...sseIds)).toBeLessThan(again as number)
  } finally {
    await tail.close()
  }
}, 40_000)

test.skipIf(!PG_URL)(
  "PostgreSQL: a record whose lower id becomes visible after a higher one is still shown, once",
  async () => {
    const pg = b.db.pg
    if (!pg) throw new Error("postgres")
    const tail = await openTail("lateid")
    let release = () => {}
    try {
      let lowId = 0
      // a transaction takes an id and holds it uncommitted while a later ingestion commits a higher one
      // (level 30: the per-minute count row it locks is not the one the level-40 ingestion updates)
      const slow = pg.begin(async (tx) => {
        const [row] = await tx`INSERT INTO records_records (ts, level, name, message, logrec)
          VALUES (${Date.now() * 1000}, 30, 'tail.cross', 'lateid slow (lower id)', '{}') RETURNING id`
        lowId = Number(row?.id)
        await new Promise<void>((r) => {
          release = r
        })
      })
      while (!lowId) await Bun.sleep(10)
      const [highId] = await ingest(ctxB, [rec("lateid fast (higher id)")])
      expect(highId as number).toBeGreaterThan(lowId)
      await tail.until(() => tail.rowIds().includes(highId as number), "the higher id")
      release()
      await slow
      // what the instance that committed it does after its commit
      await pg`SELECT pg_notify('logbook_records', '')`
      await tail.until(() => tail.rowIds().includes(lowId), "the lower id, committed later")
      await ingest(ctxB, [rec("lateid one more")])
      await tail.until(() => tail.rowIds().length === 3, "one more record")
      expect(tail.rowIds().filter((id) => id === lowId || id === highId)).toHaveLength(2)
      expect(new Set(tail.rowIds()).size).toBe(3)
    } finally {
      release()
      await tail.close()
    }
  },
  40_000,
)

test.skipIf(!PG_URL)(
  "PostgreSQL: a record committed late while the tail reconnects is shown by the resumed stream",
  async () => {
    const pg = b.db.pg
    if (!pg) throw new Error("postgres")
    const tail = await openTail("resumeid")
    let release = () => {}
    let resumed: Awaited<ReturnType<typeof openTail>> | undefined
    try {
      let lowId = 0
      const slow = pg.begin(async (tx) => {
        const [row] = await tx`INSERT INTO records_records (ts, level, name, message, logrec)
          VALUES (${Date.now() * 1000}, 30, 'tail.cross', 'resumeid slow (lower id)', '{}') RETURNING id`
        lowId = Number(row?.id)
        await new Promise<void>((r) => {
          release = r
        })
      })
      while (!lowId) await Bun.sleep(10)
      const [highId] = await ingest(ctxB, [rec("resumeid fast (higher id)")])
      await tail.until(() => tail.rowIds().includes(highId as number), "the higher id")
      // the connection drops; the lower id commits before the browser reconnects
      const lastEventId = tail.lastEventId()
      await tail.close()
      release()
      await slow
      resumed = await openTail("resumeid", lastEventId)
      await resumed.until(() => resumed?.rowIds().includes(lowId) ?? false, "the lower id after the resume")
      expect(tail.rowIds()).not.toContain(lowId)
    } finally {
      release()
      await tail.close()
      await resumed?.close()
    }
  },
  40_000,
)
