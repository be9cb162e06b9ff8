/**
 * API tokens: random 32-byte secrets shown once at creation, stored only as SHA-256 digests (high-entropy
 * secrets need no slow hash; the digest is the lookup key, so no secret is ever compared in the database).
 */
import { getTableColumns } from "drizzle-orm"
import type { Db } from "../db/database"
import type { Migration } from "../db/migrate"
import type { Role } from "../plugin/contract"
import { sqliteTokens, type TokenRecord } from "./tables"

export const ROLES: readonly Role[] = ["read", "ingest", "admin"]

export const tokenMigrations: Migration[] = [
  {
    id: "core/001_tokens",
    sqlite: `CREATE TABLE logbook_tokens (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      name TEXT NOT NULL UNIQUE,
      roles TEXT NOT NULL,
      digest TEXT NOT NULL UNIQUE,
      created_at INTEGER NOT NULL,
      last_used_at INTEGER,
      revoked_at INTEGER
    );
    CREATE TABLE logbook_kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
    postgres: `CREATE TABLE logbook_tokens (
      id BIGSERIAL PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      roles TEXT NOT NULL,
      digest TEXT NOT NULL UNIQUE,
      created_at BIGINT NOT NULL,
      last_used_at BIGINT,
      revoked_at BIGINT
    );
    CREATE TABLE logbook_kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  },
]

/** A token as read back: every column but the digest (the schema in tables.ts is the source). */
export type TokenRow = Omit<TokenRecord, "digest">
const TOKEN_COLUMNS = Object.keys(getTableColumns(sqliteTokens))
  .filter((c) => c !== "digest")
  .join(", ")

export const digestOf = (token: string) => new Bun.CryptoHasher("sha256").update(token).digest("hex")

export function parseRoles(text: string): Role[] {
  const roles = text
    .split(",")
    .map((r) => r.trim())
    .filter(Boolean)
  const bad = roles.filter((r) => !ROLES.includes(r as Role))
  if (bad.length || roles.length === 0)
    throw new Error(`unknown role ${JSON.stringify(bad[0] ?? text)}; roles are ${ROLES.join(", ")}`)
  return roles as Role[]
}

export async function createToken(
  db: Db,
  opts: { name: string; roles: Role[]; now: number },
): Promise<{ id: number; token: string }> {
  if (!/^[\w.@-]{1,64}$/.test(opts.name)) throw new Error("token name: 1–64 letters, digits, _ . @ -")
  const existing = await db.get("SELECT id FROM logbook_tokens WHERE name = ?", [opts.name])
  if (existing) throw new Error(`a token named ${opts.name} already exists`)
  const token = `lbk_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url")}`
  const row = await db.get<{ id: number }>(
    "INSERT INTO logbook_tokens (name, roles, digest, created_at) VALUES (?, ?, ?, ?) RETURNING id",
    [opts.name, opts.roles.join(","), digestOf(token), opts.now],
  )
  return { id: Number(row?.id), token }
}

export const listTokens = (db: Db) =>
  db.all<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM logbook_tokens ORDER BY id`)

/** A live token by id (sessions). */
export const findLiveTokenById = (db: Db, id: number) =>
  db.get<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM logbook_tokens WHERE id = ? AND revoked_at IS NULL`, [id])

/** Revoke by id or name; resolves to whether a live token was revoked. */
export async function revokeToken(db: Db, idOrName: string, now: number): Promise<boolean> {
  const n = await db.run(
    "UPDATE logbook_tokens SET revoked_at = ? WHERE (name = ? OR CAST(id AS TEXT) = ?) AND revoked_at IS NULL",
    [now, idOrName, idOrName],
  )
  return n > 0
}

export async function findLiveToken(db: Db, token: string): Promise<TokenRow | undefined> {
  return db.get<TokenRow>(
    `SELECT ${TOKEN_COLUMNS} FROM logbook_tokens WHERE digest = ? AND revoked_at IS NULL`,
    [digestOf(token)],
  )
}
