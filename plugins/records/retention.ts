/**
 * Retention: records older than LOGBOOK_RECORDS_RETENTION_DAYS, and the oldest beyond the optional size
 * budget LOGBOOK_RECORDS_MAX_BYTES, are deleted in small batches. Each batch is its own short
 * transaction queued on the group-commit writer, so ingestion keeps flowing between batches.
 */
import type { Db } from "../../src/db/database"
import type { HealthCheck, Job } from "../../src/plugin/contract"
import type { RecordsContext } from "./settings"

export const RETENTION_BATCH = 5000
/** A run stops after this many batches (the next run continues): bounded work per interval. */
const MAX_BATCHES_PER_RUN = 2000

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

async function deleteOldest(
  ctx: RecordsContext,
  where: string,
  params: unknown[],
  limit: number,
): Promise<number> {
  return ctx.writer.run((tx) =>
    tx.run(
      `DELETE FROM records_records WHERE id IN (SELECT id FROM records_records ${where} ORDER BY ts, id LIMIT ?)`,
      [...params, limit],
    ),
  )
}

/**
 * SQLite: the file's used pages (page_count − freelist_count) minus the pages of every b-tree that is not
 * the records plugin's. What remains is records_records with its indexes, the FTS5 shadow tables
 * (records_fts_data, _idx, _docsize, _config; records_fts itself is virtual, without a b-tree) and
 * records_counts — plus, at most, the pointer-map pages of an auto_vacuum file and the lock-byte page of a
 * file over 1 GiB. dbstat reads every page of the b-trees it is asked about: asking about the others (small:
 * changes, health, levels, …) instead of the records (gigabytes) keeps this cheap. The others: each table
 * and index whose table is not records_* (so sqlite_sequence and an automatic index go with their owner),
 * and the schema b-tree on page 1, which sqlite_schema does not list. One statement, one read snapshot: no
 * batch of the writer lands between the page count and the others' pages; dbstat takes each name of the IN
 * list as its `name =` constraint and walks only that b-tree.
 */
const SQLITE_RECORDS_BYTES = `
SELECT ((SELECT page_count FROM pragma_page_count()) - (SELECT freelist_count FROM pragma_freelist_count()))
         * (SELECT page_size FROM pragma_page_size())
       - (SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE aggregate = TRUE AND name IN (
           SELECT name FROM sqlite_schema
            WHERE type IN ('table', 'index') AND rootpage > 0 AND tbl_name NOT LIKE 'records\\_%' ESCAPE '\\'
           UNION ALL SELECT 'sqlite_schema')) AS size`

/**
 * PostgreSQL: each table with its indexes and TOAST (pg_total_relation_size), scaled by its live-tuple
 * share so that dead rows awaiting VACUUM do not count (approximate: the statistics lag a little).
 */
const PG_RECORDS_BYTES = `
SELECT pg_total_relation_size(t.rel)::bigint AS size,
       COALESCE(s.n_live_tup, 0)::bigint AS live, COALESCE(s.n_dead_tup, 0)::bigint AS dead
  FROM (VALUES ('records_records'::regclass), ('records_counts'::regclass)) t (rel)
  LEFT JOIN pg_stat_user_tables s ON s.relid = t.rel`

/**
 * On-disk bytes of the records plugin's own data: the records table with its indexes, the full-text index
 * and the per-minute counts — not the other plugins' tables in the same database.
 */
export async function recordsBytes(db: Db): Promise<number> {
  if (db.dialect === "sqlite")
    return Number((await db.get<{ size: number }>(SQLITE_RECORDS_BYTES))?.size ?? 0)
  let total = 0
  for (const row of await db.all<{ size: number; live: number; dead: number }>(PG_RECORDS_BYTES)) {
    const size = Number(row.size)
    const live = Number(row.live)
    const dead = Number(row.dead)
    total += live + dead > 0 ? Math.round((size * live) / (live + dead)) : size
  }
  return total
}

/** One retention pass; returns how many records were deleted. */
export async function applyRetention(ctx: RecordsContext, batch = RETENTION_BATCH): Promise<number> {
  let deleted = 0
  let batches = 0
  const days = ctx.settings.retentionDays
  if (days > 0) {
    const cutoff = Math.floor((ctx.now() - days * 86_400_000) * 1000)
    for (;;) {
      const n = await deleteOldest(ctx, "WHERE ts < ?", [cutoff], batch)
      deleted += n
      if (n < batch || ++batches >= MAX_BATCHES_PER_RUN) break
      await yieldToEventLoop()
    }
  }
  const budget = ctx.settings.maxBytes
  if (budget > 0) {
    const size = await recordsBytes(ctx.db)
    if (size > budget) {
      // the per-minute rollup holds the row count without scanning the table
      const count = Number(
        (await ctx.db.get<{ n: number }>("SELECT SUM(n) AS n FROM records_counts"))?.n ?? 0,
      )
      // size is the records' own bytes, so (size − budget) / size is the share of them over budget (rows
      // taken as equal in size): delete that share of rows, oldest first. The next measurement shows most
      // of it freed; FTS5 keeps deletions as tombstones until its segments merge, so that part comes later
      let excess = Math.ceil((count * (size - budget)) / size)
      while (excess > 0 && batches++ < MAX_BATCHES_PER_RUN) {
        const n = await deleteOldest(ctx, "", [], Math.min(batch, excess))
        deleted += n
        excess -= n
        if (n === 0) break
        await yieldToEventLoop()
      }
    }
  }
  if (deleted > 0) {
    ctx.metrics.increment("records.retention.deleted", {}, deleted)
    ctx.log.info("retention deleted records", { deleted, retentionDays: days, maxBytes: budget })
  }
  return deleted
}

export function retentionJob(ctx: RecordsContext): Job {
  return {
    name: "records.retention",
    intervalMs: 10 * 60_000,
    runAtStart: true,
    run: () => applyRetention(ctx).then(() => {}),
  }
}

/** Ingestion health: the records table answers, and the shared write queue is not close to full. */
export function recordsChecks(ctx: RecordsContext): HealthCheck[] {
  return [
    {
      name: "records.ingestion",
      componentType: "datastore",
      groups: ["ready"],
      timeoutMs: 2000,
      async check() {
        await ctx.db.get("SELECT id FROM records_records ORDER BY ts DESC, id DESC LIMIT 1")
        const queued = ctx.writer.stats().queuedRows
        const max = ctx.config.writerQueueMax
        const fill = queued / max
        return {
          status: fill >= 0.9 ? "fail" : fill >= 0.5 ? "warn" : "pass",
          message: `write queue ${queued}/${max} rows`,
          observedValue: queued,
          observedUnit: "rows",
        }
      },
    },
  ]
}
