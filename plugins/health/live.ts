/**
 * Server-sent events for health: the stream skeleton (comment heartbeats keep proxies and Bun's idle
 * timeout from closing a quiet stream; listeners go when the client does), and the live rows of
 * /ui/health — re-rendered rows marked for an out-of-band swap (`hx-swap-oob`), so the page's rows follow
 * every new result without a reload. Results arriving together (one request runs many checks) are sent
 * as one message.
 */
import type { Html } from "../../views/html"
import type { Item } from "./formats"
import type { Health } from "./service"

const COALESCE_MS = 50
const HEARTBEAT_MS = 8000

/** One SSE message: every line of the payload on its own `data:` line, after the optional id and event. */
export function sseMessage(data: string, opts: { id?: number | string; event?: string } = {}): string {
  const head = `${opts.id !== undefined ? `id: ${opts.id}\n` : ""}${opts.event ? `event: ${opts.event}\n` : ""}`
  return `${head}${data
    .split(/\r\n|\r|\n/)
    .map((l) => `data: ${l}`)
    .join("\n")}\n\n`
}

/**
 * A text/event-stream response: `start` gets a `send` for raw SSE text and returns its cleanup, which runs
 * once when the client goes (or the stream fails).
 */
export function sseResponse(request: Request, start: (send: (text: string) => void) => () => void): Response {
  const encoder = new TextEncoder()
  let cleanup = () => {}
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let done = false
      let stopFeeding = () => {}
      let heartbeat: ReturnType<typeof setInterval> | undefined
      cleanup = () => {
        if (done) return
        done = true
        clearInterval(heartbeat)
        stopFeeding()
      }
      const send = (text: string) => {
        if (done) return
        try {
          controller.enqueue(encoder.encode(text))
        } catch {
          cleanup()
        }
      }
      send(": connected\n\n")
      stopFeeding = start(send)
      heartbeat = setInterval(() => send(": keep-alive\n\n"), HEARTBEAT_MS)
      request.signal.addEventListener("abort", () => {
        cleanup()
        try {
          controller.close()
        } catch {
          // already closed
        }
      })
    },
    cancel() {
      cleanup()
    },
  })
  return new Response(stream, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-store", "x-accel-buffering": "no" },
  })
}

export function liveRows(
  h: Health,
  request: Request,
  opts: { group?: string; render: (item: Item) => Html },
): Response {
  return sseResponse(request, (send) => {
    const changed = new Set<string>()
    let timer: ReturnType<typeof setTimeout> | undefined
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
    return () => {
      off()
      clearTimeout(timer)
    }
  })
}
