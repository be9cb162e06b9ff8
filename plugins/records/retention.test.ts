/**
 * The size budget counts the records plugin's own data only: a database whose other tables hold far more
 * than the records must not make retention delete records that are within the budget.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { randomBytes } from "node:crypto"
import { createTestApp, type TestApp } from "../../test/support"
import records from "./plugin"
import { applyRetention, recordsBytes } from "./retention"
import type { RecordsContext } from "./settings"

const RECORDS = 3000
const T0 = Date.UTC(2026, 10, 22, 9, 0, 0) / 1000 // an hour before the test clock
let app: TestApp

beforeAll(async () => {
  app = await createTestApp({ plugins: [records] })
  for (let from = 0; from < RECORDS; from += 1000) {
    const lines = Array.from({ length: 1000 }, (_, k) => {
      const i = from + k
      return JSON.stringify({
        name: `app.part${i % 7}`,
        msg: `request ${i} for user u${(i * 7919) % 1000} handled in %d ms`,
        args: [i % 997],
        levelno: [10, 20, 30, 40, 50][i % 5],
        created: T0 + i / 10,
      })
    }).join("\n")
    const res = await app.request("/api/v1/records", {
      method: "POST",
      body: lines,
      headers: { "content-type": "application/x-ndjson" },
    })
    expect(res.status).toBe(201)
  }
  // another plugin's data, several times the records' size (about 8 MB of incompressible text)
  await app.db.exec("CREATE TABLE unrelated_data (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
  for (let id = 0; id < 8000; id += 500) {
    const rows = Array.from({ length: 500 }, (_, k) => [id + k, randomBytes(500).toString("hex")])
    await app.db.run(
      `INSERT INTO unrelated_data (id, v) VALUES ${rows.map(() => "(?, ?)").join(", ")}`,
      rows.flat(),
    )
  }
}, 30_000)
afterAll(() => app.close())

/** The parts of the plugin context retention uses, with the size budget under test and no age limit. */
const withBudget = (maxBytes: number) =>
  ({
    db: app.db,
    writer: app.host.writer,
    settings: { retentionDays: 0, maxBytes },
    now: () => app.clock.now(),
    metrics: { increment() {} },
    log: { info() {} },
  }) as unknown as RecordsContext

const recordIds = async () =>
  (await app.db.all<{ id: number }>("SELECT id FROM records_records ORDER BY ts, id")).map((r) =>
    Number(r.id),
  )

/**
 * The records' data as the catalog has it, independent of recordsBytes: SQLite, the pages of every b-tree
 * of a records_* table (dbstat walks them all); PostgreSQL, both tables with indexes and TOAST, dead rows
 * included.
 */
const ownBytes = async () =>
  Number(
    (
      await app.db.get<{ bytes: number }>(
        app.db.dialect === "sqlite"
          ? `SELECT SUM(pgsize) AS bytes FROM dbstat WHERE aggregate = TRUE AND name IN (
               SELECT name FROM sqlite_schema WHERE tbl_name LIKE 'records\\_%' ESCAPE '\\')`
          : "SELECT pg_total_relation_size('records_records') + pg_total_relation_size('records_counts') AS bytes",
      )
    )?.bytes,
  )

describe("size budget", () => {
  test("the records' size counts their table, its indexes, the full-text index and the counts, nothing else", async () => {
    const size = await recordsBytes(app.db)
    if (app.db.dialect === "sqlite") {
      const trees = await app.db.all<{ name: string }>(
        "SELECT name FROM dbstat WHERE aggregate = TRUE AND name LIKE 'records%' ORDER BY name",
      )
      expect(trees.map((t) => t.name)).toEqual([
        "records_counts",
        "records_fts_config",
        "records_fts_data",
        "records_fts_docsize",
        "records_fts_idx",
        "records_records",
        "records_records_level_ts",
        "records_records_name_ts",
        "records_records_ts",
      ])
      expect(size).toBe(await ownBytes())
    } else {
      // no record was deleted yet: the records table's live share is all of it, and the counts come on top
      const table = await app.db.get<{ bytes: number }>(
        "SELECT pg_total_relation_size('records_records') AS bytes",
      )
      expect(size).toBeGreaterThan(Number(table?.bytes))
      expect(size).toBeLessThanOrEqual(await ownBytes())
    }
  })

  test("a budget above the records' size deletes nothing, however large the other tables are", async () => {
    const budget = Math.ceil((await ownBytes()) * 1.2)
    if (app.db.dialect === "sqlite") {
      // the database file holds far more than the budget: the other table must not count
      const used = await app.db.get<{ bytes: number }>(
        `SELECT ((SELECT page_count FROM pragma_page_count()) - (SELECT freelist_count FROM pragma_freelist_count()))
                * (SELECT page_size FROM pragma_page_size()) AS bytes`,
      )
      expect(Number(used?.bytes)).toBeGreaterThan(3 * budget)
    }
    expect(await applyRetention(withBudget(budget))).toBe(0)
    expect((await recordIds()).length).toBe(RECORDS)
  })

  test("a budget of half the records' size deletes about half of them, the oldest", async () => {
    const all = await recordIds()
    const size = await ownBytes()
    const gone = await applyRetention(withBudget(Math.floor(size / 2)), 400)
    expect(gone).toBeGreaterThan(RECORDS * 0.45)
    expect(gone).toBeLessThan(RECORDS * 0.55)
    expect(await recordIds()).toEqual(all.slice(gone))
    // SQLite frees the pages at once; PostgreSQL's measure follows when the table statistics see the dead rows
    if (app.db.dialect === "sqlite") expect(await recordsBytes(app.db)).toBeLessThan(size)
  })
})
