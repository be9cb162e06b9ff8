/**
 * One small database interface over both dialects: bun:sqlite (embedded default) and PostgreSQL
 * (postgres.js). SQL is written with `?` placeholders and parameters; for PostgreSQL the placeholders are
 * rewritten to `$1…` once per statement text (cached) and the statement is prepared by postgres.js.
 * User text only ever travels as a parameter. `orm` is the drizzle instance over the same connection for
 * code that prefers the query builder.
 */
import { Database, type Statement } from "bun:sqlite"
import { AsyncLocalStorage } from "node:async_hooks"
import { mkdirSync } from "node:fs"
import { dirname } from "node:path"
import { type BunSQLiteDatabase, drizzle as drizzleSqlite } from "drizzle-orm/bun-sqlite"
import { drizzle as drizzlePg, type PostgresJsDatabase } from "drizzle-orm/postgres-js"
import postgres from "postgres"
import { startCheckpointer } from "./sqlite-checkpoint"

export type Dialect = "sqlite" | "postgres"
export type Row = Record<string, unknown>
export type Orm =
  | { dialect: "sqlite"; db: BunSQLiteDatabase }
  | { dialect: "postgres"; db: PostgresJsDatabase }

export interface Db {
  readonly dialect: Dialect
  all<T = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>
  get<T = Row>(sql: string, params?: readonly unknown[]): Promise<T | undefined>
  /** Runs a statement; resolves to the number of rows changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>
  /** Runs several statements separated by `;` (migrations); no parameters. */
  exec(sql: string): Promise<void>
  /** fn runs inside one transaction; nested calls reuse it. */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>
  /**
   * SQLite only: fn runs to its end synchronously inside one transaction (nothing can interleave, so no
   * await, no isolation bookkeeping) — or not at all (undefined) while another transaction is open, and the
   * caller takes `transaction` instead. The group-commit writer's hot path.
   */
  transactionSync?<T>(fn: (tx: SyncStatements) => T): { value: T } | undefined
  /**
   * drizzle over the same connection. On SQLite it executes directly on the handle, outside the
   * transaction isolation of all/get/run: use it for reads, or inside `transaction` only.
   */
  readonly orm: Orm
  /**
   * Raw handles for dialect-specific needs (LISTEN/NOTIFY, PRAGMA data_version). SQLite connections also
   * have the SQL function `unicode_lower(text)` (JavaScript's toLowerCase), since SQLite's own lower() folds
   * ASCII only; PostgreSQL's lower() already folds by the database's character type.
   */
  readonly sqlite?: Database
  readonly pg?: postgres.Sql
  /** Called after each statement with its text and duration (metrics); one observer, set once. */
  observe(observer: (sql: string, durationMs: number) => void): void
  close(): Promise<void>
}

/** The statements a synchronous transaction can run (bun:sqlite answers without a promise). */
export interface SyncStatements {
  all<T = Row>(sql: string, params?: readonly unknown[]): T[]
  run(sql: string, params?: readonly unknown[]): number
}

const pgSqlCache = new Map<string, string>()
/** `?` → `$n`, skipping quoted strings and identifiers. */
export function toPgPlaceholders(sql: string): string {
  const cached = pgSqlCache.get(sql)
  if (cached) return cached
  let out = ""
  let n = 0
  let quote: string | null = null
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]
    if (quote) {
      if (c === quote) quote = null
      out += c
    } else if (c === "'" || c === '"') {
      quote = c
      out += c
    } else if (c === "?") {
      out += `$${++n}`
    } else out += c
  }
  if (pgSqlCache.size < 5000) pgSqlCache.set(sql, out)
  return out
}

type SqliteParam = string | number | bigint | boolean | null | Uint8Array
const sqliteParams = (params: readonly unknown[]): SqliteParam[] =>
  params.map((p) =>
    p === undefined
      ? null
      : typeof p === "object" && p !== null && !(p instanceof Uint8Array)
        ? JSON.stringify(p)
        : (p as SqliteParam),
  )

/** Prepared statements kept per SQLite connection (least recently used evicted beyond this). */
const STATEMENT_CACHE = 512

/**
 * Prepared statements by SQL text, least recently used evicted. bun:sqlite's own `query` cache holds 20
 * statements (and none whose text exceeds 64 KiB): with every plugin's statements and the writer's multi-row
 * INSERTs, hot statements were parsed and planned again and again (5% of a records ingestion profile).
 */
function statementCache(raw: Database) {
  const cache = new Map<string, Statement>()
  return {
    get(sql: string): Statement {
      let stmt = cache.get(sql)
      if (stmt) {
        cache.delete(sql)
        cache.set(sql, stmt)
        return stmt
      }
      stmt = raw.prepare(sql)
      if (cache.size >= STATEMENT_CACHE) {
        const [oldest, evicted] = cache.entries().next().value as [string, Statement]
        cache.delete(oldest)
        evicted.finalize()
      }
      cache.set(sql, stmt)
      return stmt
    },
    clear() {
      for (const stmt of cache.values()) stmt.finalize()
      cache.clear()
    },
  }
}

