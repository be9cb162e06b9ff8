/**
 * "Someone else may have committed": the wake-up for live views that must also show rows written by
 * other Logbook instances (or other processes) sharing the database. On PostgreSQL each instance sends a
 * NOTIFY on the channel after its commits (coalesced) and the watcher LISTENs; on SQLite the watcher
 * compares `PRAGMA data_version`, which changes when another connection committed; a slow safety poll
 * covers a missed notification or a setup without LISTEN (a pooler in transaction mode).
 *
 * One watcher per signal, running only while someone is subscribed. The signal carries no data: what
 * changed is for the subscriber to read (and, on PostgreSQL, to read with care — ids are handed out at
 * insert time, so a lower id can become visible after a higher one).
 */
import type { Db } from "./database"

/** How often SQLite's data_version is compared (cheap: no table is read). */
const SQLITE_POLL_MS = 500
/** Wake anyway this often (a missed notification, a notification-less setup). */
const SAFETY_POLL_MS = 5_000
/** Coalesce this process's notifications: at most one per this interval. */
const NOTIFY_EVERY_MS = 50

export interface CommitSignal {
  /** fn runs whenever rows may have been committed elsewhere. Returns an unsubscribe. */
  subscribe(fn: () => void): () => void
  /** This process committed: tell the other instances (PostgreSQL only; SQLite needs no message). */
  committed(): void
  stop(): Promise<void>
}

export function createCommitSignal(
  db: Db,
  channel: string,
  opts: { safetyPollMs?: number } = {},
): CommitSignal {
  const safetyPollMs = opts.safetyPollMs ?? SAFETY_POLL_MS
  const subscribers = new Set<() => void>()
  let watching: Promise<() => Promise<void>> | undefined
  let notifyTimer: ReturnType<typeof setTimeout> | undefined

  const wake = () => {
    for (const s of subscribers) s()
  }

  /** Starts the watch; resolves to its stop function. */
  async function watch(): Promise<() => Promise<void>> {
    const timers: Array<ReturnType<typeof setInterval>> = []
    let unlisten: (() => Promise<void>) | undefined
    if (db.dialect === "postgres" && db.pg) {
      try {
        unlisten = (await db.pg.listen(channel, wake)).unlisten
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
            wake()
          }
        }, SQLITE_POLL_MS),
      )
    }
    if (Number.isFinite(safetyPollMs)) timers.push(setInterval(wake, safetyPollMs))
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
    committed() {
      if (db.dialect !== "postgres" || notifyTimer) return
      notifyTimer = setTimeout(() => {
        notifyTimer = undefined
        db.run("SELECT pg_notify(?, '')", [channel]).catch(() => {})
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
