// Records scenarios (issue 4).
// 1. HTTPHandler-shaped form POST (Python 3.12 body and headers, Basic logger:), keep-alive: target ratio
//    ≥ 0.35 of plain Bun.serve; 2. the same with `Connection: close` (what HTTPHandler really does): reported.
// 3. NDJSON batches of 1,000 records from `connections` clients for the run's duration: records/s
//    (target ≥ 300,000).
// 4.–6. On BENCH_RECORDS_ROWS (default 10,000,000) records spread over the last 29 days, seeded straight
//    into the instance's SQLite file or PostgreSQL before start: newest 100 for a logger prefix at
//    WARNING and above, newest 100 matching a full-text term, and a 24-hour histogram. Each reports p50/p99
//    of the indexed query (the service functions Logbook uses; the histogram reads the per-minute rollup)
//    and of the same query with the indexes switched off (SQLite: `NOT INDEXED` and LIKE instead of FTS5;
//    PostgreSQL: index scans disabled for the transaction), and their ratio (target < 0.1).

import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ndjsonRecords } from "../../../plugins/records/ingest"
import { migrations } from "../../../plugins/records/schema"
import { histogram, ingest, type NormalisedRecord, search } from "../../../plugins/records/service"
import type { RecordsContext } from "../../../plugins/records/settings"
import { type Db, openDatabase } from "../../../src/db/database"
import { migrate } from "../../../src/db/migrate"
import { createWriter } from "../../../src/db/writer"
import { FORM_BODY, FORM_HEADERS } from "../records-fixtures"
import type { BenchScenario, ScenarioContext } from "../scenario"

const ROWS = Number(process.env.BENCH_RECORDS_ROWS ?? 10_000_000)
const DAYS = 29
const HOUR_US = 3_600_000_000

const INGEST_ENV = { LOGBOOK_RECORDS_BASIC_USERS: "logger:" }
// its own instance: reads must not share a database with the ingestion scenarios; no retention run on it
const READ_ENV = { LOGBOOK_RECORDS_RETENTION_DAYS: "0" }

/** One NDJSON batch of the ingestion scenario (also measured per record by records-costs.ts). */
export function ndjsonBatch(batch: number, size: number): string {
  const now = Date.now() / 1000
  const lines: string[] = []
  for (let i = 0; i < size; i++)
    lines.push(
      JSON.stringify({
        name: `app.bench.w${i % 8}`,
        msg: "request %s handled in %d ms",
        args: [`/items/${batch}-${i}`, i % 500],
        levelno: [10, 20, 20, 20, 30, 40][i % 6],
        created: now,
        lineno: 42,
        funcName: "handle",
        process: 4242,
        request_id: `${batch}-${i}`,
      }),
    )
  return `${lines.join("\n")}\n`
}

async function ndjsonRun(ctx: ScenarioContext): Promise<Record<string, number>> {
  const size = 1000
  const bodies = Array.from({ length: 16 }, (_, b) => ndjsonBatch(b, size))
  const until = performance.now() + ctx.durationSeconds * 1000
  let records = 0
  let failed = 0
  const latencies: number[] = []
  const client = async (c: number) => {
    for (let n = 0; performance.now() < until; n++) {
      const t = performance.now()
      const res = await fetch(`${ctx.baseUrl}/api/v1/record`, {
        method: "POST",
        body: bodies[(c + n) % bodies.length],
        headers: { "content-type": "application/x-ndjson", authorization: "Basic bG9nZ2VyOg==" },
      })
      await res.arrayBuffer()
      latencies.push(performance.now() - t)
      if (res.status === 201) records += size
      else failed++
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: Math.min(ctx.connections, 8) }, (_, c) => client(c)))
  const seconds = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  return {
    records_per_s: Math.round(records / seconds),
    batch_p50_ms: latencies[Math.floor(latencies.length / 2)] ?? 0,
    batch_p99_ms: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
    failed_batches: failed,
  }
}

