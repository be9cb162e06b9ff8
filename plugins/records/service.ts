/**
 * Records: plain functions over the database (no HTTP, no Elysia), shared by the Chronologer surface,
 * the native API, the UI and the jobs.
 *
 * New-record notification (for the live tail): after every committed ingestion this module emits
 * `ctx.events.emit("records.ingested", { ids, count })` — the event is declared below on LogbookEvents.
 * Subscribe with `ctx.events.on("records.ingested", ({ ids }) => …)` and read the rows with
 * `search(db, { afterId, … })` or `getRecord`. Listeners run synchronously after commit; keep them short.
 *
 * Times are integer microseconds since the epoch (UTC) everywhere in this module. Lists are newest first
 * (`ts DESC, id DESC`).
 */
import type { Db } from "../../src/db/database"
import type { AfterInsert } from "../../src/db/writer"
import type { PluginContext } from "../../src/plugin/contract"
import { levelName } from "./levels"
import { logrecJson } from "./normalise"
import { compileQuery, type Probe, SearchError } from "./query"
import { derivedAfterInsert, RECORD_COLUMNS, RECORDS_TABLE } from "./schema"

export { levelName, levelNumber, parseLevel } from "./levels"
export { SearchError } from "./query"

declare module "../../src/plugin/contract" {
  interface LogbookEvents {
    /** Records committed by any ingestion path (ids in insertion order). */
    "records.ingested": { ids: number[]; count: number }
  }
}

/** The Python-side details of a record: `extra` keys, LogRecord attributes, exception text. */
export interface Logrec {
  data?: Record<string, unknown>
  meta?: Record<string, unknown>
  error?: { exc_info?: unknown; exc_text?: unknown }
  [key: string]: unknown
}

/** A record ready to store (see normalise.ts). */
export interface NormalisedRecord {
  /** Microseconds since the epoch, UTC. */
  ts: number
  /** 0–255 */
  level: number
  name: string
  message: string
  logrec: Logrec
}

export interface RecordRow extends NormalisedRecord {
  id: number
}

export interface SearchOptions {
  /** The query language (query.ts); empty = everything. */
  query?: string
  /** from ≤ ts (µs) */
  from?: number
  /** ts < to (µs) */
  to?: number
  levelMin?: number
  /** Opaque, from a previous page's nextCursor. */
  cursor?: string
  limit: number
  /** Only records with a larger id (live tail: "what came since"). */
  afterId?: number
}

export interface SearchPage {
  items: RecordRow[]
  nextCursor?: string
}

export interface HistogramBucket {
  /** Bucket start, µs. */
  start: number
  /** Record count per level name (only non-zero levels). */
  counts: Record<string, number>
}

export interface AroundResult {
  record: RecordRow
  /** Older records, newest first. */
  before: RecordRow[]
  /** Newer records, newest first. */
  after: RecordRow[]
}

const SELECT_COLUMNS = "id, ts, level, name, message, logrec"

interface DbRow {
  id: number
  ts: number
  level: number
  name: string
  message: string
  logrec: string | Logrec | null
}

export function toRecord(r: DbRow): RecordRow {
  const logrec = typeof r.logrec === "string" ? (JSON.parse(r.logrec) as Logrec) : (r.logrec ?? {})
  return {
    id: Number(r.id),
    ts: Number(r.ts),
    level: Number(r.level),
    name: r.name,
    message: r.message,
    logrec,
  }
}

/** SQLite: full-text index and per-minute counts for a committed batch (ids ascending), see schema.ts. */
const sqliteDerived: AfterInsert = (rows, ids) => {
  let lo = Number(ids[0])
  let hi = lo
  for (const id of ids) {
    const n = Number(id)
    if (n < lo) lo = n
    else if (n > hi) hi = n
  }
  return derivedAfterInsert(lo, hi, rows)
}

