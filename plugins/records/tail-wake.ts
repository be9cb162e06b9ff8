/**
 * What wakes the live tails of one app: records committed by this process at once ("records.ingested",
 * emitted by ingest() after commit), records committed by other instances sharing the database within a
 * moment (the database's commit signal, src/db/commit-signal.ts). Every wake-up carries the highest
 * record id known committed, so a tail's read floor moves past records that do not match its search
 * instead of reading them again and again; for other instances' records that id is read once per signal
 * for all the tails of the app, not by each.
 *
 * On PostgreSQL this also tells the other instances about this one's records (a coalesced NOTIFY after
 * each ingestion, whether or not a tail is open here); SQLite needs no message (data_version changes).
 */
import { type CommitSignal, createCommitSignal } from "../../src/db/commit-signal"
import type { EventBus, PluginContext } from "../../src/plugin/contract"
import { RECORDS_TABLE } from "./schema"

export const RECORDS_CHANNEL = "logbook_records"

export interface TailWake {
  /** fn gets the highest record id known committed, whenever there may be new records. */
  subscribe(fn: (highestId: number) => void): () => void
  /** Tails subscribed now. */
  size(): number
  stop(): Promise<void>
}

// one per app, keyed by its event bus (every plugin context of an app shares it): no global state
const wakes = new WeakMap<EventBus, TailWake>()

/** The app's tail wake, created on first use (the plugin's start, so NOTIFY works before any tail opens). */
export function tailWake(ctx: Pick<PluginContext, "db" | "events">): TailWake {
  let w = wakes.get(ctx.events)
  if (!w) {
    w = createTailWake(ctx, createCommitSignal(ctx.db, RECORDS_CHANNEL))
    wakes.set(ctx.events, w)
  }
  return w
}

function createTailWake(ctx: Pick<PluginContext, "db" | "events">, signal: CommitSignal): TailWake {
  const tails = new Set<(highestId: number) => void>()
  const tell = (id: number) => {
    for (const t of tails) t(id)
  }
  const offNotify =
    ctx.db.dialect === "postgres" ? ctx.events.on("records.ingested", () => signal.committed()) : () => {}
  let unwatch: (() => void) | undefined

  /** The highest id committed, for every tail (a failed read: the next signal or safety poll reads again). */
  const readHighest = () =>
    ctx.db.get<{ id: number | null }>(`SELECT MAX(id) AS id FROM ${RECORDS_TABLE}`).then(
      (row) => tell(Number(row?.id ?? 0)),
      () => {},
    )

  function watch(): () => void {
    const offLocal = ctx.events.on("records.ingested", ({ ids }) => {
      let highest = 0
      for (const id of ids) if (id > highest) highest = id
      tell(highest)
    })
    const offSignal = signal.subscribe(() => void readHighest())
    return () => {
      offLocal()
      offSignal()
    }
  }

  return {
    subscribe(fn) {
      tails.add(fn)
      unwatch ??= watch()
      return () => {
        tails.delete(fn)
        if (tails.size || !unwatch) return
        unwatch()
        unwatch = undefined
      }
    },
    size: () => tails.size,
    async stop() {
      tails.clear()
      unwatch?.()
      unwatch = undefined
      offNotify()
      await signal.stop()
    },
  }
}
