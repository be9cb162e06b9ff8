/**
 * The change log as plain functions over the database: record (through the group-commit writer, so a
 * caller is answered only after commit), list with filters and a (ts, id) cursor, per-category counts,
 * a bucketed histogram for the timeline strip, get by id. No HTTP here: the compat routes, the native
 * API, the UI and other plugins (via the "changes" service) all go through this module.
 */
import type { Db } from "../../src/db/database"
import type { Writer } from "../../src/db/writer"
import type { ChangeEvent } from "../../src/plugin/contract"
import { createLiveFeed } from "./feed"
import { TABLE } from "./schema"

/** Documented maximums, the same on every backend (longer values are refused with 400). */
export const LIMITS = {
  category: 64,
  description: 10_000,
  service: 128,
  environment: 128,
  author: 128,
  url: 2048,
  tags: 32,
  tagKey: 64,
  tagValue: 256,
} as const

export const CRITICALITY_NAMES = ["info", "notice", "warning", "error", "critical"] as const

/** 1 → "info" … 5 → "critical"; anything else (old clients send 0, 8, null) → its number or "?". */
export function criticalityName(c: number | null): string {
  if (c === null) return "?"
  return CRITICALITY_NAMES[c - 1] ?? String(c)
}

/** A change ready to be stored; validated by the caller (compat.ts, api.ts, the timeline service). */
export interface NewChange {
  ts: number
  criticality: number | null
  category: string | null
  description: string | null
  source: string
  service?: string | null
  environment?: string | null
  author?: string | null
  url?: string | null
  tags?: Record<string, string>
}

export interface ChangeFilter {
  /** Inclusive epoch-ms bounds. */
  from?: number
  to?: number
  criticalities?: number[]
  minCriticality?: number
  categories?: string[]
  services?: string[]
  environments?: string[]
  /** Every pair must match. Keys are checked against TAG_KEY by the callers. */
  tags?: Array<[string, string]>
  /** Case-insensitive plain substring of the description (no wildcards). */
  text?: string
  /** Only rows with a larger id (live views catching up). */
  afterId?: number
}

export interface Cursor {
  ts: number
  id: number
}

export const TAG_KEY = /^[A-Za-z0-9_.:/-]{1,64}$/

const COLUMNS = [
  "ts",
  "criticality",
  "category",
  "description",
  "source",
  "service",
  "environment",
  "author",
  "url",
  "tags",
] as const
const SELECT = `SELECT id, ${COLUMNS.join(", ")} FROM ${TABLE}`

interface EventRow {
  id: number
  ts: number
  criticality: number | null
  category: string | null
  description: string | null
  source: string
  service: string | null
  environment: string | null
  author: string | null
  url: string | null
  tags: string | Record<string, string> | null
}

const toEvent = (r: EventRow): ChangeEvent => ({
  id: Number(r.id),
  timestamp: Number(r.ts),
  criticality: r.criticality === null ? null : Number(r.criticality),
  category: r.category,
  description: r.description,
  source: r.source,
  service: r.service,
  environment: r.environment,
  author: r.author,
  url: r.url,
  tags: typeof r.tags === "string" ? (JSON.parse(r.tags) as Record<string, string>) : (r.tags ?? {}),
})

/** An event as the changelog surface shows it. */
export type BriefEvent = Pick<ChangeEvent, "timestamp" | "criticality" | "category" | "description">

const limitOf = (opts: { limit?: number }) =>
  opts.limit === undefined ? "" : ` LIMIT ${Math.max(0, Math.floor(opts.limit))}`