/** Stores records through the group-commit writer; resolves with their ids after commit. */
export async function ingest(
  ctx: Pick<PluginContext, "writer" | "events" | "db">,
  records: readonly NormalisedRecord[],
): Promise<number[]> {
  if (records.length === 0) return []
  // JSON text on both dialects: TEXT on SQLite, parsed into jsonb by PostgreSQL
  const rows = records.map((r) => [r.ts, r.level, r.name, r.message, logrecJson(r.logrec)])
  const ids = (
    await ctx.writer.insert({
      table: RECORDS_TABLE,
      columns: RECORD_COLUMNS,
      rows,
      returning: "id",
      ...(ctx.db.dialect === "sqlite" ? { after: sqliteDerived } : {}),
    })
  ).map(Number)
  if (ctx.events.has("records.ingested")) ctx.events.emit("records.ingested", { ids, count: ids.length })
  return ids
}

interface Where {
  clauses: string[]
  params: unknown[]
  probes: Probe[]
}

function baseWhere(db: Db, opts: { query?: string; from?: number; to?: number; levelMin?: number }): Where {
  const w: Where = { clauses: [], params: [], probes: [] }
  if (opts.from !== undefined) {
    w.clauses.push("ts >= ?")
    w.params.push(opts.from)
  }
  if (opts.to !== undefined) {
    w.clauses.push("ts < ?")
    w.params.push(opts.to)
  }
  if (opts.levelMin !== undefined) {
    w.clauses.push("level >= ?")
    w.params.push(opts.levelMin)
    w.probes.push({
      index: "level",
      sql: "SELECT id FROM records_records WHERE level >= ?",
      params: [opts.levelMin],
    })
  }
  if (opts.query?.trim()) {
    const q = compileQuery(opts.query, db.dialect)
    if (q.sql) {
      w.clauses.push(`(${q.sql})`)
      w.params.push(...q.params)
      w.probes.push(...(q.probes ?? []))
    }
  }
  return w
}

const whereSql = (w: Where) => (w.clauses.length ? `WHERE ${w.clauses.join(" AND ")}` : "")

function encodeCursor(row: RecordRow): string {
  return Buffer.from(`${row.ts}:${row.id}`).toString("base64url")
}

function decodeCursor(cursor: string): { ts: number; id: number } {
  const m = /^(-?\d{1,17}):(\d{1,17})$/.exec(Buffer.from(cursor, "base64url").toString())
  if (!m) throw new SearchError("invalid cursor")
  return { ts: Number(m[1]), id: Number(m[2]) }
}

const PROBE_CAP = 2000

/**
 * SQLite's planner does not weigh LIMIT: for "newest N where logger/level/text…" it picks the index of
 * the condition and sorts every match (a second per million rows), although walking the ts index
 * backwards stops after a few thousand rows when matches are common. So we count up to PROBE_CAP
 * matches of each index-driven condition (a capped covering-index or FTS scan, well under a
 * millisecond): if one is rare, its index drives the query and the sort is small; otherwise the ts
 * index does. PostgreSQL's planner costs LIMIT itself and gets no hint.
 */
export async function accessPath(db: Db, probes: readonly Probe[]): Promise<string> {
  if (db.dialect !== "sqlite" || probes.length === 0) return ""
  let best: { probe: Probe; n: number } | undefined
  for (const probe of probes) {
    const row = await db.get<{ n: number }>(
      `SELECT COUNT(*) AS n FROM (${probe.sql} LIMIT ${PROBE_CAP})`,
      probe.params,
    )
    const n = Number(row?.n ?? 0)
    if (n < PROBE_CAP && (!best || n < best.n)) best = { probe, n }
  }
  if (!best) return "INDEXED BY records_records_ts"
  // NOT INDEXED still allows rowid lookups: the FTS id list drives the query
  return best.probe.index === "fts" ? "NOT INDEXED" : `INDEXED BY records_records_${best.probe.index}_ts`
}