export function openSqlite(path: string): Db {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true })
  const raw = new Database(path, { create: true, strict: false })
  // busy timeout first: switching to WAL needs a lock another process (a seeder, a second instance) may hold
  raw.exec("PRAGMA busy_timeout = 5000")
  raw.exec("PRAGMA journal_mode = WAL")
  raw.exec("PRAGMA synchronous = NORMAL")
  raw.exec("PRAGMA foreign_keys = ON")
  // SQLite's lower() folds ASCII only ("Ü" stays "Ü"): case-insensitive text search uses this instead
  raw.function("unicode_lower", { deterministic: true }, (s: unknown) =>
    typeof s === "string" ? s.toLowerCase() : (s as null),
  )
  const checkpointer = path === ":memory:" ? undefined : startCheckpointer(path)
  if (checkpointer) raw.exec("PRAGMA wal_autocheckpoint = 0")
  // after a checkpoint resets the WAL, a WAL file above 64 MiB is truncated back to that size
  raw.exec("PRAGMA journal_size_limit = 67108864")
  const orm: Orm = { dialect: "sqlite", db: drizzleSqlite(raw) }
  const prepared = statementCache(raw)
  let observer: ((sql: string, ms: number) => void) | undefined
  const timed = <T>(sql: string, f: () => T): T => {
    if (!observer) return f()
    const t0 = performance.now()
    const r = f()
    observer(sql, performance.now() - t0)
    return r
  }

  // One connection, so a transaction spans every statement run on it until COMMIT. While one is open
  // (its function awaits between statements), statements from other async contexts must not slip into
  // it — a ROLLBACK would take their already-acknowledged writes along. The open transaction is known
  // through AsyncLocalStorage: its own code runs straight through (nested calls become savepoints),
  // everyone else waits for it to end.
  const inTx = new AsyncLocalStorage<number>()
  let openTx = 0 // id of the open transaction, 0 = none
  let txSeq = 0
  let txChain: Promise<unknown> = Promise.resolve()
  let savepointSeq = 0
  const outsider = () => openTx !== 0 && inTx.getStore() !== openTx
  /** Runs f now, or — for a caller outside the open transaction — after every queued transaction. */
  const exclusive = <T>(f: () => T): Promise<T> => {
    if (!outsider()) {
      try {
        return Promise.resolve(f())
      } catch (e) {
        return Promise.reject(e)
      }
    }
    const next = txChain.then(f)
    txChain = next.catch(() => undefined)
    return next
  }

  const syncStatements: SyncStatements = {
    all: <T>(sql: string, params: readonly unknown[] = []) =>
      timed(sql, () => prepared.get(sql).all(...sqliteParams(params)) as T[]),
    run: (sql, params = []) => timed(sql, () => prepared.get(sql).run(...sqliteParams(params)).changes),
  }

  const db: Db = {
    dialect: "sqlite",
    sqlite: raw,
    orm,
    all<T>(sql: string, params: readonly unknown[] = []) {
      return exclusive(() => syncStatements.all<T>(sql, params))
    },
    get<T>(sql: string, params: readonly unknown[] = []) {
      return exclusive(() =>
        timed(sql, () => (prepared.get(sql).get(...sqliteParams(params)) ?? undefined) as T | undefined),
      )
    },
    run(sql, params = []) {
      return exclusive(() => syncStatements.run(sql, params))
    },
    observe(o) {
      observer = o
    },
    exec(sql) {
      return exclusive(() => {
        raw.exec(sql)
      })
    },
    async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
      if (openTx !== 0 && inTx.getStore() === openTx) {
        // nested: a savepoint, so a failure inside rolls back only its own part
        const sp = `sp_${++savepointSeq}`
        raw.exec(`SAVEPOINT ${sp}`)
        try {
          const r = await fn(db)
          raw.exec(`RELEASE ${sp}`)
          return r
        } catch (e) {
          raw.exec(`ROLLBACK TO ${sp}`)
          raw.exec(`RELEASE ${sp}`)
          throw e
        }
      }
      const id = ++txSeq
      const next = txChain.then(() =>
        inTx.run(id, async () => {
          raw.exec("BEGIN IMMEDIATE")
          openTx = id
          try {
            const r = await fn(db)
            raw.exec("COMMIT")
            return r
          } catch (e) {
            if (raw.inTransaction) raw.exec("ROLLBACK")
            throw e
          } finally {
            openTx = 0
          }
        }),
      )
      txChain = next.catch(() => undefined)
      return next
    },
    transactionSync<T>(fn: (tx: SyncStatements) => T): { value: T } | undefined {
      // an open transaction awaits between its statements: ours would land inside it
      if (openTx !== 0 || raw.inTransaction) return undefined
      raw.exec("BEGIN IMMEDIATE")
      try {
        const value = fn(syncStatements)
        raw.exec("COMMIT")
        return { value }
      } catch (e) {
        if (raw.inTransaction) raw.exec("ROLLBACK")
        throw e
      }
    },
    async close() {
      await txChain
      if (checkpointer) {
        await checkpointer.stop()
        try {
          raw.exec("PRAGMA wal_checkpoint(TRUNCATE)")
        } catch {
          // another process holds the database: its own checkpointer will do it
        }
      }
      prepared.clear()
      raw.close()
    },
  }
  return db
}