/** WHERE clause and parameters for a filter; every user value is a parameter. */
export function whereOf(db: Db, f: ChangeFilter, cursor?: Cursor): { sql: string; params: unknown[] } {
  const parts: string[] = []
  const params: unknown[] = []
  const inList = (col: string, values: readonly unknown[]) => {
    parts.push(`${col} IN (${values.map(() => "?").join(", ")})`)
    params.push(...values)
  }
  if (f.from !== undefined) {
    parts.push("ts >= ?")
    params.push(f.from)
  }
  if (f.to !== undefined) {
    parts.push("ts <= ?")
    params.push(f.to)
  }
  if (f.criticalities?.length) inList("criticality", f.criticalities)
  if (f.minCriticality !== undefined) {
    parts.push("criticality >= ?")
    params.push(f.minCriticality)
  }
  if (f.categories?.length) inList("category", f.categories)
  if (f.services?.length) inList("service", f.services)
  if (f.environments?.length) inList("environment", f.environments)
  for (const [k, v] of f.tags ?? []) {
    if (db.dialect === "sqlite") {
      parts.push("json_extract(tags, ?) = ?")
      params.push(`$."${k}"`, v)
    } else {
      parts.push("tags ->> ? = ?")
      params.push(k, v)
    }
  }
  if (f.text) {
    // position search instead of LIKE: `%` and `_` in the text are plain characters
    parts.push(
      db.dialect === "sqlite"
        ? "instr(unicode_lower(description), ?) > 0"
        : "strpos(lower(description), lower(?)) > 0",
    )
    params.push(db.dialect === "sqlite" ? f.text.toLowerCase() : f.text)
  }
  if (f.afterId !== undefined) {
    parts.push("id > ?")
    params.push(f.afterId)
  }
  if (cursor) {
    parts.push("(ts < ? OR (ts = ? AND id < ?))")
    params.push(cursor.ts, cursor.ts, cursor.id)
  }
  return { sql: parts.length ? ` WHERE ${parts.join(" AND ")}` : "", params }
}

/**
 * The histogram's bucket width in ms: bucket i holds [from + i·width, from + (i + 1)·width), the last one
 * also `to` itself (the window is inclusive at both ends). The page's windows are whole multiples of 60 ms,
 * so for its 60 buckets the width is exact and the buckets tile [from, to].
 */
export const bucketWidth = (from: number, to: number, buckets: number) =>
  Math.max(1, Math.ceil((to - from) / buckets))

export const encodeCursor = (c: Cursor) => Buffer.from(`${c.ts}:${c.id}`).toString("base64url")
export function decodeCursor(s: string): Cursor | undefined {
  const m = /^(-?\d{1,16}):(\d{1,16})$/.exec(Buffer.from(s, "base64url").toString("utf8"))
  return m ? { ts: Number(m[1]), id: Number(m[2]) } : undefined
}

export interface ChangeStore {
  record(change: NewChange): Promise<number>
  recordMany(changes: readonly NewChange[]): Promise<number[]>
  list(filter: ChangeFilter, opts?: { limit?: number; cursor?: Cursor }): Promise<ChangeEvent[]>
  /** `list` with the four fields the changelog surface answers with (half the reading, no tags to parse). */
  listBrief(filter: ChangeFilter, opts?: { limit?: number }): Promise<BriefEvent[]>
  countByCategory(filter: ChangeFilter): Promise<Array<{ category: string | null; count: number }>>
  count(filter: ChangeFilter): Promise<number>
  /** Events per time bucket and criticality across [from, to] (timeline strip). */
  histogram(
    filter: ChangeFilter & { from: number; to: number },
    buckets: number,
  ): Promise<Array<{ bucket: number; criticality: number | null; count: number }>>
  get(id: number): Promise<ChangeEvent | undefined>
  /** Increases after every committed write in this process (response caches key on it). */
  generation(): number
  /**
   * Called with new events, oldest first: committed by this process at once, by other instances sharing
   * the database within a moment (see feed.ts). Returns an unsubscribe.
   */
  subscribe(fn: (events: ChangeEvent[]) => void): () => void
  /** Stops watching for other instances' events. */
  close(): Promise<void>
  /** The highest id stored (0 when empty). */
  maxId(): Promise<number>
  /** A cheap "is the database answering" probe for /healthcheck: does any row exist? */
  any(): Promise<boolean>
}

