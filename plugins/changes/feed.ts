/**
 * The live feed behind every live view: events committed by this process are delivered at once, and
 * events committed by other instances sharing the database within a moment — woken by PostgreSQL's
 * LISTEN/NOTIFY (each instance notifies after its commits, coalesced) or, on SQLite, by `PRAGMA
 * data_version` changing (another process wrote), with a slow safety poll on both. One watcher per
 * process, running only while someone is subscribed, however many views are open.
 *
 * PostgreSQL hands out ids at insert time, so a row with a lower id can become visible after a higher
 * one (two instances committing at once). The reads therefore start from a watermark that trails the
 * highest id seen by a few seconds, and ids already delivered are skipped.
 */
import type { Db } from "../../src/db/database"
import type { ChangeEvent } from "../../src/plugin/contract"

export const NOTIFY_CHANNEL = "logbook_changes"
/** How often SQLite's data_version is compared (cheap: no table is read). */
const SQLITE_POLL_MS = 500
/** Read anyway this often (a missed notification, a notification-less setup). */
const SAFETY_POLL_MS = 5_000
/** Ids seen this long ago are settled: no lower id can still appear below them. */
const SETTLE_MS = 3_000
/** Coalesce this instance's notifications: at most one per this interval. */
const NOTIFY_EVERY_MS = 50
const READ_LIMIT = 500

export interface LiveFeed {
  /** fn gets batches of new events, oldest first. Returns an unsubscribe. */
  subscribe(fn: (events: ChangeEvent[]) => void): () => void
  /** This process committed events: deliver them (built only when someone listens) and tell the others. */
  committed(events: () => ChangeEvent[]): void
  stop(): Promise<void>
}

export function createLiveFeed(
  db: Db,
  read: {
    /** Events with id > afterId, in id order. */
    after(afterId: number, limit: number): Promise<ChangeEvent[]>
    maxId(): Promise<number>
  },
  opts: { safetyPollMs?: number } = {},
): LiveFeed {
  const safetyPollMs = opts.safetyPollMs ?? SAFETY_POLL_MS
  const subscribers = new Set<(events: ChangeEvent[]) => void>()
  const delivered = new Set<number>()
  /** (when, highest id seen then): the watermark is the newest mark older than SETTLE_MS. */
  let marks: Array<{ at: number; id: number }> = []
  let watermark = 0
  let highest = 0
  let watching: Promise<() => Promise<void>> | undefined
  let reading: Promise<void> | undefined
  let readAgain = false
  let notifyTimer: ReturnType<typeof setTimeout> | undefined

  const deliver = (events: ChangeEvent[]) => {
    const fresh = events.filter((e) => !delivered.has(e.id))
    if (!fresh.length) return
    for (const e of fresh) {
      delivered.add(e.id)
      if (e.id > highest) highest = e.id
    }
    for (const s of subscribers) s(fresh)
  }

  function advanceWatermark(now: number) {
    marks.push({ at: now, id: highest })
    while (marks.length > 1 && (marks[1] as { at: number }).at <= now - SETTLE_MS) marks.shift()
    const settled = marks[0] as { at: number; id: number }
    if (settled.at <= now - SETTLE_MS && settled.id > watermark) {
      watermark = settled.id
      for (const id of delivered) if (id <= watermark) delivered.delete(id)
      marks = marks.filter((m) => m.id >= watermark)
    }
  }

  /** One read of what others committed; a read asked for meanwhile runs once after it. */
  function readOthers(): Promise<void> {
    if (reading) {
      readAgain = true
      return reading
    }
    reading = (async () => {
      try {
        do {
          readAgain = false
          let batch: ChangeEvent[]
          do {
            batch = await read.after(watermark, READ_LIMIT)
            deliver(batch)
            // a full batch: catch up before the watermark rule applies
            if (batch.length === READ_LIMIT) watermark = (batch.at(-1) as ChangeEvent).id
          } while (batch.length === READ_LIMIT && subscribers.size)
          advanceWatermark(Date.now())
        } while (readAgain && subscribers.size)
      } catch {
        // the next signal or safety poll reads again
      } finally {
        reading = undefined
      }
    })()
    return reading
  }

  /** Starts the signals; resolves to their stop function. */
  async function watch(): Promise<() => Promise<void>> {
    delivered.clear()
    highest = watermark = await read.maxId().catch(() => 0)
    marks = [{ at: Date.now(), id: highest }]
    const timers: Array<ReturnType<typeof setInterval>> = []
    let unlisten: (() => Promise<void>) | undefined
    if (db.dialect === "postgres" && db.pg) {
      try {
        unlisten = (await db.pg.listen(NOTIFY_CHANNEL, () => void readOthers())).unlisten
      } catch {
        // no LISTEN (a pooler in transaction mode): the safety poll carries it
      }
    }
    if (db.dialect === "sqlite" && db.sqlite) {
      const raw = db.sqlite
      const version = () => (raw.query("PRAGMA data_version").get() as { data_version: number }).data_version
      let seen = version()
      timers.push(
        setInterval(() => {
          const v = version()
          if (v !== seen) {
            seen = v
            void readOthers()
          }
        }, SQLITE_POLL_MS),
      )
    }
    if (Number.isFinite(safetyPollMs)) timers.push(setInterval(() => void readOthers(), safetyPollMs))
    for (const t of timers) t.unref?.()
    return async () => {
      for (const t of timers) clearInterval(t)
      await unlisten?.().catch(() => {})
    }
  }

  const unwatch = async () => {
    const w = watching
    watching = undefined
    if (w) await (await w)()
  }

  return {
    subscribe(fn) {
      subscribers.add(fn)
      watching ??= watch()
      return () => {
        subscribers.delete(fn)
        if (!subscribers.size) void unwatch()
      }
    },
    committed(events) {
      if (subscribers.size) deliver(events())
      if (db.dialect !== "postgres" || notifyTimer) return
      notifyTimer = setTimeout(() => {
        notifyTimer = undefined
        db.run("SELECT pg_notify(?, '')", [NOTIFY_CHANNEL]).catch(() => {})
      }, NOTIFY_EVERY_MS)
      notifyTimer.unref?.()
    },
    async stop() {
      subscribers.clear()
      if (notifyTimer) clearTimeout(notifyTimer)
      notifyTimer = undefined
      await unwatch()
    },
  }
}
