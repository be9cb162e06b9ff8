/**
 * The live feed behind every live view: events committed by this process are delivered at once, and
 * events committed by other instances sharing the database within a moment — woken by the database's
 * commit signal (src/db/commit-signal.ts: PostgreSQL LISTEN/NOTIFY, SQLite `PRAGMA data_version`, a slow
 * safety poll). One watcher per process, running only while someone is subscribed, however many views
 * are open.
 *
 * PostgreSQL hands out ids at insert time, so a row with a lower id can become visible after a higher
 * one (two instances committing at once). The reads therefore start from a watermark that trails the
 * highest id seen by a few seconds, and ids already delivered are skipped.
 */
import { createCommitSignal } from "../../src/db/commit-signal"
import type { Db } from "../../src/db/database"
import { createIdWatermark } from "../../src/db/id-watermark"
import type { ChangeEvent } from "../../src/plugin/contract"

export const NOTIFY_CHANNEL = "logbook_changes"
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
  const signal = createCommitSignal(db, NOTIFY_CHANNEL, opts)
  const subscribers = new Set<(events: ChangeEvent[]) => void>()
  let mark = createIdWatermark(0)
  /** The start point (the highest id when the first subscriber came); reads wait for it. */
  let starting: Promise<void> = Promise.resolve()
  let unwatch: (() => void) | undefined
  let reading: Promise<void> | undefined
  let readAgain = false

  const deliver = (events: ChangeEvent[]) => {
    const fresh = events.filter((e) => mark.isNew(e.id))
    if (!fresh.length) return
    for (const e of fresh) mark.deliver(e.id)
    for (const s of subscribers) s(fresh)
  }

  /** One read of what others committed; a read asked for meanwhile runs once after it. */
  function readOthers(): Promise<void> {
    if (reading) {
      readAgain = true
      return reading
    }
    reading = (async () => {
      try {
        await starting
        do {
          readAgain = false
          let batch: ChangeEvent[]
          do {
            batch = await read.after(mark.floor, READ_LIMIT)
            deliver(batch)
            // a full batch: catch up before the settle rule applies
            if (batch.length === READ_LIMIT) mark.raise((batch.at(-1) as ChangeEvent).id)
          } while (batch.length === READ_LIMIT && subscribers.size)
          mark.settle(Date.now())
        } while (readAgain && subscribers.size)
      } catch {
        // the next signal or safety poll reads again
      } finally {
        reading = undefined
      }
    })()
    return reading
  }

  return {
    subscribe(fn) {
      subscribers.add(fn)
      if (!unwatch) {
        // a fresh start: earlier rows are history, not news
        const m = createIdWatermark(0)
        mark = m
        starting = read.maxId().then(
          (id) => m.raise(id),
          () => {},
        )
        unwatch = signal.subscribe(() => void readOthers())
      }
      return () => {
        subscribers.delete(fn)
        if (subscribers.size || !unwatch) return
        unwatch()
        unwatch = undefined
      }
    },
    committed(events) {
      if (subscribers.size) deliver(events())
      signal.committed()
    },
    async stop() {
      subscribers.clear()
      unwatch = undefined
      await signal.stop()
    },
  }
}
