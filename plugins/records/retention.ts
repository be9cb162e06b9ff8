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

/** Bytes of live record data (approximate on PostgreSQL: relation size scaled by the live-tuple share). */
export async function recordsBytes(db: Db): Promise<number> {
  if (db.dialect === "sqlite") {
    const page = await db.get<{ page_size: number }>("PRAGMA page_size")
    const count = await db.get<{ page_count: number }>("PRAGMA page_count")
    const free = await db.get<{ freelist_count: number }>("PRAGMA freelist_count")
    return (Number(count?.page_count ?? 0) - Number(free?.freelist_count ?? 0)) * Number(page?.page_size ?? 0)
  }
  const row = await db.get<{ size: number; live: number; dead: number }>(
    `SELECT pg_total_relation_size('records_records')::bigint AS size,
            COALESCE(s.n_live_tup, 0)::bigint AS live, COALESCE(s.n_dead_tup, 0)::bigint AS dead
       FROM (SELECT 1) one LEFT JOIN pg_stat_user_tables s ON s.relid = 'records_records'::regclass`,
  )
  const size = Number(row?.size ?? 0)
  const live = Number(row?.live ?? 0)
  const dead = Number(row?.dead ?? 0)
  return live + dead > 0 ? Math.round((size * live) / (live + dead)) : size
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
      // delete the share of rows that is over budget, oldest first
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
