import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { samplePlugin } from "../../test/core-sample-plugin"
import { createTestApp, testDatabase } from "../../test/support"
import type { Db } from "./database"
import { migrate } from "./migrate"
import { createWriter, WriterFullError } from "./writer"

let db: Db
let drop: () => Promise<void>
let transactions = 0
let statements: string[] = []

beforeAll(async () => {
  ;({ db, drop } = await testDatabase())
  await migrate(db, [
    {
      id: "wt/001",
      sqlite:
        "CREATE TABLE wt_items (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT NOT NULL CHECK (v <> 'bad'), n INTEGER)",
      postgres:
        "CREATE TABLE wt_items (id BIGSERIAL PRIMARY KEY, v TEXT NOT NULL CHECK (v <> 'bad'), n INTEGER)",
    },
  ])
  db.observe((sql) => statements.push(sql))
}, 30_000)
afterAll(async () => {
  await db.close()
  await drop()
}, 30_000)

/** The same database, counting the transactions the writer opens. */
const counted = (): Db => ({
  ...db,
  transaction: (fn) => {
    transactions++
    return db.transaction(fn)
  },
  transactionSync: db.transactionSync
    ? (fn) => {
        const r = db.transactionSync?.(fn)
        if (r) transactions++
        return r
      }
    : undefined,
})

const count = async (where = "1 = 1") =>
  Number((await db.get<{ c: number }>(`SELECT COUNT(*) AS c FROM wt_items WHERE ${where}`))?.c)

