/**
 * Where a records ingestion's time goes, in this process (no HTTP, no load generator): the per-record
 * JavaScript of the HTTPHandler form POST (decoding the form, normalising, the whole Chronologer route with
 * a writer that stores nothing), and the per-row cost of SQLite storage for the same schema — the table
 * alone, with its three indexes, and with the full-text index — plus the WAL pages one commit writes, by
 * b-tree, at the group size the form POST benchmark sees (~43 rows a commit at 64 connections).
 * Prints a table and writes `.bench/records-costs.json`.
 *
 *   bun test/bench/records-costs.ts [--seconds 2]
 */
import { Database } from "bun:sqlite"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { recordPoster } from "../../plugins/records/compat"
import { formFields, ndjsonRecords, normaliseOne } from "../../plugins/records/ingest"
import { logrecJson } from "../../plugins/records/normalise"
import { derivedAfterInsert, migrations } from "../../plugins/records/schema"
import { FORM_BODY, storeNothingContext } from "./records-fixtures"
import { ndjsonBatch } from "./scenarios/records"

const { values: opts } = parseArgs({
  args: process.argv.slice(2),
  options: { seconds: { type: "string", default: "2" } },
})
const seconds = Number(opts.seconds)

const ctx = storeNothingContext()

/** µs per call, after a warm-up, over about `seconds`. */
async function perCall(fn: () => unknown): Promise<number> {
  const warmUntil = performance.now() + 300
  while (performance.now() < warmUntil) await fn()
  let n = 0
  const t0 = performance.now()
  while (performance.now() - t0 < seconds * 1000) {
    for (let i = 0; i < 100; i++) await fn()
    n += 100
  }
  return ((performance.now() - t0) * 1000) / n
}

const post = recordPoster(ctx)
const headers = {
  "content-type": "application/x-www-form-urlencoded",
  authorization: "Basic bG9nZ2VyOg==",
  "accept-encoding": "identity",
}
const fields = formFields(FORM_BODY)
const NDJSON_SIZE = 1000
const NDJSON = ndjsonBatch(1, NDJSON_SIZE)
const NDJSON_LINES = NDJSON.trimEnd().split("\n")
const js = {
  form_fields_us: await perCall(() => formFields(FORM_BODY)),
  normalise_us: await perCall(() => normaliseOne(ctx, fields, false)),
  request_object_us: await perCall(
    () => new Request("http://x/api/v1/record", { method: "POST", body: FORM_BODY, headers }),
  ),
  route_us: await perCall(async () => {
    const res = await post(
      new Request("http://x/api/v1/record", { method: "POST", body: FORM_BODY, headers }),
    )
    await res.arrayBuffer()
  }),
  // the NDJSON scenario's batches of 1,000: JSON.parse of each line alone, then what ingestion does
  // before storing (parse, normalise, the logrec JSON that is stored) — per record
  ndjson_json_parse_us: (await perCall(() => NDJSON_LINES.map((l) => JSON.parse(l)))) / NDJSON_SIZE,
  ndjson_parse_normalise_us:
    (await perCall(() => ndjsonRecords(ctx, NDJSON, false).map((l) => logrecJson(l.record?.logrec ?? {})))) /
    NDJSON_SIZE,
}

// ---- SQLite storage ---------------------------------------------------------------------------------

const row = (() => {
  const r = normaliseOne(ctx, fields, false)
  return [r.ts, r.level, r.name, r.message, logrecJson(r.logrec)]
})()

/** A fresh records database (WAL, synchronous=NORMAL, no automatic checkpoint) without what `drop` names. */
let dbSeq = 0
function freshDb(dir: string, drop: string[]): Database {
  const db = new Database(join(dir, `records-${++dbSeq}.sqlite`))
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0")
  for (const m of migrations) db.exec(m.sqlite)
  for (const d of drop) db.exec(d)
  return db
}

