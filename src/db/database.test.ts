import { expect, test } from "bun:test"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { testDatabase } from "../../test/support"
import { openDatabase, openSqlite, toPgPlaceholders } from "./database"

test("the SQLite file is opened with WAL, synchronous=NORMAL and a busy timeout", async () => {
  const dir = mkdtempSync(join(tmpdir(), "logbook-db-"))
  const db = openDatabase("", join(dir, "nested", "data"))
  try {
    expect(db.dialect).toBe("sqlite")
    expect(await db.get("PRAGMA journal_mode")).toEqual({ journal_mode: "wal" })
    expect(await db.get("PRAGMA synchronous")).toEqual({ synchronous: 1 })
    expect(await db.get("PRAGMA busy_timeout")).toEqual({ timeout: 5000 })
    expect(await db.get("PRAGMA foreign_keys")).toEqual({ foreign_keys: 1 })
  } finally {
    await db.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test("? placeholders become $n for PostgreSQL, except inside quotes", () => {
  expect(toPgPlaceholders("SELECT * FROM t WHERE a = ? AND b IN (?, ?)")).toBe(
    "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)",
  )
  expect(toPgPlaceholders(`SELECT '?', "we?ird" FROM t WHERE x = ?`)).toBe(
    `SELECT '?', "we?ird" FROM t WHERE x = $1`,
  )
})

test("same results on both dialects: parameters, NULLs, counts, RETURNING, int8 as number", async () => {
  const { db, drop } = await testDatabase()
  try {
    await db.exec(
      db.dialect === "sqlite"
        ? "CREATE TABLE dbt (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT, n BIGINT)"
        : "CREATE TABLE dbt (id BIGSERIAL PRIMARY KEY, v TEXT, n BIGINT)",
    )
    const evil = "x'); DROP TABLE dbt; --"
    const row = await db.get<{ id: number }>("INSERT INTO dbt (v, n) VALUES (?, ?) RETURNING id", [
      evil,
      2 ** 40,
    ])
    expect(typeof row?.id).toBe("number")
    await db.run("INSERT INTO dbt (v, n) VALUES (?, ?)", [null, undefined])
    expect(await db.all("SELECT v, n FROM dbt ORDER BY id")).toEqual([
      { v: evil, n: 2 ** 40 },
      { v: null, n: null },
    ])
    expect(await db.run("UPDATE dbt SET n = ? WHERE n IS NULL", [1])).toBe(1)
    expect(await db.get("SELECT v FROM dbt WHERE v = ?", ["nope"])).toBeUndefined()
  } finally {
    await db.close()
    await drop()
  }
})

test("close waits for an open transaction", async () => {
  const db = openSqlite(":memory:")
  await db.exec("CREATE TABLE c (v TEXT)")
  const tx = db.transaction(async (t) => {
    await Bun.sleep(20)
    await t.run("INSERT INTO c (v) VALUES ('x')")
    return (await t.all("SELECT v FROM c")).length
  })
  await Bun.sleep(1)
  const closing = db.close()
  expect(await tx).toBe(1)
  await closing
})

test("SQLite transactionSync commits, rolls back whole on error, and stands aside while a transaction is open", async () => {
  const db = openSqlite(":memory:")
  await db.exec("CREATE TABLE s (v TEXT NOT NULL CHECK (v <> 'bad'))")
  const sync = db.transactionSync
  if (!sync) throw new Error("SQLite offers transactionSync")
  expect(sync((tx) => tx.run("INSERT INTO s (v) VALUES (?), (?)", ["a", "b"]))).toEqual({ value: 2 })
  expect(() =>
    sync((tx) => {
      tx.run("INSERT INTO s (v) VALUES ('c')")
      tx.run("INSERT INTO s (v) VALUES ('bad')")
    }),
  ).toThrow()
  expect((await db.all("SELECT v FROM s ORDER BY v")).map((r) => r.v)).toEqual(["a", "b"])
  // an async transaction awaiting between its statements: a synchronous one would land inside it
  let release = () => {}
  const open = db.transaction(async (t) => {
    await t.run("INSERT INTO s (v) VALUES ('d')")
    await new Promise<void>((r) => {
      release = r
    })
    throw new Error("rolled back")
  })
  await Bun.sleep(5)
  expect(sync((tx) => tx.run("INSERT INTO s (v) VALUES ('e')"))).toBeUndefined()
  release()
  await expect(open).rejects.toThrow("rolled back")
  expect(sync((tx) => tx.all<{ v: string }>("SELECT v FROM s ORDER BY v"))?.value.map((r) => r.v)).toEqual([
    "a",
    "b",
  ])
  await db.close()
})

test("PostgreSQL has no transactionSync (its statements are asynchronous)", async () => {
  const { db, drop } = await testDatabase()
  try {
    if (db.dialect === "postgres") expect(db.transactionSync).toBeUndefined()
    else expect(typeof db.transactionSync).toBe("function")
  } finally {
    await db.close()
    await drop()
  }
})

test("SQLite keeps many statements prepared (bun:sqlite's own cache holds 20), also long ones; evicted ones come back", async () => {
  const db = openSqlite(":memory:")
  const raw = db.sqlite
  if (!raw) throw new Error("SQLite has a raw handle")
  await db.exec("CREATE TABLE p (v INTEGER)")
  let prepares = 0
  const prepare = raw.prepare.bind(raw)
  raw.prepare = ((sql: string) => {
    prepares++
    return prepare(sql)
  }) as typeof raw.prepare
  // 40 distinct texts, one of them over 64 KiB (a 5,000-row multi-row INSERT)
  const texts = Array.from({ length: 39 }, (_, i) => `SELECT ${i} AS n, COUNT(*) AS c FROM p`)
  const long = `INSERT INTO p (v) VALUES ${Array.from({ length: 5000 }, () => "(?)").join(", ")}`
  for (let round = 0; round < 3; round++) {
    for (const sql of texts)
      expect(((await db.get<{ n: number }>(sql)) as { n: number }).n).toBe(Number(sql.split(" ")[1]))
    expect(
      await db.run(
        long,
        Array.from({ length: 5000 }, (_, i) => i),
      ),
    ).toBe(5000)
  }
  expect(prepares).toBe(40)
  // beyond the cache's size the least recently used are finalized and prepared again when needed
  for (let i = 0; i < 600; i++) await db.get(`SELECT ${i + 100} AS n`)
  expect(((await db.get<{ c: number }>(texts[0])) as { c: number }).c).toBe(15000)
  expect(prepares).toBe(641)
  await db.close()
})
