/**
 * Persistence at 1-minute resolution (LOGBOOK_METRICS_PERSIST=1): once a minute the points of the last
 * whole minute are rolled up per series (counters: mean rate; gauges and sets: last value; timers: the
 * summed count, and p50/p90/p99 of the minute's merged log-bucket histogram — the percentiles of every
 * value of that minute within 1 %, not an average of interval percentiles) and stored through the
 * group-commit writer, timers with their histogram (`hist`, histogram.ts text) so minutes stay mergeable
 * into longer spans. Charts read these rows for the part of a window older than what memory holds.
 */
import type { Db } from "../../src/db/database"
import type { Writer } from "../../src/db/writer"
import { type Histogram, quantile, serialise } from "./histogram"
import type { Point, Series, SeriesStore } from "./series"

/** One minute of a series; `hist` is the minute's merged histogram (timers). */
export function rollup(
  s: Series,
  points: Point[],
  hist?: Histogram,
): (Point & { hist?: string }) | undefined {
  if (points.length === 0) return undefined
  const t = points[points.length - 1].t
  if (s.type === "c") return { t, v: points.reduce((a, p) => a + p.v, 0) / points.length }
  if (s.type !== "ms") return { t, v: points[points.length - 1].v }
  const v = points.reduce((a, p) => a + p.v, 0)
  if (!hist) return { t, v }
  return {
    t,
    v,
    p50: quantile(hist, 0.5),
    p90: quantile(hist, 0.9),
    p99: quantile(hist, 0.99),
    hist: serialise(hist),
  }
}

/** Stores the rollup of [minuteEnd - 60 s, minuteEnd) for every series; the minute's end is its timestamp. */
export async function persistMinute(store: SeriesStore, writer: Writer, minuteEnd: number): Promise<number> {
  const rows: unknown[][] = []
  for (const s of store.all()) {
    const hist = s.minutes.find((m) => m.end === minuteEnd)?.hist
    const p = rollup(s, store.points(s, minuteEnd - 60_000, minuteEnd - 1), hist)
    if (p) rows.push([s.key, minuteEnd, p.v, p.p50 ?? null, p.p90 ?? null, p.p99 ?? null, p.hist ?? null])
  }
  if (rows.length === 0) return 0
  await writer.insert({
    table: "metrics_points",
    columns: ["series", "t", "v", "p50", "p90", "p99", "hist"],
    rows,
    suffix: "ON CONFLICT DO NOTHING",
  })
  return rows.length
}

export async function storedPoints(db: Db, key: string, from: number, to: number): Promise<Point[]> {
  const rows = await db.all<{
    t: number
    v: number
    p50: number | null
    p90: number | null
    p99: number | null
  }>("SELECT t, v, p50, p90, p99 FROM metrics_points WHERE series = ? AND t >= ? AND t <= ? ORDER BY t", [
    key,
    from,
    to,
  ])
  return rows.map((r) => ({
    t: Number(r.t),
    v: Number(r.v),
    ...(r.p50 === null ? {} : { p50: Number(r.p50), p90: Number(r.p90), p99: Number(r.p99) }),
  }))
}

/** Names of stored series (for search after a restart). */
export async function storedSeries(db: Db, like: string, limit: number): Promise<string[]> {
  const rows = await db.all<{ series: string }>(
    "SELECT DISTINCT series FROM metrics_points WHERE series LIKE ? ESCAPE '\\' ORDER BY series LIMIT ?",
    [`%${like.replace(/[%_\\]/g, "\\$&")}%`, limit],
  )
  return rows.map((r) => r.series)
}

export async function pruneStored(db: Db, before: number): Promise<number> {
  return db.run("DELETE FROM metrics_points WHERE t < ?", [before])
}