describe("group-commit writer", () => {
  test("everything enqueued in one turn: one flush, one transaction, multi-row INSERTs, results in order", async () => {
    const w = createWriter(counted(), { maxQueuedRows: 10_000 })
    transactions = 0
    statements = []
    const promises = Array.from({ length: 200 }, (_, i) =>
      w.insert({ table: "wt_items", columns: ["v", "n"], rows: [[`row-${i}`, i]], returning: "id" }),
    )
    const results = await Promise.all(promises)
    expect(w.stats().flushes).toBe(1)
    expect(w.stats().lastFlushRows).toBe(200)
    expect(transactions).toBe(1)
    // 200 rows = 128 + 64 + 8: power-of-two chunks, so the prepared statements repeat across flushes
    const inserts = statements.filter((s) => /^INSERT (OR FAIL )?INTO wt_items/.test(s))
    expect(inserts.map((s) => s.split("), (").length)).toEqual([128, 64, 8])
    const ids = results.map((r) => Number(r[0]))
    // each caller gets its own row's id, in call order
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
    for (let i = 0; i < 200; i += 37) {
      const row = await db.get<{ v: string }>("SELECT v FROM wt_items WHERE id = ?", [ids[i]])
      expect(row?.v).toBe(`row-${i}`)
    }
    await w.close()
  })

  test("multi-row inserts and different shapes in one flush keep their results apart", async () => {
    const w = createWriter(db, { maxQueuedRows: 10_000 })
    const a = w.insert({ table: "wt_items", columns: ["v"], rows: [["a1"], ["a2"]], returning: "id" })
    const b = w.insert({ table: "wt_items", columns: ["v", "n"], rows: [["b1", 1]], returning: "n" })
    const c = w.insert({ table: "wt_items", columns: ["v"], rows: [["c1"]] })
    const [ra, rb, rc] = await Promise.all([a, b, c])
    expect(ra).toHaveLength(2)
    expect(rb.map(Number)).toEqual([1])
    expect(rc).toEqual([])
    expect(w.stats().flushes).toBe(1)
    await w.close()
  })

  test("a failing row fails only its caller", async () => {
    const w = createWriter(db, { maxQueuedRows: 10_000 })
    const before = await count()
    const ok1 = w.insert({ table: "wt_items", columns: ["v"], rows: [["good-1"]], returning: "id" })
    const bad = w.insert({ table: "wt_items", columns: ["v"], rows: [["bad"]], returning: "id" })
    const ok2 = w.insert({ table: "wt_items", columns: ["v"], rows: [["good-2"]], returning: "id" })
    const [r1, rbad, r2] = await Promise.allSettled([ok1, bad, ok2])
    expect(r1.status).toBe("fulfilled")
    expect(rbad.status).toBe("rejected")
    expect(r2.status).toBe("fulfilled")
    expect(await count()).toBe(before + 2)
    expect(await count("v = 'bad'")).toBe(0)
    expect(w.stats().rowsWritten).toBe(2)
    await w.close()
  })

  test("run() executes inside the group transaction", async () => {
    const w = createWriter(counted(), { maxQueuedRows: 10_000 })
    transactions = 0
    const ins = w.insert({ table: "wt_items", columns: ["v"], rows: [["via-insert"]] })
    const ran = w.run(async (tx) => {
      await tx.run("INSERT INTO wt_items (v) VALUES (?)", ["via-run"])
      return 42
    })
    expect(await ran).toBe(42)
    await ins
    expect(transactions).toBe(1)
    expect(await count("v IN ('via-insert', 'via-run')")).toBe(2)
    await w.close()
  })

  test("a flush while another transaction is open waits for it and never lands inside it", async () => {
    const w = createWriter(db, { maxQueuedRows: 10_000 })
    let release = () => {}
    const open = db.transaction(async (tx) => {
      await tx.run("INSERT INTO wt_items (v) VALUES ('open-tx')")
      await new Promise<void>((r) => {
        release = r
      })
      throw new Error("rolled back")
    })
    await Bun.sleep(5)
    let committed = false
    const queued = w.insert({ table: "wt_items", columns: ["v"], rows: [["queued-meanwhile"]] }).then(() => {
      committed = true
    })
    await Bun.sleep(20)
    // SQLite has one connection: the synchronous path stood aside and the flush queued behind it
    if (db.dialect === "sqlite") expect(committed).toBe(false)
    release()
    await expect(open).rejects.toThrow("rolled back")
    await queued
    expect(await count("v = 'queued-meanwhile'")).toBe(1)
    expect(await count("v = 'open-tx'")).toBe(0)
    await w.close()
  })

  test("a bounded queue refuses with WriterFullError instead of dropping", async () => {
    const w = createWriter(db, { maxQueuedRows: 3 })
    const accepted = [1, 2, 3].map((i) => w.insert({ table: "wt_items", columns: ["v"], rows: [[`q${i}`]] }))
    const refused = w.insert({ table: "wt_items", columns: ["v"], rows: [["q4"]] })
    await expect(refused).rejects.toBeInstanceOf(WriterFullError)
    await Promise.all(accepted)
    expect(await count("v IN ('q1', 'q2', 'q3', 'q4')")).toBe(3)
    // room again after the flush
    await w.insert({ table: "wt_items", columns: ["v"], rows: [["q5"]] })
    await w.close()
  })

  test("drain waits for everything queued; close drains, then refuses", async () => {
    const w = createWriter(db, { maxQueuedRows: 10_000 })
    let done = 0
    for (let i = 0; i < 20; i++)
      void w.insert({ table: "wt_items", columns: ["v"], rows: [["drain"]] }).then(() => done++)
    await w.drain()
    expect(done).toBe(20)
    void w.insert({ table: "wt_items", columns: ["v"], rows: [["closing"]] }).then(() => done++)
    await w.close()
    expect(done).toBe(21)
    const late = w.insert({ table: "wt_items", columns: ["v"], rows: [["late"]] })
    await expect(late).rejects.toBeInstanceOf(WriterFullError)
    expect(await count("v = 'late'")).toBe(0)
  })

  test("SQLite: the INSERTs are OR FAIL (no statement journal); a bad row in a multi-row group still stores nothing of it", async () => {
    const w = createWriter(db, { maxQueuedRows: 10_000 })
    statements = []
    const before = await count()
    const ok = w.insert({ table: "wt_items", columns: ["v", "n"], rows: [["orfail-1", 1]], returning: "id" })
    // one op of several rows, the last of them bad: none of them may stay behind
    const bad = w.insert({
      table: "wt_items",
      columns: ["v", "n"],
      rows: [
        ["orfail-2", 2],
        ["bad", 3],
      ],
      returning: "id",
    })
    const [rOk, rBad] = await Promise.allSettled([ok, bad])
    expect(rOk.status).toBe("fulfilled")
    expect(rBad.status).toBe("rejected")
    expect(await count()).toBe(before + 1)
    expect(await count("v = 'orfail-2'")).toBe(0)
    const prefix = db.dialect === "sqlite" ? "INSERT OR FAIL INTO wt_items" : "INSERT INTO wt_items"
    expect(statements.some((s) => s.startsWith(prefix))).toBe(true)
    await w.close()
  })

  test("after: derived statements run once per group, with every row and returned id, in the same transaction", async () => {
    await db.exec("CREATE TABLE IF NOT EXISTS wt_derived (item_id INTEGER NOT NULL, total INTEGER NOT NULL)")
    const w = createWriter(counted(), { maxQueuedRows: 10_000 })
    const calls: Array<{ rows: number; ids: number[] }> = []
    const after = (rows: readonly (readonly unknown[])[], ids: readonly unknown[]) => {
      calls.push({ rows: rows.length, ids: ids.map(Number) })
      const total = rows.reduce((sum, r) => sum + Number(r[1]), 0)
      const sql = "INSERT INTO wt_derived (item_id, total) VALUES (?, ?)"
      return ids.length ? [{ sql, params: [Number(ids[0]), total] }] : []
    }
    transactions = 0
    const results = await Promise.all(
      [1, 2, 3].map((n) =>
        w.insert({
          table: "wt_items",
          columns: ["v", "n"],
          rows: [[`derived-${n}`, n]],
          returning: "id",
          after,
        }),
      ),
    )
    expect(transactions).toBe(1)
    expect(calls).toEqual([{ rows: 3, ids: results.map((r) => Number(r[0])) }])
    const derived = await db.all<{ total: number }>("SELECT total FROM wt_derived WHERE item_id = ?", [
      Number(results[0][0]),
    ])
    expect(derived.map((d) => Number(d.total))).toEqual([6])
    // a different function is a different group: called separately
    const other: typeof after = () => []
    await Promise.all([
      w.insert({ table: "wt_items", columns: ["v", "n"], rows: [["d-a", 1]], after }),
      w.insert({ table: "wt_items", columns: ["v", "n"], rows: [["d-b", 1]], after: other }),
    ])
    expect(calls.length).toBe(2)
    expect(calls[1].ids).toEqual([]) // nothing returned without `returning`
    await w.close()
  })

  test("after: a failing derived statement rolls its rows back and fails only their callers; also on the async path", async () => {
    const w = createWriter(db, { maxQueuedRows: 10_000 })
    const failing = () => [{ sql: "INSERT INTO wt_items (v) VALUES (?)", params: ["bad"] }]
    const fine = () => [{ sql: "INSERT INTO wt_items (v) VALUES (?)", params: ["derived-fine"] }]
    // a run() in the batch takes the asynchronous transaction on SQLite too
    const ran = w.run(async (tx) => tx.run("INSERT INTO wt_items (v) VALUES (?)", ["after-run"]))
    const a = w.insert({ table: "wt_items", columns: ["v"], rows: [["after-rolled-back"]], after: failing })
    const b = w.insert({ table: "wt_items", columns: ["v"], rows: [["after-kept"]], after: fine })
    const [rRun, rA, rB] = await Promise.allSettled([ran, a, b])
    expect([rRun.status, rA.status, rB.status]).toEqual(["fulfilled", "rejected", "fulfilled"])
    expect(await count("v = 'after-rolled-back'")).toBe(0)
    expect(await count("v = 'bad'")).toBe(0)
    expect(await count("v IN ('after-kept', 'derived-fine', 'after-run')")).toBe(3)
    await w.close()
  })

  test("identifiers are checked: no SQL through table or column names", async () => {
    const w = createWriter(db, { maxQueuedRows: 10 })
    await expect(
      w.insert({ table: "wt_items; DROP TABLE wt_items", columns: ["v"], rows: [["x"]] }),
    ).rejects.toThrow("bad identifier")
    await expect(
      w.insert({ table: "wt_items", columns: ["v) VALUES ('x'); --"], rows: [["x"]] }),
    ).rejects.toThrow("bad identifier")
    await w.close()
  })
})

