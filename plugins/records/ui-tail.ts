/**
 * The live tail: a text/event-stream of rendered rows for records matching a search, pushed when
 * service.ts announces committed records ("records.ingested"; looked up at most every 100 ms per tail,
 * never inside the writer's commit path). Each message is one batch of <tr> rows,
 * newest first, with the highest record id as the SSE id so a reconnect (Last-Event-ID) resumes without
 * gaps or repeats. Comment heartbeats keep proxies and Bun's idle timeout from closing a quiet stream;
 * the listener and timer are removed when the client goes away.
 */

import type { PluginContext } from "../../src/plugin/contract"
import { type Html, html } from "../../views/html"
import { type RecordRow, search } from "./service"

/** Newest matching records sent when a tail starts (like `tail -f`), and the most sent per batch. */
export const TAIL_BACKLOG = 20
export const TAIL_BATCH = 500
/** New records are looked up at most this often per tail (bursts of commits fold into one query). */
export const TAIL_COALESCE_MS = 100
/** Below Bun's default idle timeout (10 s) and the server's (30 s). */
export const HEARTBEAT_MS = 8000

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
      let cursor = opts.afterId
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
      // the highest id announced so far: the cursor may jump to it even when none of those records match
      let announced = 0
      // one query at a time; announcements during a query fold into one more round
      const pull = async () => {
        if (running) {
          again = true
          return
        }
        running = true
        try {
          do {
            again = false
            const first = cursor === undefined
            const upTo = announced
            const page = await search(ctx.db, {
              query: opts.query,
              levelMin: opts.levelMin,
              afterId: cursor,
              limit: first ? TAIL_BACKLOG : TAIL_BATCH,
            })
            let maxSeen = Math.max(cursor ?? 0, upTo)
            for (const r of page.items) if (r.id > maxSeen) maxSeen = r.id
            cursor = maxSeen
            // a full batch means this burst had more matches than a batch holds: say so, never pretend
            const gap = !first && page.items.length === TAIL_BATCH ? SKIPPED_ROW : ""
            if (page.items.length && !closed)
              send(sseMessage(opts.render(page.items).join("") + gap, maxSeen))
            else if (first) send(`id: ${maxSeen}\n: no backlog\n\n`)
          } while (again && !closed)
        } catch (e) {
          send(`event: tail-error\ndata: ${String((e as Error)?.message ?? e).replace(/\s+/g, " ")}\n\n`)
        } finally {
          running = false
        }
      }
      // The event fires inside the writer's commit path (and SQLite queries are synchronous): only note
      // the ids there, and query a moment later, once per burst of commits.
      let timer: ReturnType<typeof setTimeout> | undefined
      const off = ctx.events.on("records.ingested", ({ ids }) => {
        for (const id of ids) if (id > announced) announced = id
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
