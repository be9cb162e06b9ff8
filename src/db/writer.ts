/**
 * The group-commit writer. Callers enqueue rows and await their commit; everything queued during one
 * event-loop turn is written at the end of that turn in one transaction, with one multi-row INSERT per
 * (table, columns) run. A request is answered only after its rows are committed. The queue is bounded:
 * when full, `insert` throws WriterFullError (503 + Retry-After), never dropping accepted data. If a
 * group fails, each operation is retried alone so one bad row fails only its own caller.
 *
 * On SQLite the writer's INSERTs are `INSERT OR FAIL`: a group is all-or-nothing anyway (any error rolls
 * back the whole transaction, then each operation is retried alone), so SQLite's statement-level undo is
 * never needed — and with the default ABORT every multi-row INSERT into a table with NOT NULL columns
 * keeps a statement journal of the pages it touches, which for an indexed table spills past its 64 KiB
 * in-memory budget into a temporary file (measured: ~3 pwrite calls per row, 13 → 6 µs per log record).
 */
import type { Db, Row, SyncStatements } from "./database"

/** A statement with its parameters (code-defined SQL; values only as parameters). */
export interface Statement {
  sql: string
  params: readonly unknown[]
}

/**
 * Statements derived from inserted rows, run in the same transaction right after them: for derived data
 * kept per batch instead of per row (a full-text index, per-minute counts). Called once per group of
 * queued operations sharing this function, with all their rows and the `returning` values in row order.
 */
export type AfterInsert = (rows: readonly (readonly unknown[])[], returned: readonly unknown[]) => Statement[]

export interface InsertOp {
  table: string
  columns: readonly string[]
  rows: readonly (readonly unknown[])[]
  /** Column to return for each row (e.g. "id"); the promise resolves to those values in row order. */
  returning?: string
  /** SQL appended after VALUES, e.g. "ON CONFLICT DO NOTHING". Code-defined only. */
  suffix?: string
  /** Derived statements for the group's rows (see AfterInsert); ops with the same function share a call. */
  after?: AfterInsert
}

export class WriterFullError extends Error {
  constructor(readonly retryAfterSeconds = 1) {
    super("the write queue is full; retry shortly")
  }
}

export interface WriterStats {
  queuedRows: number
  flushes: number
  rowsWritten: number
  lastFlushRows: number
}

export interface Writer {
  insert(op: InsertOp): Promise<unknown[]>
  /** Arbitrary statements inside the next group transaction. */
  run<T>(fn: (tx: Db) => Promise<T>): Promise<T>
  /** Resolves once everything queued so far is committed. */
  drain(): Promise<void>
  stats(): WriterStats
  /** Refuse new work, drain, stop. */
  close(): Promise<void>
}

interface RunOp {
  kind: "run"
  fn: (tx: Db) => Promise<unknown>
  resolve: (v: unknown) => void
  reject: (e: unknown) => void
}
type Pending =
  | { kind: "insert"; op: InsertOp; resolve: (v: unknown[]) => void; reject: (e: unknown) => void }
  | RunOp

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/

