/**
 * `GET /api/v1/health/transitions/stream`: the stored health transitions — of every instance sharing the
 * database — as server-sent events for tools that follow them. One `transition` event per row, its SSE id
 * the row id, so a client that reconnects with `Last-Event-ID` (EventSource does so by itself) or
 * `?after=<id>` gets what it missed; without either the stream starts with the next transition. New rows
 * are read as soon as this instance stores one, and every second for the other instances' rows. Delivery is
 * at least once: a client resuming after a late lower id may get a higher one again.
 */

import { sseMessage, sseResponse } from "./live"
import type { TransitionRow } from "./schema"
import type { Health } from "./service"

const POLL_MS = 1000
/** Ids sent this long ago are settled: no lower id can still appear below them. */
const SETTLE_MS = 3000
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
    // instances committing at once). Reads start at `floor`, which trails the ids sent by SETTLE_MS; ids sent
    // since are remembered and not sent twice.
    let floor = opts.after
    const sent = new Map<number, number>()
    let busy = false
    let again = false
    let closed = false
    const settle = (now: number) => {
      for (const [id, at] of sent) if (at <= now - SETTLE_MS && floor !== undefined && id > floor) floor = id
      for (const id of sent.keys()) if (floor !== undefined && id <= floor) sent.delete(id)
    }
    const pump = async () => {
      if (busy) {
        again = true
        return
      }
      busy = true
      try {
        do {
          again = false
          floor ??= await h.state.lastId()
          let from = floor
          for (;;) {
            const rows = await h.state.after(from, {
              check: opts.check,
              instance: opts.instance,
              limit: BATCH,
            })
            for (const r of rows) {
              if (closed) return
              if (!sent.has(r.id))
                send(sseMessage(JSON.stringify(opts.view(r)), { id: r.id, event: "transition" }))
              sent.set(r.id, sent.get(r.id) ?? performance.now())
              from = r.id
            }
            if (rows.length < BATCH) break
          }
          settle(performance.now())
        } while (again && !closed)
      } catch (e) {
        h.ctx.log.warning("health transition stream: could not read transitions", { error: e })
      } finally {
        busy = false
      }
    }
    const off = h.state.onStored(() => void pump())
    const poll = setInterval(() => void pump(), POLL_MS)
    void pump()
    return () => {
      closed = true
      off()
      clearInterval(poll)
    }
  })
}