let savepointSeq = 0

interface PgObserver {
  fn?: (sql: string, ms: number) => void
}

function wrapPg(
  sql: postgres.Sql | postgres.TransactionSql | postgres.ReservedSql,
  root: postgres.Sql,
  orm: Orm,
  obs: PgObserver,
  /** pool: the root pool; tx: inside begin(); conn / connTx: a reserved connection, outside / inside BEGIN. */
  mode: "pool" | "tx" | "conn" | "connTx",
): Db {
  const db: Db = {
    dialect: "postgres",
    pg: root,
    orm,
    async all<T>(text: string, params: readonly unknown[] = []) {
      const t0 = obs.fn ? performance.now() : 0
      const rows = (await sql.unsafe(toPgPlaceholders(text), params as postgres.ParameterOrJSON<never>[], {
        prepare: true,
      })) as unknown as T[]
      obs.fn?.(text, performance.now() - t0)
      return rows
    },
    async get<T>(text: string, params: readonly unknown[] = []) {
      const rows = await db.all<T>(text, params)
      return rows[0]
    },
    async run(text, params = []) {
      const t0 = obs.fn ? performance.now() : 0
      const r = await sql.unsafe(toPgPlaceholders(text), params as postgres.ParameterOrJSON<never>[], {
        prepare: true,
      })
      obs.fn?.(text, performance.now() - t0)
      return r.count
    },
    observe(o) {
      obs.fn = o
    },
    async exec(text) {
      await sql.unsafe(text)
    },
    async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
      // nested: a savepoint, so a failure inside rolls back only its own part
      if (mode === "tx")
        return (await (sql as postgres.TransactionSql).savepoint((sp) =>
          fn(wrapPg(sp, root, orm, obs, "tx")),
        )) as T
      if (mode === "pool")
        return (await (sql as postgres.Sql).begin((tx) => fn(wrapPg(tx, root, orm, obs, "tx")))) as T
      // a reserved connection has no begin(): the same by hand
      const [start, commit, rollback] =
        mode === "conn"
          ? ["BEGIN", "COMMIT", "ROLLBACK"]
          : ((n) => [`SAVEPOINT ${n}`, `RELEASE SAVEPOINT ${n}`, `ROLLBACK TO SAVEPOINT ${n}`])(
              `sp_${++savepointSeq}`,
            )
      await sql.unsafe(start)
      try {
        const r = await fn(mode === "conn" ? wrapPg(sql, root, orm, obs, "connTx") : db)
        await sql.unsafe(commit)
        return r
      } catch (e) {
        await sql.unsafe(rollback)
        throw e
      }
    },
    async close() {
      await root.end({ timeout: 5 })
    },
  }
  return db
}

export function openPostgres(url: string, opts: { max?: number } = {}): Db {
  const root = postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    // as on SQLite: an undefined parameter is NULL (postgres.js would throw)
    transform: { undefined: null },
    // int8 (counts, microsecond timestamps) as JS numbers: our values stay below 2^53
    types: {
      bigint: { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) },
    },
  })
  return wrapPg(root, root, { dialect: "postgres", db: drizzlePg(root) }, {}, "pool")
}

/**
 * Runs fn with a Db bound to one reserved PostgreSQL connection (session-level state such as advisory
 * locks stays on it); the connection is released afterwards.
 */
export async function withPgConnection<T>(db: Db, fn: (conn: Db) => Promise<T>): Promise<T> {
  if (!db.pg) throw new Error("withPgConnection needs a PostgreSQL database")
  const conn = await db.pg.reserve()
  try {
    return await fn(wrapPg(conn, db.pg, db.orm, {}, "conn"))
  } finally {
    conn.release()
  }
}

/** `postgres://…` → PostgreSQL; `:memory:` → throw-away SQLite; otherwise a SQLite file. */
export function openDatabase(url: string, dataDir: string): Db {
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgres(url)
  if (url === ":memory:") return openSqlite(":memory:")
  if (url.startsWith("sqlite:")) return openSqlite(url.slice("sqlite:".length))
  return openSqlite(`${dataDir}/logbook.sqlite`)
}
