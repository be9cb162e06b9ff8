/**
 * `GET /api/v1/health/transitions/stream`: the stored health transitions — of every instance sharing the
 * database — as server-sent events for tools that follow them. One `transition` event per row, its SSE id
 * the row id, so a client that reconnects with `Last-Event-ID` (EventSource does so by itself) or
 * `?after=<id>` gets what it missed; without either the stream starts with the next transition. New rows
 * are read as soon as this instance stores one, and every second for the other instances' rows.
 */

import { sseMessage, sseResponse } from "./live"
import type { TransitionRow } from "./schema"
import type { Health } from "./service"

const POLL_MS = 1000
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
    let last = opts.after
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
          last ??= await h.state.lastId()
          for (;;) {
            const rows = await h.state.after(last, {
              check: opts.check,
              instance: opts.instance,
              limit: BATCH,
            })
            for (const r of rows) {
              if (closed) return
              send(sseMessage(JSON.stringify(opts.view(r)), { id: r.id, event: "transition" }))
              last = r.id
            }
            if (rows.length < BATCH) break
          }
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
