/**
 * The live feed across instances: two stores on one database (a SQLite file opened twice, or one
 * PostgreSQL schema through two connection pools) stand for two Logbook instances. With the safety poll
 * switched off, an event reaching the other instance proves the signal path (data_version / NOTIFY).
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type Db, openPostgres, openSqlite } from "../../src/db/database"
import { migrate } from "../../src/db/migrate"
import { createWriter } from "../../src/db/writer"
import type { ChangeEvent } from "../../src/plugin/contract"
import { testDatabase } from "../../test/support"
import { migrations } from "./schema"
import { type ChangeStore, createChangeStore } from "./service"

let dbA: Db
let dbB: Db
let cleanup: () => Promise<void>
let a: ChangeStore
let b: ChangeStore

beforeAll(async () => {
  const t = await testDatabase()
  if (t.db.dialect === "sqlite") {
    await t.db.close()
    const dir = mkdtempSync(join(tmpdir(), "logbook-feed-"))
    dbA = openSqlite(join(dir, "shared.sqlite"))
    dbB = openSqlite(join(dir, "shared.sqlite"))
    cleanup = async () => rmSync(dir, { recursive: true, force: true })
  } else {
    dbA = t.db
    dbB = openPostgres(t.url, { max: 2 })
    cleanup = t.drop
  }
  await migrate(dbA, migrations)
  a = createChangeStore(dbA, createWriter(dbA, { maxQueuedRows: 1000 }), { safetyPollMs: Infinity })
  b = createChangeStore(dbB, createWriter(dbB, { maxQueuedRows: 1000 }), { safetyPollMs: Infinity })
}, 30_000)

afterAll(async () => {
  await a.close()
  await b.close()
  await dbA.close()
  await dbB.close()
  await cleanup()
}, 30_000)

const change = (description: string) => ({
  ts: Date.now(),
  criticality: 2,
  category: "deploy",
  description,
  source: "api",
})

/** Collects what a store's subscribers get until `done` says enough (or 10 s pass). */
async function collect(
  store: ChangeStore,
  act: (seen: ChangeEvent[]) => Promise<void>,
  done: (seen: ChangeEvent[]) => boolean,
) {
  const seen: ChangeEvent[] = []
  const unsubscribe = store.subscribe((events) => seen.push(...events))
  try {
    await Bun.sleep(100) // the watcher has read its starting point
    await act(seen)
    for (let i = 0; i < 200 && !done(seen); i++) await Bun.sleep(50)
    return seen
  } finally {
    unsubscribe()
  }
}

test("an event committed by one instance reaches the other's subscribers, woken by the database", async () => {
  const seen = await collect(
    b,
    async () => {
      await a.record(change("from instance A"))
    },
    (s) => s.length > 0,
  )
  expect(seen.map((e) => e.description)).toEqual(["from instance A"])
}, 20_000)

test("an instance's own commits are delivered at once and only once", async () => {
  const seen = await collect(
    a,
    async (soFar) => {
      await a.record(change("own commit"))
      // delivered before record() resolved: no database round trip for this instance's own rows
      expect(soFar.map((e) => e.description)).toEqual(["own commit"])
      // another instance's commit wakes A's watcher, which re-reads from its trailing watermark: the
      // own row is in that read again and must not be delivered twice
      await b.record(change("and one from B"))
    },
    (s) => s.some((e) => e.description === "and one from B"),
  )
  expect(seen.map((e) => e.description)).toEqual(["own commit", "and one from B"])
}, 20_000)

test.skipIf(!process.env.LOGBOOK_TEST_DATABASE_URL)(
  "PostgreSQL: a lower id that becomes visible after a higher one is still delivered",
  async () => {
    const pg = dbA.pg
    if (!pg) throw new Error("postgres")
    let release = () => {}
    const seen = await collect(
      b,
      async () => {
        // a transaction takes an id and holds it uncommitted while a later insert commits
        const slow = pg.begin(async (tx) => {
          await tx`INSERT INTO changes_events (ts, criticality, category, description, source) VALUES (${Date.now()}, 1, 'x', 'slow (lower id)', 'api')`
          await new Promise<void>((r) => {
            release = r
          })
        })
        await Bun.sleep(50)
        await a.record(change("fast (higher id)"))
        await Bun.sleep(300)
        release()
        await slow
        await pg`SELECT pg_notify('logbook_changes', '')`
      },
      (s) => s.length >= 2,
    )
    expect(seen.map((e) => e.description).sort()).toEqual(["fast (higher id)", "slow (lower id)"])
    expect(new Set(seen.map((e) => e.id)).size).toBe(2)
  },
  20_000,
)
