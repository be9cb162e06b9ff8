/**
 * The core's tables as drizzle schemas, one per dialect (`sqlite-core`, `pg-core`). The SQL migrations in
 * tokens.ts create them; tables.test.ts checks that both schemas infer the same row type (type level) and
 * match the migrated tables column for column (run time). Property names are the column names, so rows
 * read through `Db` (plain SQL) have exactly the inferred type.
 */
import { bigint, bigserial, pgTable, text as pgText } from "drizzle-orm/pg-core"
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core"

export const sqliteTokens = sqliteTable("logbook_tokens", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull().unique(),
  roles: text("roles").notNull(),
  digest: text("digest").notNull().unique(),
  created_at: integer("created_at").notNull(),
  last_used_at: integer("last_used_at"),
  revoked_at: integer("revoked_at"),
})

export const pgTokens = pgTable("logbook_tokens", {
  id: bigserial("id", { mode: "number" }).primaryKey(),
  name: pgText("name").notNull().unique(),
  roles: pgText("roles").notNull(),
  digest: pgText("digest").notNull().unique(),
  created_at: bigint("created_at", { mode: "number" }).notNull(),
  last_used_at: bigint("last_used_at", { mode: "number" }),
  revoked_at: bigint("revoked_at", { mode: "number" }),
})

export const sqliteKv = sqliteTable("logbook_kv", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
})

export const pgKv = pgTable("logbook_kv", {
  key: pgText("key").primaryKey(),
  value: pgText("value").notNull(),
})

/** A stored token, as both dialects infer it. */
export type TokenRecord = typeof sqliteTokens.$inferSelect