/** Newest first, `limit` per page; pass `nextCursor` back as `cursor` for the next page. */
export async function search(db: Db, opts: SearchOptions): Promise<SearchPage> {
  const w = baseWhere(db, opts)
  if (opts.cursor) {
    const c = decodeCursor(opts.cursor)
    w.clauses.push("(ts < ? OR (ts = ? AND id < ?))")
    w.params.push(c.ts, c.ts, c.id)
  }
  if (opts.afterId !== undefined) {
    w.clauses.push("id > ?")
    w.params.push(opts.afterId)
  }
  const limit = Math.max(1, Math.min(Math.floor(opts.limit), 10_000))
  // the live tail asks for the few rows after the newest it has: a rowid range (NOT INDEXED still uses
  // the primary key) finds them at once, where the ts index would be walked from the newest row down
  const hint =
    opts.afterId !== undefined && db.dialect === "sqlite" ? "NOT INDEXED" : await accessPath(db, w.probes)
  const rows = await db.all<DbRow>(
    `SELECT ${SELECT_COLUMNS} FROM ${RECORDS_TABLE} ${hint} ${whereSql(w)} ORDER BY ts DESC, id DESC LIMIT ?`,
    [...w.params, limit + 1],
  )
  const items = rows.slice(0, limit).map(toRecord)
  return rows.length > limit ? { items, nextCursor: encodeCursor(items[items.length - 1]) } : { items }
}

const MINUTE = 60_000_000

/**
 * Counts per level band in buckets of `bucketSeconds` from `from` (µs) up to `to` (exclusive).
 * Without a query, whole minutes come from the per-minute rollup `records_counts` (kept exact on insert and delete) and
 * only the partial minutes at bucket edges are counted in the records table: a 24-hour histogram reads
 * ~1,500 rollup rows instead of every record of the day. With a query, the records are counted.
 */
export async function histogram(
  db: Db,
  opts: { query?: string; from: number; to: number; bucketSeconds: number; levelMin?: number },
): Promise<HistogramBucket[]> {
  const bucket = Math.max(1, Math.floor(opts.bucketSeconds)) * 1_000_000
  const buckets: HistogramBucket[] = []
  const count = Math.ceil((opts.to - opts.from) / bucket)
  for (let i = 0; i < count; i++) buckets.push({ start: opts.from + i * bucket, counts: {} })
  const add = (b: number, level: number, n: number) => {
    const target = buckets[b]
    if (!target) return
    const name = levelName(level)
    target.counts[name] = (target.counts[name] ?? 0) + n
  }
  const w = baseWhere(db, opts)
  const bucketOf = `(ts - ?) / ?`
  if (opts.query?.trim() || bucket < MINUTE || count > 1000) {
    const rows = await db.all<{ b: number; level: number; n: number }>(
      `SELECT ${bucketOf} AS b, level, COUNT(*) AS n FROM ${RECORDS_TABLE} ${whereSql(w)} GROUP BY 1, 2`,
      [opts.from, bucket, ...w.params],
    )
    for (const r of rows) add(Number(r.b), Number(r.level), Number(r.n))
    return buckets
  }
  // whole minutes of each bucket from the rollup; the partial minutes at its edges from the records
  const edges: Array<[number, number]> = []
  const edge = (a: number, b: number) => {
    if (b <= a) return
    const last = edges[edges.length - 1]
    if (last && last[1] === a) last[1] = b
    else edges.push([a, b])
  }
  for (let k = 0; k < count; k++) {
    const s = opts.from + k * bucket
    const e = Math.min(s + bucket, opts.to)
    const m0 = Math.ceil(s / MINUTE)
    const m1 = Math.floor(e / MINUTE)
    if (m1 <= m0) edge(s, e)
    else {
      edge(s, m0 * MINUTE)
      edge(m1 * MINUTE, e)
    }
  }
  const level = opts.levelMin === undefined ? "" : " AND level >= ?"
  const levelParams = opts.levelMin === undefined ? [] : [opts.levelMin]
  const minutes = await db.all<{ minute: number; level: number; n: number }>(
    `SELECT minute, level, n FROM records_counts WHERE minute >= ? AND minute < ?${level} AND n > 0`,
    [Math.ceil(opts.from / MINUTE), Math.floor(opts.to / MINUTE), ...levelParams],
  )
  for (const m of minutes) {
    const start = Number(m.minute) * MINUTE
    const k = Math.floor((start - opts.from) / bucket)
    const s = opts.from + k * bucket
    // a minute straddling a bucket boundary is counted from the records instead (it is an edge)
    if (start >= s && start + MINUTE <= Math.min(s + bucket, opts.to)) add(k, Number(m.level), Number(m.n))
  }
  if (edges.length) {
    const ranges = edges.map(() => "(ts >= ? AND ts < ?)").join(" OR ")
    const rows = await db.all<{ b: number; level: number; n: number }>(
      `SELECT ${bucketOf} AS b, level, COUNT(*) AS n FROM ${RECORDS_TABLE} WHERE (${ranges})${level} GROUP BY 1, 2`,
      [opts.from, bucket, ...edges.flat(), ...levelParams],
    )
    for (const r of rows) add(Number(r.b), Number(r.level), Number(r.n))
  }
  return buckets
}