/**
 * What the NDJSON scenario's records cost without HTTP, in this process on a fresh database of the same
 * kind (SQLite file, or a new schema of the --postgres database): the same 1,000-record batches from the
 * same number of concurrent senders, (a) parsed and stored — ndjsonRecords + ingest, everything but the
 * HTTP exchange — and (b) stored only, from records normalised beforehand: the group-commit writer's
 * INSERTs, the full-text index and the per-minute counts. (b) is the ceiling for (a) and for the HTTP
 * scenario on this machine.
 */
async function storageFloor(ctx: ScenarioContext): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), "logbook-bench-floor-"))
  const schema = `bench_floor_${process.pid}`
  const pgUrl = ctx.env.LOGBOOK_DATABASE_URL
  let db: Db
  if (pgUrl) {
    const admin = openDatabase(pgUrl, dir)
    await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`)
    await admin.close()
    db = openDatabase(`${pgUrl}${pgUrl.includes("?") ? "&" : "?"}options=-c%20search_path%3D${schema}`, dir)
  } else db = openDatabase("", dir)
  try {
    await migrate(db, migrations)
    const writer = createWriter(db, { maxQueuedRows: 1_000_000 })
    const rctx = {
      db,
      writer,
      events: { has: () => false },
      now: () => Date.now(),
      settings: { maxMessageBytes: 256 * 1024, maxRecordBytes: 1024 * 1024 },
    } as unknown as RecordsContext
    const bodies = Array.from({ length: 16 }, (_, b) => ndjsonBatch(b, 1000))
    const parse = (body: string) => ndjsonRecords(rctx, body, false).map((l) => l.record as NormalisedRecord)
    const normalised = bodies.map(parse)
    const senders = Math.min(ctx.connections, 8)
    const measure = async (batch: (k: number) => Promise<unknown>) => {
      const seconds = Math.max(2, ctx.durationSeconds / 2)
      const until = performance.now() + seconds * 1000
      let records = 0
      const started = performance.now()
      await Promise.all(
        Array.from({ length: senders }, async (_, c) => {
          for (let n = 0; performance.now() < until; n++) {
            await batch(c + n)
            records += 1000
          }
        }),
      )
      return Math.round(records / ((performance.now() - started) / 1000))
    }
    const parsedAndStored = await measure((k) => ingest(rctx, parse(bodies[k % bodies.length] as string)))
    const storedOnly = await measure((k) =>
      ingest(rctx, normalised[k % normalised.length] as NormalisedRecord[]),
    )
    await writer.close()
    return { parsed_and_stored_per_s: parsedAndStored, stored_only_per_s: storedOnly }
  } finally {
    await db.close()
    if (pgUrl) {
      const admin = openDatabase(pgUrl, dir)
      await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await admin.close()
    }
    rmSync(dir, { recursive: true, force: true })
  }
}

// ---- seeding -------------------------------------------------------------------------------------

const NAMES = [
  "app.db",
  "app.db.pool",
  "app.web",
  "app.web.auth",
  "app.jobs",
  "worker.mail",
  "worker.pdf",
  "lib.http",
]

/** Drops indexes and triggers, bulk-inserts, then rebuilds them (much faster than maintaining them per row). */
async function seedRecords({ env }: { env: Record<string, string> }): Promise<void> {
  const db = openDatabase(env.LOGBOOK_DATABASE_URL ?? "", env.LOGBOOK_DATA_DIR as string)
  const t0 = performance.now()
  try {
    await migrate(db, migrations)
    const end = Date.now() * 1000
    const span = DAYS * 24 * HOUR_US
    const step = Math.floor(span / ROWS)
    const start = end - step * ROWS
    if (db.sqlite) {
      const raw = db.sqlite
      const ddl = raw
        .query(
          "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'records_records' AND type IN ('index', 'trigger') AND sql IS NOT NULL",
        )
        .all() as Array<{ type: string; name: string; sql: string }>
      for (const d of ddl) raw.exec(`DROP ${d.type.toUpperCase()} ${d.name}`)
      // no journal for the bulk load (a throw-away bench database): nothing is written twice
      raw.exec("PRAGMA journal_mode = DELETE")
      raw.exec("PRAGMA journal_mode = OFF")
      raw.exec("PRAGMA synchronous = OFF")
      // one statement: names, levels and messages derived from the row number (deterministic)
      raw.exec(`
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${ROWS - 1})
        INSERT INTO records_records (ts, level, name, message, logrec)
        SELECT ${start} + i * ${step},
               CASE WHEN i % 50 = 0 THEN 50 WHEN i % 17 = 0 THEN 40 WHEN i % 8 = 0 THEN 30 WHEN i % 5 = 0 THEN 10 ELSE 20 END,
               CASE i % 8 ${NAMES.map((n, k) => `WHEN ${k} THEN '${n}'`).join(" ")} END,
               CASE WHEN i % 97 = 0 THEN 'upstream timeout after ' || (i % 3000) || ' ms calling service ' || (i % 13)
                    WHEN i % 7 = 0 THEN 'cache miss for key user:' || (i % 100000)
                    ELSE 'request /items/' || (i % 5000) || ' handled in ' || (i % 800) || ' ms' END,
               '{"meta":{"process":' || (1000 + i % 4) || ',"lineno":' || (i % 300) || '}}'
        FROM n`)
      for (const d of ddl.filter((x) => x.type === "index")) raw.exec(d.sql)
      raw.exec("INSERT INTO records_fts (records_fts) VALUES ('rebuild')")
      // the per-minute rollup its triggers would have kept
      raw.exec(
        "INSERT INTO records_counts (minute, level, n) SELECT ts / 60000000, level, COUNT(*) FROM records_records GROUP BY 1, 2",
      )
      for (const d of ddl.filter((x) => x.type === "trigger")) raw.exec(d.sql)
      raw.exec("ANALYZE")
      raw.exec("PRAGMA synchronous = NORMAL")
      raw.exec("PRAGMA journal_mode = WAL")
    } else {
      const idx = await db.all<{ indexname: string; indexdef: string }>(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'records_records' AND indexname <> 'records_records_pkey' AND schemaname = current_schema()",
      )
      for (const i of idx) await db.exec(`DROP INDEX ${i.indexname}`)
      await db.exec(`
        INSERT INTO records_records (ts, level, name, message, logrec)
        SELECT ${start} + i * ${step},
               CASE WHEN i % 50 = 0 THEN 50 WHEN i % 17 = 0 THEN 40 WHEN i % 8 = 0 THEN 30 WHEN i % 5 = 0 THEN 10 ELSE 20 END,
               (ARRAY[${NAMES.map((n) => `'${n}'`).join(", ")}])[(i % 8 + 1)::int],
               CASE WHEN i % 97 = 0 THEN 'upstream timeout after ' || (i % 3000) || ' ms calling service ' || (i % 13)
                    WHEN i % 7 = 0 THEN 'cache miss for key user:' || (i % 100000)
                    ELSE 'request /items/' || (i % 5000) || ' handled in ' || (i % 800) || ' ms' END,
               jsonb_build_object('meta', jsonb_build_object('process', 1000 + i % 4, 'lineno', i % 300))
        FROM generate_series(0::bigint, ${ROWS - 1}) AS i`)
      for (const i of idx) await db.exec(i.indexdef)
      await db.exec("VACUUM ANALYZE records_records")
    }
    console.log(`records: seeded ${ROWS} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  } finally {
    await db.close()
  }
}

