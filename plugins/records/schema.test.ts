/** The derived data (full-text index, per-minute counts) across migrations and write paths, on the dialect under test. */
import { afterAll, beforeAll, expect, test } from "bun:test"
import type { Db } from "../../src/db/database"
import { migrate } from "../../src/db/migrate"
import { createWriter, type Writer } from "../../src/db/writer"
import type { PluginContext } from "../../src/plugin/contract"
import { testDatabase } from "../../test/support"
import { migrations } from "./schema"
import { ingest, type NormalisedRecord, search } from "./service"

let db: Db
let drop: () => Promise<void>
beforeAll(async () => {
  ;({ db, drop } = await testDatabase())
})
afterAll(async () => {
  await db.close()
  await drop()
})

const MINUTE = 60_000_000
const T0 = Date.UTC(2026, 10, 22, 9, 0, 0) * 1000

const record = (i: number, word: string): NormalisedRecord => ({
  // spread over minutes, some before the epoch (floor division of negative ts)
  ts: (i % 7 === 0 ? -T0 : T0) + i * 13_700_000,
  level: [10, 20, 30, 40, 50][i % 5],
  name: `app.m${i % 3}`,
  message: `${word} number ${i}`,
  logrec: { data: { i } },
})

const ctxOf = (writer: Writer) =>
  ({ db, writer, events: { has: () => false, emit() {} } }) as unknown as Pick<
    PluginContext,
    "db" | "writer" | "events"
  >

/** The rollup must equal counting the records, minute by minute and level by level. */
async function expectCountsExact() {
  const rollup = await db.all<{ minute: number; level: number; n: number }>(
    "SELECT minute, level, n FROM records_counts WHERE n <> 0 ORDER BY minute, level",
  )
  const counted = await db.all<{ minute: number; level: number; n: number }>(
    `SELECT (ts - (((ts % ${MINUTE}) + ${MINUTE}) % ${MINUTE})) / ${MINUTE} AS minute, level, COUNT(*) AS n
       FROM records_records GROUP BY 1, 2 ORDER BY 1, 2`,
  )
  const plain = (rows: Array<{ minute: number; level: number; n: number }>) =>
    rows.map((r) => [Number(r.minute), Number(r.level), Number(r.n)])
  expect(plain(rollup)).toEqual(plain(counted))
  expect(counted.length).toBeGreaterThan(0)
}

const found = async (word: string) =>
  (await search(db, { query: word, limit: 1000 })).items.map((r) => r.message).sort()

test("migration 004 keeps what was indexed and counted; batches written afterwards are indexed and counted exactly", async () => {
  // a database of the previous version, written by its insert triggers
  await migrate(db, migrations.slice(0, 3))
  const before = Array.from({ length: 30 }, (_, i) => record(i, "earlier"))
  for (const r of before)
    await db.run("INSERT INTO records_records (ts, level, name, message, logrec) VALUES (?, ?, ?, ?, ?)", [
      r.ts,
      r.level,
      r.name,
      r.message,
      JSON.stringify(r.logrec),
    ])
  await migrate(db, migrations)
  await expectCountsExact()
  expect((await found("earlier")).length).toBe(30)

  const writer = createWriter(db, { maxQueuedRows: 100_000 })
  const ctx = ctxOf(writer)
  // several requests in one group, a multi-row one among them, and a run() in the same flush (which
  // takes the asynchronous transaction on SQLite)
  const later = Array.from({ length: 300 }, (_, i) => record(i + 30, "later"))
  const ran = writer.run(async (tx) =>
    tx.run("DELETE FROM records_records WHERE message = ?", ["earlier number 3"]),
  )
  const groups = await Promise.all([
    ingest(ctx, later.slice(0, 1)),
    ingest(ctx, later.slice(1, 200)),
    ingest(ctx, later.slice(200, 201)),
  ])
  await ran
  // a second flush, the synchronous one
  groups.push(await ingest(ctx, later.slice(201)))
  expect(groups.flat().length).toBe(300)
  // timestamps beyond 2^53 µs (after the year 2255) are counted in SQL, exactly as well
  const far = { ...record(1, "far"), ts: 253_402_300_799_000_000 - 17 * MINUTE }
  await ingest(ctx, [far, { ...far, level: 50 }])
  await expectCountsExact()
  expect(await found("later")).toEqual(later.map((r) => r.message).sort())
  expect((await found("far")).length).toBe(2)
  expect((await found("earlier")).length).toBe(29)
  // the ids answer the right rows, in order
  const ids = groups.flat()
  const row = await db.get<{ message: string }>("SELECT message FROM records_records WHERE id = ?", [
    ids[150],
  ])
  expect(row?.message).toBe(later[150].message)

  // deletions (retention) still follow through their triggers
  await db.run("DELETE FROM records_records WHERE level >= 40")
  await expectCountsExact()
  expect((await found("later")).length).toBe(later.filter((r) => r.level < 40).length)
  await writer.close()
})
