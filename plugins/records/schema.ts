/**
 * Storage of log records: one row per record, timestamps as integer microseconds UTC (computed once at
 * ingestion, rendered the same everywhere), the Python-side details in `logrec` (JSON: data/meta/error).
 *
 * Indexes serve the reads we promise to keep fast on millions of rows:
 * - (ts DESC, id DESC, level): newest-first pages with a stable tie-break, and histograms as an
 *   index-only scan (level is in the index);
 * - (name, ts): logger-prefix filters (names compare byte-wise: `COLLATE "C"` on PostgreSQL, BINARY on
 *   SQLite, so a prefix is an index range on both);
 * - (level, ts): "warnings and above in this window";
 * - full text over `message`: SQLite FTS5 external-content table; PostgreSQL a generated `tsvector` column
 *   ('simple' configuration: log text is not natural language, no stemming) with a GIN index.
 * - per-minute counts by level (`records_counts`) for histograms and Chronologer's HEAD count/timeline.
 *
 * Derived data on SQLite (since migration 004): deletions keep the FTS table and the counts right through
 * per-row triggers, but insertions do not — per-row triggers cost ~8 µs a row (each a sub-program, and
 * they force a statement journal). The group-commit writer fills both once per batch in the same
 * transaction instead (`derivedAfterInsert`, attached by service.ts `ingest`, the only way records are
 * written). Anything else that inserts records on SQLite must run those statements for its id range.
 * On PostgreSQL a statement-level trigger keeps the counts and the tsvector is a generated column.
 * AUTOINCREMENT on SQLite: ids are never reused after retention, so permalinks and the month-long
 * Cache-Control of GET /api/v1/record/{id} stay truthful.
 */
import type { Migration } from "../../src/db/migrate"
import type { Statement } from "../../src/db/writer"

export const RECORDS_TABLE = "records_records"
export const RECORD_COLUMNS = ["ts", "level", "name", "message", "logrec"] as const

/** floor(ts / 1 minute) in SQL, also for negative ts: the one expression of the rollup (002, 004). */
const MINUTE_OF_TS = "(ts - (((ts % 60000000) + 60000000) % 60000000)) / 60000000"

const MINUTE_US = 60_000_000
const FTS_FILL =
  "INSERT INTO records_fts (rowid, message) SELECT id, message FROM records_records WHERE id BETWEEN ? AND ?"
const COUNTS_ADD =
  "INSERT INTO records_counts (minute, level, n) VALUES (?, ?, ?) ON CONFLICT (minute, level) DO UPDATE SET n = n + excluded.n"
const COUNTS_FILL = `INSERT INTO records_counts (minute, level, n)
SELECT ${MINUTE_OF_TS}, level, COUNT(*) FROM records_records WHERE id BETWEEN ? AND ? GROUP BY 1, 2
ON CONFLICT (minute, level) DO UPDATE SET n = n + excluded.n`

/**
 * SQLite: what the dropped insert triggers did, for one committed batch — the records with ids lo…hi
 * (their AUTOINCREMENT ids are consecutive: the writer holds the write lock for the whole transaction),
 * `rows` their (ts, level, …) in any order. The counts per (minute, level) are summed here, a few upserts
 * per batch; floor(ts / minute) in floating point is exact for safe integers (the quotient never comes
 * within half an ulp of the next integer), so larger timestamps (after the year 2255) are counted in SQL.
 */
export function derivedAfterInsert(
  lo: number,
  hi: number,
  rows: readonly (readonly unknown[])[],
): Statement[] {
  const statements: Statement[] = [{ sql: FTS_FILL, params: [lo, hi] }]
  const counts = new Map<number, Map<number, number>>()
  for (const row of rows) {
    const ts = row[0] as number
    if (!Number.isSafeInteger(ts)) return [...statements, { sql: COUNTS_FILL, params: [lo, hi] }]
    const minute = Math.floor(ts / MINUTE_US)
    const level = row[1] as number
    const byLevel = counts.get(minute) ?? new Map<number, number>()
    byLevel.set(level, (byLevel.get(level) ?? 0) + 1)
    counts.set(minute, byLevel)
  }
  for (const [minute, byLevel] of counts)
    for (const [level, n] of byLevel) statements.push({ sql: COUNTS_ADD, params: [minute, level, n] })
  return statements
}