export function createChangeStore(db: Db, writer: Writer, opts: { safetyPollMs?: number } = {}): ChangeStore {
  let generation = 0
  const feed = createLiveFeed(
    db,
    {
      after: async (afterId, limit) =>
        (await db.all<EventRow>(`${SELECT} WHERE id > ? ORDER BY id LIMIT ${limit}`, [afterId])).map(toEvent),
      maxId: () => store.maxId(),
    },
    opts,
  )

  async function recordMany(changes: readonly NewChange[]): Promise<number[]> {
    if (!changes.length) return []
    const rows = changes.map((c) => [
      c.ts,
      c.criticality,
      c.category,
      c.description,
      c.source,
      c.service ?? null,
      c.environment ?? null,
      c.author ?? null,
      c.url ?? null,
      // JSON text: stored as TEXT on SQLite; PostgreSQL casts the parameter to the jsonb column
      JSON.stringify(c.tags ?? {}),
    ])
    const ids = (await writer.insert({ table: TABLE, columns: COLUMNS, rows, returning: "id" })).map(Number)
    generation++
    feed.committed(() =>
      changes.map((c, i) =>
        toEvent({
          id: ids[i],
          ...c,
          service: c.service ?? null,
          environment: c.environment ?? null,
          author: c.author ?? null,
          url: c.url ?? null,
          tags: c.tags ?? {},
        }),
      ),
    )
    return ids
  }

  const store: ChangeStore = {
    recordMany,
    record: async (c) => (await recordMany([c]))[0],
    async list(filter, opts = {}) {
      const w = whereOf(db, filter, opts.cursor)
      const rows = await db.all<EventRow>(
        `${SELECT}${w.sql} ORDER BY ts DESC, id DESC${limitOf(opts)}`,
        w.params,
      )
      return rows.map(toEvent)
    },
    async listBrief(filter, opts = {}) {
      const w = whereOf(db, filter)
      const rows = await db.all<BriefEvent & { ts: number }>(
        `SELECT ts, criticality, category, description FROM ${TABLE}${w.sql} ORDER BY ts DESC, id DESC${limitOf(opts)}`,
        w.params,
      )
      return rows.map((r) => ({
        timestamp: Number(r.ts),
        criticality: r.criticality === null ? null : Number(r.criticality),
        category: r.category,
        description: r.description,
      }))
    },
    async countByCategory(filter) {
      const w = whereOf(db, filter)
      const rows = await db.all<{ category: string | null; n: number }>(
        `SELECT category, count(*) AS n FROM ${TABLE}${w.sql} GROUP BY category ORDER BY n DESC, category`,
        w.params,
      )
      return rows.map((r) => ({ category: r.category, count: Number(r.n) }))
    },
    async count(filter) {
      const w = whereOf(db, filter)
      const r = await db.get<{ n: number }>(`SELECT count(*) AS n FROM ${TABLE}${w.sql}`, w.params)
      return Number(r?.n ?? 0)
    },
    async histogram(filter, buckets) {
      const width = bucketWidth(filter.from, filter.to, buckets)
      const w = whereOf(db, filter)
      const rows = await db.all<{ b: number; c: number | null; n: number }>(
        `SELECT (ts - ?) / ? AS b, criticality AS c, count(*) AS n FROM ${TABLE}${w.sql} GROUP BY 1, 2`,
        [filter.from, width, ...w.params],
      )
      return rows.map((r) => ({
        bucket: Math.min(buckets - 1, Number(r.b)),
        criticality: r.c === null ? null : Number(r.c),
        count: Number(r.n),
      }))
    },
    async get(id) {
      const r = await db.get<EventRow>(`${SELECT} WHERE id = ?`, [id])
      return r ? toEvent(r) : undefined
    },
    generation: () => generation,
    subscribe: (fn) => feed.subscribe(fn),
    close: () => feed.stop(),
    async maxId() {
      const r = await db.get<{ m: number | null }>(`SELECT max(id) AS m FROM ${TABLE}`)
      return Number(r?.m ?? 0)
    },
    async any() {
      return (await db.get(`SELECT 1 AS one FROM ${TABLE} LIMIT 1`)) !== undefined
    },
  }
  return store
}

/** Whether an event passes a filter's non-time conditions (live views test new events in memory). */
export function matches(f: ChangeFilter, e: ChangeEvent): boolean {
  if (f.to !== undefined && e.timestamp > f.to) return false
  if (f.criticalities?.length && (e.criticality === null || !f.criticalities.includes(e.criticality)))
    return false
  if (f.minCriticality !== undefined && (e.criticality === null || e.criticality < f.minCriticality))
    return false
  if (f.categories?.length && (e.category === null || !f.categories.includes(e.category))) return false
  if (f.services?.length && (e.service === null || !f.services.includes(e.service))) return false
  if (f.environments?.length && (e.environment === null || !f.environments.includes(e.environment)))
    return false
  for (const [k, v] of f.tags ?? []) if (e.tags[k] !== v) return false
  if (f.text && !(e.description ?? "").toLowerCase().includes(f.text.toLowerCase())) return false
  return true
}
