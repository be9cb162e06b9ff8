import { afterAll, beforeAll, expect, test } from "bun:test"
import { getTableColumns } from "drizzle-orm"
import { testDatabase } from "../../test/support"
import type { Db } from "../db/database"
import { migrate } from "../db/migrate"
import { pgKv, pgTokens, sqliteKv, sqliteTokens } from "./tables"
import { tokenMigrations } from "./tokens"

// ---- type level: both dialects infer the same rows (tsc --noEmit fails on drift) ----------------------
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
type Assert<T extends true> = T
export type TokensSelect = Assert<Equal<typeof sqliteTokens.$inferSelect, typeof pgTokens.$inferSelect>>
export type TokensInsert = Assert<Equal<typeof sqliteTokens.$inferInsert, typeof pgTokens.$inferInsert>>
export type KvSelect = Assert<Equal<typeof sqliteKv.$inferSelect, typeof pgKv.$inferSelect>>
// the check can fail: a differing type is not Equal
// @ts-expect-error number | null is not number
export type Differs = Assert<Equal<{ a: number }, { a: number | null }>>

// ---- run time: the schemas match the tables the SQL migrations create --------------------------------
let db: Db
let drop: () => Promise<void>
beforeAll(async () => {
  ;({ db, drop } = await testDatabase())
  await migrate(db, tokenMigrations)
}, 30_000)
afterAll(async () => {
  await db.close()
  await drop()
}, 30_000)

async function columnsOf(table: string): Promise<Array<{ name: string; notNull: boolean }>> {
  if (db.dialect === "sqlite") {
    const rows = await db.all<{ name: string; notnull: number; pk: number }>(`PRAGMA table_info(${table})`)
    return rows.map((r) => ({ name: r.name, notNull: r.notnull === 1 || r.pk === 1 }))
  }
  const rows = await db.all<{ column_name: string; is_nullable: string }>(
    "SELECT column_name, is_nullable FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
    [table],
  )
  return rows.map((r) => ({ name: r.column_name, notNull: r.is_nullable === "NO" }))
}

test.each([
  ["logbook_tokens", sqliteTokens, pgTokens],
  ["logbook_kv", sqliteKv, pgKv],
] as const)("drizzle schemas of %s match the migrated table", async (table, lite, pg) => {
  const schema = db.dialect === "sqlite" ? lite : pg
  const declared = Object.values(getTableColumns(schema)).map((c) => ({ name: c.name, notNull: c.notNull }))
  expect(await columnsOf(table)).toEqual(declared)
})