export const migrations: Migration[] = [
  {
    id: "records/001_records",
    sqlite: `
CREATE TABLE records_records (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ts INTEGER NOT NULL,
  level INTEGER NOT NULL,
  name TEXT NOT NULL,
  message TEXT NOT NULL,
  logrec TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX records_records_ts ON records_records (ts DESC, id DESC, level);
CREATE INDEX records_records_name_ts ON records_records (name, ts);
CREATE INDEX records_records_level_ts ON records_records (level, ts);
CREATE VIRTUAL TABLE records_fts USING fts5(
  message, content='records_records', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER records_records_ai AFTER INSERT ON records_records BEGIN
  INSERT INTO records_fts (rowid, message) VALUES (new.id, new.message);
END;
CREATE TRIGGER records_records_ad AFTER DELETE ON records_records BEGIN
  INSERT INTO records_fts (records_fts, rowid, message) VALUES ('delete', old.id, old.message);
END;
CREATE TRIGGER records_records_au AFTER UPDATE OF message ON records_records BEGIN
  INSERT INTO records_fts (records_fts, rowid, message) VALUES ('delete', old.id, old.message);
  INSERT INTO records_fts (rowid, message) VALUES (new.id, new.message);
END;
`,
    postgres: `
CREATE TABLE records_records (
  id BIGSERIAL PRIMARY KEY,
  ts BIGINT NOT NULL,
  level INTEGER NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  message TEXT NOT NULL,
  logrec JSONB NOT NULL DEFAULT '{}'::jsonb,
  message_tsv TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', message)) STORED
);
CREATE INDEX records_records_ts ON records_records (ts DESC, id DESC) INCLUDE (level);
CREATE INDEX records_records_name_ts ON records_records (name, ts);
CREATE INDEX records_records_level_ts ON records_records (level, ts);
CREATE INDEX records_records_fts ON records_records USING GIN (message_tsv);
`,
  },
  {
    // Per-minute counts by level for fast histograms, kept exact by triggers on insert and delete
    // (retention and the size budget included). Minutes are floor(ts / 60 s), also for negative ts.
    id: "records/002_minute_counts",
    sqlite: `
CREATE TABLE records_counts (
  minute INTEGER NOT NULL,
  level INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (minute, level)
) WITHOUT ROWID;
CREATE TRIGGER records_counts_ai AFTER INSERT ON records_records BEGIN
  INSERT INTO records_counts (minute, level, n)
  VALUES ((new.ts - (((new.ts % 60000000) + 60000000) % 60000000)) / 60000000, new.level, 1)
  ON CONFLICT (minute, level) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER records_counts_ad AFTER DELETE ON records_records BEGIN
  UPDATE records_counts SET n = n - 1
  WHERE minute = (old.ts - (((old.ts % 60000000) + 60000000) % 60000000)) / 60000000 AND level = old.level;
END;
INSERT INTO records_counts (minute, level, n)
SELECT (ts - (((ts % 60000000) + 60000000) % 60000000)) / 60000000, level, COUNT(*) FROM records_records GROUP BY 1, 2;
`,
    postgres: `
CREATE TABLE records_counts (
  minute BIGINT NOT NULL,
  level INTEGER NOT NULL,
  n BIGINT NOT NULL,
  PRIMARY KEY (minute, level)
);
CREATE FUNCTION records_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO records_counts (minute, level, n)
  SELECT (ts - (((ts % 60000000) + 60000000) % 60000000)) / 60000000, level, COUNT(*) FROM records_new GROUP BY 1, 2
  ON CONFLICT (minute, level) DO UPDATE SET n = records_counts.n + EXCLUDED.n;
  RETURN NULL;
END $$;
CREATE FUNCTION records_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE records_counts c SET n = c.n - d.n
  FROM (SELECT (ts - (((ts % 60000000) + 60000000) % 60000000)) / 60000000 AS minute, level, COUNT(*) AS n
          FROM records_old GROUP BY 1, 2) d
  WHERE c.minute = d.minute AND c.level = d.level;
  RETURN NULL;
END $$;
CREATE TRIGGER records_counts_ai AFTER INSERT ON records_records
  REFERENCING NEW TABLE AS records_new FOR EACH STATEMENT EXECUTE FUNCTION records_counts_insert();
CREATE TRIGGER records_counts_ad AFTER DELETE ON records_records
  REFERENCING OLD TABLE AS records_old FOR EACH STATEMENT EXECUTE FUNCTION records_counts_delete();
INSERT INTO records_counts (minute, level, n)
SELECT (ts - (((ts % 60000000) + 60000000) % 60000000)) / 60000000, level, COUNT(*) FROM records_records GROUP BY 1, 2;
`,
  },
  {
    // PostgreSQL's text parser keeps host names, paths and versions as single tokens (db.example.com,
    // /srv/app/jobs.py, 1.2.3), so "example" would not find them while SQLite's unicode61 tokenizer
    // splits them: split at whitespace and punctuation first, so both dialects find the same words.
    id: "records/003_fts_words",
    sqlite: "SELECT 1;",
    postgres: `
DROP INDEX records_records_fts;
ALTER TABLE records_records DROP COLUMN message_tsv;
ALTER TABLE records_records ADD COLUMN message_tsv TSVECTOR
  GENERATED ALWAYS AS (to_tsvector('simple', regexp_replace(message, '[[:space:][:punct:]]+', ' ', 'g'))) STORED;
CREATE INDEX records_records_fts ON records_records USING GIN (message_tsv);
`,
  },
  {
    // SQLite: the full-text index and the per-minute counts of new records are filled once per batch by
    // the writer (derivedAfterInsert) instead of per row; the data already indexed and counted stays as it is.
    id: "records/004_batch_derived",
    sqlite: `
DROP TRIGGER records_records_ai;
DROP TRIGGER records_counts_ai;
`,
    postgres: "SELECT 1;",
  },
]
