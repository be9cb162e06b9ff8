/**
 * `GET /api/v1/health/transitions/stream`: the stored health transitions — of every instance sharing the
 * database — as server-sent events for tools that follow them. One `transition` event per row, its SSE id
 * the row id, so a client that reconnects with `Last-Event-ID` (EventSource does so by itself) or
 * `?after=<id>` gets what it missed; without either the stream starts with the next transition. New rows
 * are read as soon as this instance stores one, and when the database's commit signal says another
 * instance may have (src/db/commit-signal.ts). Delivery is at least once: a client resuming after a late
 * lower id may get a higher one again.
 */

import { createIdWatermark, type IdWatermark } from "../../src/db/id-watermark"
import { sseMessage, sseResponse } from "./live"
import type { TransitionRow } from "./schema"
import type { Health } from "./service"

const BATCH = 500

export interface StreamOptions {
  /** Replay stored transitions with a higher id first; undefined: only new ones. */
  after?: number
  check?: string
  instance?: string
  /** How one row is shown to this caller (messages only when details are allowed). */
  view(row: TransitionRow): unknown
}

export function transitionStream(h: Health, request: Request, opts: StreamOptions): Response {
  return sseResponse(request, (send) => {
    // PostgreSQL hands out ids at insert time: a lower id can become visible after a higher one (two
    // instances committing at once). Reads start at the watermark's floor, which trails the ids sent by a
    // few seconds; ids sent since are remembered and not sent twice.
    let mark: IdWatermark | undefined
    let busy = false
    let again = false
    let closed = false
    const pump = async () => {
      if (busy) {
        again = true
        return
      }
      busy = true
      try {
        do {
          again = false
          mark ??= createIdWatermark(opts.after ?? (await h.state.lastId()))
          for (;;) {
            const rows = await h.state.after(mark.floor, {
              check: opts.check,
              instance: opts.instance,
              limit: BATCH,
            })
            for (const r of rows) {
              if (closed) return
              if (mark.isNew(r.id)) {
                send(sseMessage(JSON.stringify(opts.view(r)), { id: r.id, event: "transition" }))
                mark.deliver(r.id)
              }
            }
            if (rows.length < BATCH) break
            // a full batch: catch up before the settle rule applies
            mark.raise((rows.at(-1) as TransitionRow).id)
          }
          mark.settle(Date.now())
        } while (again && !closed)
      } catch (e) {
        h.ctx.log.warning("health transition stream: could not read transitions", { error: e })
      } finally {
        busy = false
      }
    }
    const offStored = h.state.onStored(() => void pump())
    const offOthers = h.commits.subscribe(() => void pump())
    void pump()
    return () => {
      closed = true
      offStored()
      offOthers()
    }
  })
}
