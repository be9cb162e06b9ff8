/**
 * The live tail: a text/event-stream of rendered rows for records matching a search, pushed when records
 * are committed — by this process at once, by other instances sharing the database within a moment
 * (tail-wake.ts) — and looked up at most every 100 ms per tail with one query, never inside the writer's
 * commit path. Each message is one batch of <tr> rows, newest first, with the read floor as the SSE id, so
 * a reconnect (Last-Event-ID) resumes from there without gaps. Comment heartbeats keep proxies
 * and Bun's idle timeout from closing a quiet stream; the listener and timers are removed when the client
 * goes away.
 *
 * PostgreSQL hands out ids at insert time, so a record with a lower id can become visible after a higher
 * one (two instances committing at once): on PostgreSQL the reads start from a floor that trails the
 * highest id by a few seconds and skip the ids already sent (src/db/id-watermark.ts). SQLite has one
 * writer at a time, its ids become visible in order, and the floor follows the highest id at once.
 * A resumed stream knows nothing of what was sent before: on PostgreSQL it sends again the rows between
 * the floor and the highest id the client saw (at most a few seconds' worth), and the page drops the
 * repeats by record id (ui-client.js) — a record committed late during the reconnect is not lost.
 */

import { createIdWatermark, type IdWatermark } from "../../src/db/id-watermark"
import type { PluginContext } from "../../src/plugin/contract"
import { type Html, html } from "../../views/html"
import { type RecordRow, search } from "./service"
import { tailWake } from "./tail-wake"

/** Newest matching records sent when a tail starts (like `tail -f`), and the most sent per batch. */
export const TAIL_BACKLOG = 20
export const TAIL_BATCH = 500
/** New records are looked up at most this often per tail (bursts of commits fold into one query). */
export const TAIL_COALESCE_MS = 100
/** Below Bun's default idle timeout (10 s) and the server's (30 s). */
export const HEARTBEAT_MS = 8000
/**
 * Ids sent that a tail remembers to skip while they are above its trailing floor. A tail busier than this
 * over the settle time waits less long for late lower ids, and reads at most TAIL_BATCH + this many rows.
 */
const TAIL_REMEMBERED = 2 * TAIL_BATCH

export interface TailOptions {
  query: string
  levelMin?: number
  /** Resume after this id (Last-Event-ID); without it the stream starts with the backlog. */
  afterId?: number
  render(rows: readonly RecordRow[]): Html[]
  heartbeatMs?: number
  coalesceMs?: number
}

const SKIPPED_ROW =
  html`<tr class="tail-gap"><td colspan="4" class="muted small">… more records matched in this moment than one batch holds (${TAIL_BATCH}); older ones of the burst are not shown here — search the window to see them all.</td></tr>`
    .value

/** One SSE message: every line of the payload on its own data: line. */
export function sseMessage(data: string, id?: number): string {
  const lines = data.split(/\r\n|\r|\n/).map((l) => `data: ${l}`)
  return `${id === undefined ? "" : `id: ${id}\n`}${lines.join("\n")}\n\n`
}

export function tailResponse(
  ctx: Pick<PluginContext, "db" | "events">,
  request: Request,
  opts: TailOptions,
): Response {
  const encoder = new TextEncoder()
  let stop = () => {}
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let closed = false
      let running = false
      let again = false
      const send = (text: string) => {
        if (closed) return
        try {
          controller.enqueue(encoder.encode(text))
        } catch {
          stop()
        }
      }
      const settleMs = ctx.db.dialect === "postgres" ? undefined : 0
      const watermark = (start: number) =>
        createIdWatermark(start, { settleMs, maxRemembered: TAIL_REMEMBERED })
      // where the next read starts; undefined until the backlog is sent
      let mark: IdWatermark | undefined = opts.afterId === undefined ? undefined : watermark(opts.afterId)
      // the highest id announced so far: the floor may pass it even when none of those records match
      let announced = 0
      /** The newest TAIL_BACKLOG matches, once at the start (unless resuming). */
      const backlog = async () => {
        // announced before the query: its records are in the page or do not match
        let highest = announced
        const page = await search(ctx.db, { query: opts.query, levelMin: opts.levelMin, limit: TAIL_BACKLOG })
        for (const r of page.items) if (r.id > highest) highest = r.id
        mark = watermark(highest)
        if (page.items.length) send(sseMessage(opts.render(page.items).join(""), highest))
        else send(`id: ${highest}\n: no backlog\n\n`)
      }
      /** What committed since the last read: one query from the floor, repeats above it skipped. */
      const next = async (m: IdWatermark) => {
        const upTo = announced
        const page = await search(ctx.db, {
          query: opts.query,
          levelMin: opts.levelMin,
          afterId: m.floor,
          limit: TAIL_BATCH + m.repeats(),
        })
        const fresh = page.items.filter((r) => m.isNew(r.id))
        const rows = fresh.slice(0, TAIL_BATCH)
        m.seen(upTo)
        for (const r of page.items) m.seen(r.id)
        // more new matches than a batch holds (the read held every repeat): say so, never pretend — and
        // the older ones of this burst are given up, not sent late
        const gap = page.nextCursor !== undefined || fresh.length > TAIL_BATCH
        if (gap) m.raise(m.highest)
        else for (const r of rows) m.deliver(r.id)
        m.settle(Date.now())
        if (rows.length && !closed)
          send(sseMessage(opts.render(rows).join("") + (gap ? SKIPPED_ROW : ""), m.floor))
      }
      // one query at a time; wake-ups during a query fold into one more round
      const pull = async () => {
        if (running) {
          again = true
          return
        }
        running = true
        try {
          do {
            again = false
            await (mark ? next(mark) : backlog())
          } while (again && !closed)
        } catch (e) {
          send(`event: tail-error\ndata: ${String((e as Error)?.message ?? e).replace(/\s+/g, " ")}\n\n`)
        } finally {
          running = false
        }
      }
      // Local wake-ups come from inside the writer's commit path (and SQLite queries are synchronous):
      // only note the id there, and query a moment later, once per burst of commits.
      let timer: ReturnType<typeof setTimeout> | undefined
      const off = tailWake(ctx).subscribe((highestId) => {
        if (highestId > announced) announced = highestId
        if (timer || closed) return
        timer = setTimeout(() => {
          timer = undefined
          void pull()
        }, opts.coalesceMs ?? TAIL_COALESCE_MS)
      })
      const heartbeat = setInterval(() => send(": heartbeat\n\n"), opts.heartbeatMs ?? HEARTBEAT_MS)
      stop = () => {
        if (closed) return
        closed = true
        off()
        clearTimeout(timer)
        clearInterval(heartbeat)
        request.signal.removeEventListener("abort", stop)
        try {
          controller.close()
        } catch {
          // already closed by the client
        }
      }
      request.signal.addEventListener("abort", stop)
      send("retry: 2000\n: live tail\n\n")
      void pull()
    },
    cancel() {
      stop()
    },
  })
  return new Response(stream, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
    },
  })
}