// ---- read measurements ---------------------------------------------------------------------------

async function timeIt(times: number, fn: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  await fn() // warm the cache
  const xs: number[] = []
  for (let i = 0; i < times; i++) {
    const t = performance.now()
    await fn()
    xs.push(performance.now() - t)
  }
  xs.sort((a, b) => a - b)
  return {
    p50: xs[Math.floor(xs.length / 2)] as number,
    p99: xs[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))] as number,
  }
}

/** The same statement with index use disabled: PostgreSQL planner switches for one transaction. */
async function withoutIndexesPg<T>(db: Db, fn: (tx: Db) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.exec(
      "SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_indexonlyscan = off",
    )
    return fn(tx)
  })
}

type ReadCase = "logger-prefix-warning" | "full-text" | "histogram-24h"

function readScenario(name: ReadCase, seed?: boolean): BenchScenario {
  return {
    name: `records read: ${name} (${ROWS.toLocaleString("en")} rows)`,
    env: READ_ENV,
    ...(seed ? { seed: seedRecords } : {}),
    target: { text: "indexed p50 < 0.1 × unindexed p50" },
    async run(ctx) {
      const db = openDatabase(ctx.env.LOGBOOK_DATABASE_URL ?? "", ctx.dataDir)
      try {
        const now = Date.now() * 1000
        const indexed: Record<ReadCase, () => Promise<unknown>> = {
          "logger-prefix-warning": () => search(db, { query: "logger:app.db*", levelMin: 30, limit: 100 }),
          "full-text": () => search(db, { query: "timeout", limit: 100 }),
          "histogram-24h": () => histogram(db, { from: now - 24 * HOUR_US, to: now, bucketSeconds: 3600 }),
        }
        const sqliteScan: Record<ReadCase, () => Promise<unknown>> = {
          "logger-prefix-warning": () =>
            db.all(
              "SELECT id, ts, level, name, message, logrec FROM records_records NOT INDEXED WHERE level >= ? AND name >= ? AND name < ? ORDER BY ts DESC, id DESC LIMIT 101",
              [30, "app.db", "app.db\u{10FFFF}"],
            ),
          "full-text": () =>
            db.all(
              "SELECT id, ts, level, name, message, logrec FROM records_records NOT INDEXED WHERE message LIKE ? ORDER BY ts DESC, id DESC LIMIT 101",
              ["%timeout%"],
            ),
          "histogram-24h": () =>
            db.all(
              "SELECT (ts - ?) / ? AS b, level, COUNT(*) AS n FROM records_records NOT INDEXED WHERE ts >= ? AND ts < ? GROUP BY 1, 2",
              [now - 24 * HOUR_US, 3600 * 1e6, now - 24 * HOUR_US, now],
            ),
        }
        const unindexed =
          db.dialect === "sqlite"
            ? sqliteScan[name]
            : () =>
                withoutIndexesPg<unknown>(db, (tx) =>
                  name === "histogram-24h"
                    ? histogram(tx, { from: now - 24 * HOUR_US, to: now, bucketSeconds: 3600 })
                    : search(
                        tx,
                        name === "full-text"
                          ? { query: "timeout", limit: 100 }
                          : { query: "logger:app.db*", levelMin: 30, limit: 100 },
                      ),
                )
        const fast = await timeIt(50, indexed[name])
        const slow = await timeIt(5, unindexed)
        return {
          p50_ms: fast.p50,
          p99_ms: fast.p99,
          unindexed_p50_ms: slow.p50,
          unindexed_p99_ms: slow.p99,
          ratio_p50: fast.p50 / slow.p50,
          rows: ROWS,
        }
      } finally {
        await db.close()
      }
    },
  }
}

export const scenarios: BenchScenario[] = [
  {
    name: "records: HTTPHandler form POST (keep-alive)",
    env: INGEST_ENV,
    request: { method: "POST", path: "/api/v1/record", headers: FORM_HEADERS, body: FORM_BODY },
    target: { ratio: 0.35 },
  },
  {
    name: "records: HTTPHandler form POST (Connection: close)",
    env: INGEST_ENV,
    request: { method: "POST", path: "/api/v1/record", headers: FORM_HEADERS, body: FORM_BODY },
    keepAlive: false,
    target: { text: "reported (HTTPHandler opens a connection per record)" },
  },
  {
    name: "records: NDJSON batches of 1,000",
    env: INGEST_ENV,
    run: ndjsonRun,
    target: { text: "≥ 300,000 records/s" },
  },
  {
    name: "records: NDJSON storage floor (no HTTP; same batches, same database kind)",
    env: INGEST_ENV,
    run: storageFloor,
    target: { text: "informative: the ceiling of the NDJSON scenario on this machine" },
  },
  readScenario("logger-prefix-warning", true),
  readScenario("full-text"),
  readScenario("histogram-24h"),
]