/** Inserts groups of `size` rows as the writer does (multi-row INSERT … RETURNING id, derived statements). */
function storer(db: Database, size: number, fts: boolean) {
  const insert = db.prepare(
    `INSERT OR FAIL INTO records_records (ts, level, name, message, logrec) VALUES ${Array.from({ length: size }, () => "(?, ?, ?, ?, ?)").join(", ")} RETURNING id`,
  )
  // times move on from group to group, as they do for live records (10 µs apart)
  let ts = row[0] as number
  return () => {
    const rows = Array.from({ length: size }, (_, i) => [ts + 10 * (i + 1), ...row.slice(1)])
    ts += 10 * size
    const params = rows.flat() as Array<string | number>
    db.exec("BEGIN IMMEDIATE")
    const ids = (insert.all(...params) as Array<{ id: number }>).map((r) => r.id)
    for (const s of derivedAfterInsert(Math.min(...ids), Math.max(...ids), rows))
      if (fts || !s.sql.includes("records_fts"))
        db.prepare(s.sql).run(...(s.params as Array<string | number>))
    db.exec("COMMIT")
  }
}

/**
 * µs per row of `store` over about `seconds`; the WAL is checkpointed every 100 commits outside the timed
 * part, as Logbook's checkpoint worker does it off the writing thread (a WAL left to grow slows reads).
 */
function storePerRow(db: Database, store: () => void, size: number): number {
  let timed = 0
  let commits = 0
  const until = performance.now() + (seconds + 0.3) * 1000
  while (performance.now() < until) {
    const t = performance.now()
    for (let i = 0; i < 100; i++) store()
    if (commits > 0) timed += performance.now() - t // the first 100 commits warm up
    commits += 100
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)")
  }
  return (timed * 1000) / ((commits - 100) * size)
}

const dir = mkdtempSync(join(tmpdir(), "logbook-records-costs-"))
const INDEXES = ["records_records_ts", "records_records_name_ts", "records_records_level_ts"]
const NO_INDEXES = INDEXES.map((i) => `DROP INDEX ${i}`)
const NO_FTS = [
  "DROP TRIGGER records_records_ad",
  "DROP TRIGGER records_records_au",
  "DROP TABLE records_fts",
]
const storage: Record<string, number> = {}
try {
  // three rounds over the variants, the median of each reported: the machine's noise hits all alike
  const samples: Record<string, number[]> = {}
  for (let round = 0; round < 3; round++)
    for (const [name, drop, fts] of [
      ["table_only", [...NO_INDEXES, ...NO_FTS], false],
      ["with_indexes", NO_FTS, false],
      ["with_indexes_and_fts", [], true],
    ] as const) {
      for (const size of [1000, 43]) {
        const db = freshDb(dir, [...drop])
        const key = `${name}_${size}_rows_us_per_row`
        samples[key] = [...(samples[key] ?? []), storePerRow(db, storer(db, size, fts), size)]
        db.close()
      }
    }
  for (const [key, xs] of Object.entries(samples)) storage[key] = xs.sort((a, b) => a - b)[1] as number
  // WAL pages one 43-row commit writes, by b-tree (dbstat), after 200 commits to fill the trees a little
  const db = freshDb(dir, [])
  const walFile = join(dir, `records-${dbSeq}.sqlite-wal`)
  const store = storer(db, 43, true)
  for (let i = 0; i < 200; i++) store()
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)")
  const commits = 100
  for (let i = 0; i < commits; i++) store()
  const owner = new Map<number, string>()
  for (const r of db.query("SELECT name, pageno FROM dbstat").all() as Array<{
    name: string
    pageno: number
  }>)
    owner.set(r.pageno, r.name)
  const wal = readFileSync(walFile)
  const pageSize = wal.readUInt32BE(8)
  const pages: Record<string, number> = {}
  let frames = 0
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    const name = owner.get(wal.readUInt32BE(at)) ?? "(other)"
    pages[name] = (pages[name] ?? 0) + 1 / commits
    frames++
  }
  storage.wal_pages_per_43_row_commit = frames / commits
  for (const [name, n] of Object.entries(pages)) storage[`wal_pages_${name}`] = n
  db.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}

const round = (o: Record<string, number>) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Number(v.toFixed(2))]))
const result = { at: new Date().toISOString(), bun: Bun.version, js: round(js), storage: round(storage) }
for (const [group, values] of [
  ["per-record JavaScript (µs)", result.js],
  ["SQLite storage", result.storage],
] as const) {
  console.log(group)
  for (const [k, v] of Object.entries(values)) console.log(`  ${k.padEnd(48)} ${v}`)
}
mkdirSync(".bench", { recursive: true })
writeFileSync(".bench/records-costs.json", `${JSON.stringify(result, null, 2)}\n`)
console.log("wrote .bench/records-costs.json")