/**
 * Record counts per slot of `slotSeconds` (a multiple of 60; slot = floor(ts / slot)), ascending, only
 * non-empty slots, for from ≤ ts < to and level ≥ levelMin: whole minutes from the rollup, the partial
 * minutes at the ends from the records (Chronologer's HEAD timeline without name/query filters).
 */
export async function slotCounts(
  db: Db,
  opts: { from?: number; to?: number; levelMin?: number; slotSeconds: number },
): Promise<Array<{ slot: number; count: number }>> {
  const slotUs = opts.slotSeconds * 1_000_000
  if (opts.slotSeconds % 60 !== 0) throw new Error("slotSeconds must be a multiple of 60")
  const clauses = ["n > 0"]
  const params: unknown[] = []
  const edges: Array<[number, number]> = []
  if (opts.from !== undefined) {
    const m = Math.ceil(opts.from / MINUTE)
    clauses.push("minute >= ?")
    params.push(m)
    if (opts.to === undefined || m * MINUTE < opts.to)
      edges.push([opts.from, Math.min(m * MINUTE, opts.to ?? Infinity)])
  }
  if (opts.to !== undefined) {
    const m = Math.floor(opts.to / MINUTE)
    clauses.push("minute < ?")
    params.push(m)
    const start = Math.max(m * MINUTE, opts.from ?? -Infinity)
    if (start < opts.to && !edges.some(([a, b]) => a === start && b === opts.to)) edges.push([start, opts.to])
  }
  if (opts.levelMin !== undefined) {
    clauses.push("level >= ?")
    params.push(opts.levelMin)
  }
  const counts = new Map<number, number>()
  const add = (slot: number, n: number) => counts.set(slot, (counts.get(slot) ?? 0) + n)
  const perMinute = opts.slotSeconds / 60
  const minutes = await db.all<{ minute: number; n: number }>(
    `SELECT minute, SUM(n) AS n FROM records_counts WHERE ${clauses.join(" AND ")} GROUP BY minute`,
    params,
  )
  for (const m of minutes) add(Math.floor(Number(m.minute) / perMinute), Number(m.n))
  for (const [a, b] of edges) {
    if (b <= a) continue
    const level = opts.levelMin === undefined ? "" : " AND level >= ?"
    const row = await db.get<{ n: number }>(
      `SELECT COUNT(*) AS n FROM ${RECORDS_TABLE} WHERE ts >= ? AND ts < ?${level}`,
      [a, b, ...(opts.levelMin === undefined ? [] : [opts.levelMin])],
    )
    const n = Number(row?.n ?? 0)
    if (n) add(Math.floor(a / slotUs), n)
  }
  return [...counts.entries()]
    .filter(([, n]) => n > 0)
    .sort((x, y) => x[0] - y[0])
    .map(([slot, count]) => ({ slot, count }))
}

