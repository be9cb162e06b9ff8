import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { PG_URL, testDatabase } from "../../test/support"
import { type Db, openPostgres } from "./database"
import { type Migration, migrate } from "./migrate"

let db: Db
let drop: () => Promise<void>
let url: string
beforeAll(async () => {
  ;({ db, drop, url } = await testDatabase())
}, 30_000)
afterAll(async () => {
  await db.close()
  await drop()
}, 30_000)

const m = (id: string, table: string): Migration => ({
  id,
  sqlite: `CREATE TABLE ${table} (id INTEGER PRIMARY KEY, v TEXT)`,
  postgres: `CREATE TABLE ${table} (id BIGSERIAL PRIMARY KEY, v TEXT)`,
})

describe("migrations", () => {
  test("applied once, in order; a second run applies nothing", async () => {
    const list = [m("mt/001_a", "mt_a"), m("mt/002_b", "mt_b")]
    expect(await migrate(db, list)).toEqual(["mt/001_a", "mt/002_b"])
    expect(await migrate(db, list)).toEqual([])
    const more = [...list, m("mt/003_c", "mt_c")]
    expect(await migrate(db, more)).toEqual(["mt/003_c"])
    const ids = await db.all<{ id: string }>(
      "SELECT id FROM logbook_migrations WHERE id LIKE 'mt/%' ORDER BY id",
    )
    expect(ids.map((r) => r.id)).toEqual(["mt/001_a", "mt/002_b", "mt/003_c"])
  })

  test("duplicate ids are refused before anything runs", async () => {
    await expect(migrate(db, [m("mt/dup", "mt_d1"), m("mt/dup", "mt_d2")])).rejects.toThrow(
      "duplicate migration id mt/dup",
    )
  })

  test("a failing migration is rolled back whole and not recorded", async () => {
    const bad: Migration = {
      id: "mt/004_bad",
      sqlite: "CREATE TABLE mt_half (id INTEGER); CREATE TABLE mt_half (id INTEGER)",
      postgres: "CREATE TABLE mt_half (id BIGINT); CREATE TABLE mt_half (id BIGINT)",
    }
    await expect(migrate(db, [bad])).rejects.toThrow()
    expect(await db.all("SELECT id FROM logbook_migrations WHERE id = 'mt/004_bad'")).toEqual([])
    // the first statement was rolled back with the second: the table does not exist
    await expect(db.all("SELECT * FROM mt_half")).rejects.toThrow()
  })
})

describe.skipIf(!PG_URL)("two instances migrating one PostgreSQL schema at once", () => {
  test("the advisory lock makes them take turns: no collision, each migration applied once", async () => {
    // slow migrations widen the window in which both would otherwise see them as pending
    const list: Migration[] = Array.from({ length: 3 }, (_, i) => ({
      id: `race/00${i}`,
      sqlite: "",
      postgres: `SELECT pg_sleep(0.15); CREATE TABLE race_${i} (id BIGSERIAL PRIMARY KEY)`,
    }))
    const a = openPostgres(url, { max: 1 })
    const b = openPostgres(url, { max: 1 })
    try {
      const [ra, rb] = await Promise.all([migrate(a, list), migrate(b, list)])
      expect([...ra, ...rb].sort()).toEqual(["race/000", "race/001", "race/002"])
      expect(ra.length === 0 || rb.length === 0).toBe(true)
      const n = await db.get<{ c: number }>(
        "SELECT COUNT(*) AS c FROM logbook_migrations WHERE id LIKE 'race/%'",
      )
      expect(Number(n?.c)).toBe(3)
    } finally {
      await a.close()
      await b.close()
    }
  })
})