export function createWriter(
  db: Db,
  opts: { maxQueuedRows: number; onFlush?: (rows: number, ms: number, queued: number) => void },
): Writer {
  let queue: Pending[] = []
  let queuedRows = 0
  let flushing = false
  let scheduled = false
  let closed = false
  let drainWaiters: Array<() => void> = []
  const stats = { flushes: 0, rowsWritten: 0, lastFlushRows: 0 }
  const maxParams = db.dialect === "sqlite" ? 32_000 : 60_000
  const insertInto = db.dialect === "sqlite" ? "INSERT OR FAIL INTO" : "INSERT INTO"

  const schedule = () => {
    if (scheduled || flushing) return
    scheduled = true
    setImmediate(flush)
  }

  const sqlCache = new Map<string, string>()
  const insertSql = (
    table: string,
    columns: readonly string[],
    rows: number,
    suffix?: string,
    returning?: string,
  ) => {
    const key = `${table}|${columns.join(",")}|${rows}|${suffix ?? ""}|${returning ?? ""}`
    let sql = sqlCache.get(key)
    if (!sql) {
      const rowPh = `(${columns.map(() => "?").join(", ")})`
      sql = `${insertInto} ${table} (${columns.join(", ")}) VALUES ${Array.from({ length: rows }, () => rowPh).join(", ")}${suffix ? ` ${suffix}` : ""}${returning ? ` RETURNING ${returning}` : ""}`
      if (sqlCache.size < 1000) sqlCache.set(key, sql)
    }
    return sql
  }

  const rowsOf = (ops: InsertOp[]) => {
    if (ops.length === 1) return ops[0].rows
    const all: (readonly unknown[])[] = []
    for (const op of ops) for (const r of op.rows) all.push(r)
    return all
  }

  /** One multi-row statement per chunk for ops that share table, columns, returning and suffix. */
  function insertStatements(ops: InsertOp[], all: readonly (readonly unknown[])[]): Statement[] {
    const { table, columns, returning, suffix } = ops[0]
    // Chunks are powers of two (capped by the parameter limit), so the statement texts repeat and the
    // prepared statements are reused: a batch of 37 rows is 32 + 4 + 1, never a one-off 37-row text.
    const maxChunk = 2 ** Math.floor(Math.log2(Math.max(1, Math.floor(maxParams / columns.length))))
    const statements: Statement[] = []
    for (let i = 0; i < all.length; ) {
      let size = maxChunk
      while (size > all.length - i) size >>= 1
      statements.push({
        sql: insertSql(table, columns, size, suffix, returning),
        params: all.slice(i, i + size).flat(),
      })
      i += size
    }
    return statements
  }

  /** The rows returned for all ops' rows, in row order → the returned column, one list per op. */
  function perOp(ops: InsertOp[], rows: Row[]): unknown[][] {
    const returning = ops[0].returning
    const out: unknown[][] = []
    let at = 0
    for (const op of ops) {
      out.push(returning ? rows.slice(at, at + op.rows.length).map((r) => r[returning]) : [])
      at += op.rows.length
    }
    return out
  }

  /** The group's AfterInsert statements, given its rows and what the INSERTs returned. */
  function afterStatements(ops: InsertOp[], all: readonly (readonly unknown[])[], rows: Row[]): Statement[] {
    const { after, returning } = ops[0]
    if (!after) return []
    return after(all, returning ? rows.map((r) => r[returning]) : [])
  }

  async function writeInserts(tx: Db, ops: InsertOp[]): Promise<unknown[][]> {
    const all = rowsOf(ops)
    const rows: Row[] = []
    for (const { sql, params } of insertStatements(ops, all))
      if (ops[0].returning) rows.push(...(await tx.all(sql, params)))
      else await tx.run(sql, params)
    for (const { sql, params } of afterStatements(ops, all, rows)) await tx.run(sql, params)
    return perOp(ops, rows)
  }

  function writeInsertsSync(tx: SyncStatements, ops: InsertOp[]): unknown[][] {
    const all = rowsOf(ops)
    const rows: Row[] = []
    for (const { sql, params } of insertStatements(ops, all))
      if (ops[0].returning) for (const r of tx.all(sql, params)) rows.push(r)
      else tx.run(sql, params)
    for (const { sql, params } of afterStatements(ops, all, rows)) tx.run(sql, params)
    return perOp(ops, rows)
  }

  const sameShape = (a: InsertOp, b: InsertOp) =>
    a.table === b.table &&
    a.returning === b.returning &&
    a.suffix === b.suffix &&
    a.after === b.after &&
    a.columns.length === b.columns.length &&
    a.columns.every((c, i) => c === b.columns[i])

  /** The batch cut into runs: one `run` function, or consecutive inserts of the same shape. */
  function runsOf(batch: Pending[]): Array<{ at: number; run?: RunOp; inserts?: InsertOp[] }> {
    const runs: Array<{ at: number; run?: RunOp; inserts?: InsertOp[] }> = []
    for (let i = 0; i < batch.length; ) {
      const p = batch[i]
      if (p.kind === "run") {
        runs.push({ at: i, run: p })
        i++
        continue
      }
      const inserts = [p.op]
      let j = i + 1
      for (let q = batch[j]; q?.kind === "insert" && sameShape(p.op, q.op); q = batch[++j]) inserts.push(q.op)
      runs.push({ at: i, inserts })
      i = j
    }
    return runs
  }

  async function writeGroup(tx: Db, batch: Pending[]): Promise<unknown[]> {
    const results: unknown[] = new Array(batch.length)
    for (const { at, run, inserts } of runsOf(batch)) {
      if (run) results[at] = await run.fn(tx)
      else
        (await writeInserts(tx, inserts as InsertOp[])).forEach((r, k) => {
          results[at + k] = r
        })
    }
    return results
  }

  /** A batch of inserts only, in one synchronous SQLite transaction; undefined when that is not possible. */
  function writeGroupSync(batch: Pending[]): unknown[] | undefined {
    if (!db.transactionSync || batch.some((p) => p.kind === "run")) return undefined
    return db.transactionSync((tx) => {
      const results: unknown[] = new Array(batch.length)
      for (const { at, inserts } of runsOf(batch))
        writeInsertsSync(tx, inserts as InsertOp[]).forEach((r, k) => {
          results[at + k] = r
        })
      return results
    })?.value
  }

  async function flush() {
    scheduled = false
    if (flushing) return
    flushing = true
    while (queue.length) {
      const batch = queue
      const rows = queuedRows
      queue = []
      queuedRows = 0
      const started = performance.now()
      let written = rows
      try {
        const results = writeGroupSync(batch) ?? (await db.transaction((tx) => writeGroup(tx, batch)))
        for (let i = 0; i < batch.length; i++) (batch[i].resolve as (v: unknown) => void)(results[i])
      } catch {
        // isolate the failure: each operation in its own transaction (a `run` function runs again)
        for (const p of batch) {
          try {
            const [r] = await db.transaction((tx) => writeGroup(tx, [p]))
            ;(p.resolve as (v: unknown) => void)(r)
          } catch (e) {
            written -= p.kind === "insert" ? p.op.rows.length : 1
            p.reject(e)
          }
        }
      }
      stats.flushes++
      stats.rowsWritten += written
      stats.lastFlushRows = rows
      opts.onFlush?.(rows, performance.now() - started, queuedRows)
    }
    flushing = false
    const waiters = drainWaiters
    drainWaiters = []
    for (const w of waiters) w()
  }

  const admit = (rows: number) => {
    if (closed) throw new WriterFullError(5)
    if (queuedRows > 0 && queuedRows + rows > opts.maxQueuedRows) throw new WriterFullError(1)
  }

  return {
    insert(op) {
      if (
        !IDENT.test(op.table) ||
        !op.columns.every((c) => IDENT.test(c)) ||
        (op.returning && !IDENT.test(op.returning))
      )
        return Promise.reject(new Error(`writer: bad identifier in insert into ${op.table}`))
      if (op.rows.length === 0) return Promise.resolve([])
      try {
        admit(op.rows.length)
      } catch (e) {
        return Promise.reject(e)
      }
      return new Promise((resolve, reject) => {
        queue.push({ kind: "insert", op, resolve, reject })
        queuedRows += op.rows.length
        schedule()
      })
    },
    run<T>(fn: (tx: Db) => Promise<T>) {
      try {
        admit(1)
      } catch (e) {
        return Promise.reject(e)
      }
      return new Promise<T>((resolve, reject) => {
        queue.push({ kind: "run", fn, resolve: resolve as (v: unknown) => void, reject })
        queuedRows += 1
        schedule()
      })
    },
    drain() {
      if (!queue.length && !flushing) return Promise.resolve()
      return new Promise((r) => drainWaiters.push(r))
    },
    stats: () => ({ queuedRows, ...stats }),
    async close() {
      closed = true
      while (queue.length || flushing) await new Promise<void>((r) => drainWaiters.push(r))
    },
  }
}