export async function getRecord(db: Db, id: number): Promise<RecordRow | undefined> {
  if (!Number.isSafeInteger(id) || id < 1) return undefined
  const row = await db.get<DbRow>(`SELECT ${SELECT_COLUMNS} FROM ${RECORDS_TABLE} WHERE id = ?`, [id])
  return row ? toRecord(row) : undefined
}

const processExpr = (db: Db) =>
  db.dialect === "sqlite" ? "json_extract(logrec, '$.meta.process')" : "(logrec->'meta'->'process')"

/** The `before` records older and `after` records newer than `id`, optionally of the same logger/process. */
export async function around(
  db: Db,
  id: number,
  opts: { before: number; after: number; sameLogger?: boolean; sameProcess?: boolean },
): Promise<AroundResult | undefined> {
  const record = await getRecord(db, id)
  if (!record) return undefined
  const extra: string[] = []
  const params: unknown[] = []
  if (opts.sameLogger) {
    extra.push("name = ?")
    params.push(record.name)
  }
  const proc = record.logrec.meta?.process
  if (opts.sameProcess && proc !== undefined && proc !== null) {
    extra.push(db.dialect === "sqlite" ? `${processExpr(db)} = ?` : `${processExpr(db)} = ?::jsonb`)
    params.push(db.dialect === "sqlite" ? proc : JSON.stringify(proc))
  }
  const and = extra.map((c) => ` AND ${c}`).join("")
  const clamp = (n: number) => Math.max(0, Math.min(Math.floor(n), 1000))
  const older = await db.all<DbRow>(
    `SELECT ${SELECT_COLUMNS} FROM ${RECORDS_TABLE} WHERE (ts < ? OR (ts = ? AND id < ?))${and} ORDER BY ts DESC, id DESC LIMIT ?`,
    [record.ts, record.ts, record.id, ...params, clamp(opts.before)],
  )
  const newer = await db.all<DbRow>(
    `SELECT ${SELECT_COLUMNS} FROM ${RECORDS_TABLE} WHERE (ts > ? OR (ts = ? AND id > ?))${and} ORDER BY ts ASC, id ASC LIMIT ?`,
    [record.ts, record.ts, record.id, ...params, clamp(opts.after)],
  )
  return { record, before: older.map(toRecord), after: newer.map(toRecord).reverse() }
}

/**
 * Upper bound of the byte-wise range holding every string that starts with `prefix`: names compare
 * byte-wise (BINARY / COLLATE "C"), and U+10FFFF sorts after every other character.
 */
export function prefixUpperBound(prefix: string): string {
  return `${prefix}\u{10FFFF}`
}

/** Distinct logger names (optionally starting with `prefix`) with their record counts, by name. */
export async function loggers(
  db: Db,
  opts: { prefix?: string; limit: number },
): Promise<Array<{ name: string; count: number }>> {
  const params: unknown[] = []
  let where = ""
  if (opts.prefix) {
    where = "WHERE name >= ? AND name < ?"
    params.push(opts.prefix, prefixUpperBound(opts.prefix))
  }
  const rows = await db.all<{ name: string; n: number }>(
    `SELECT name, COUNT(*) AS n FROM ${RECORDS_TABLE} ${where} GROUP BY name ORDER BY name LIMIT ?`,
    [...params, Math.max(1, Math.min(Math.floor(opts.limit), 1000))],
  )
  return rows.map((r) => ({ name: r.name, count: Number(r.n) }))
}

/** Loggers with the most records at ERROR and above in [from, to), most first. */
export async function topErrorLoggers(
  db: Db,
  opts: { from: number; to: number; limit: number },
): Promise<Array<{ name: string; count: number }>> {
  const rows = await db.all<{ name: string; n: number }>(
    `SELECT name, COUNT(*) AS n FROM ${RECORDS_TABLE} WHERE level >= 40 AND ts >= ? AND ts < ? GROUP BY name ORDER BY n DESC, name LIMIT ?`,
    [opts.from, opts.to, Math.max(1, Math.min(Math.floor(opts.limit), 1000))],
  )
  return rows.map((r) => ({ name: r.name, count: Number(r.n) }))
}