describe("transactions", () => {
  test("a rolled-back transaction never takes another caller's write with it", async () => {
    const failing = db.transaction(async (tx) => {
      await tx.run("INSERT INTO wt_items (v) VALUES (?)", ["in-failed-tx"])
      await Bun.sleep(20)
      throw new Error("roll back")
    })
    // issued while that transaction is open, from another async context
    await Bun.sleep(5)
    const outside = db.run("INSERT INTO wt_items (v) VALUES (?)", ["outside-tx"])
    await expect(failing).rejects.toThrow("roll back")
    expect(await outside).toBe(1)
    expect(await count("v = 'in-failed-tx'")).toBe(0)
    expect(await count("v = 'outside-tx'")).toBe(1)
  })

  test("nested transactions are savepoints", async () => {
    await db.transaction(async (tx) => {
      await tx.run("INSERT INTO wt_items (v) VALUES (?)", ["outer"])
      await tx
        .transaction(async (inner) => {
          await inner.run("INSERT INTO wt_items (v) VALUES (?)", ["inner"])
          throw new Error("inner fails")
        })
        .catch(() => {})
      await tx.run("INSERT INTO wt_items (v) VALUES (?)", ["outer-after"])
    })
    expect(await count("v IN ('outer', 'outer-after')")).toBe(2)
    expect(await count("v = 'inner'")).toBe(0)
  })
})

test("through HTTP: a full queue answers 503 with Retry-After, nothing accepted is lost", async () => {
  const app = await createTestApp({ plugins: [samplePlugin], env: { LOGBOOK_WRITER_QUEUE_MAX: "2" } })
  try {
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        app.request("/api/v1/sample/notes", { method: "POST", json: { text: `burst-${i}` } }),
      ),
    )
    const statuses = responses.map((r) => r.status)
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(2)
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThanOrEqual(1)
    for (const r of responses.filter((r) => r.status === 503)) {
      expect(r.headers.get("retry-after")).toBe("1")
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe("overloaded")
    }
    const stored = await app.db.all<{ text: string }>("SELECT text FROM sample_notes ORDER BY id")
    expect(stored.length).toBe(statuses.filter((s) => s === 201).length)
  } finally {
    await app.close()
  }
})
