/**
 * Live updates for /ui/health: a text/event-stream whose messages are re-rendered rows marked for an
 * out-of-band swap (`hx-swap-oob`), so the page's rows follow every new result without a reload. Results
 * arriving together (one request runs many checks) are sent as one message; comment heartbeats keep
 * proxies and Bun's idle timeout from closing a quiet stream; the listener goes when the client does.
 */
import type { Html } from "../../views/html"
import type { Item } from "./formats"
import type { Health } from "./service"

const COALESCE_MS = 50
const HEARTBEAT_MS = 8000

/** One SSE message: every line of the payload on its own `data:` line. */
export function sseMessage(data: string): string {
  return `${data
    .split(/\r\n|\r|\n/)
    .map((l) => `data: ${l}`)
    .join("\n")}\n\n`
}

export function liveRows(
  h: Health,
  request: Request,
  opts: { group?: string; render: (item: Item) => Html },
): Response {
  const encoder = new TextEncoder()
  let cleanup = () => {}
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const changed = new Set<string>()
      let timer: ReturnType<typeof setTimeout> | undefined
      const send = (text: string) => {
        try {
          controller.enqueue(encoder.encode(text))
        } catch {
          cleanup()
        }
      }
      const flush = () => {
        timer = undefined
        const rows: string[] = []
        for (const name of changed) {
          const e = h.runner.get(name)
          if (e?.last)
            rows.push(opts.render({ spec: e.spec, outcome: e.last, since: h.state.get(name)?.since }).value)
        }
        changed.clear()
        if (rows.length) send(sseMessage(rows.join("")))
      }
      const off = h.runner.onOutcome((o, spec) => {
        if (opts.group && !spec.groups.includes(opts.group)) return
        changed.add(o.name)
        timer ??= setTimeout(flush, COALESCE_MS)
      })
      const heartbeat = setInterval(() => send(": keep-alive\n\n"), HEARTBEAT_MS)
      cleanup = () => {
        off()
        clearInterval(heartbeat)
        clearTimeout(timer)
      }
      request.signal.addEventListener("abort", () => {
        cleanup()
        try {
          controller.close()
        } catch {
          // already closed
        }
      })
      send(": connected\n\n")
    },
    cancel() {
      cleanup()
    },
  })
  return new Response(stream, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-store", "x-accel-buffering": "no" },
  })
}
