/**
 * The statsd push: lines are batched into datagrams of at most 1432 bytes (ops-formats §8.1) and sent
 * on a short timer (10 ms) with one `sendMany` on a connected non-blocking Bun UDP socket. A timer
 * rather than every event-loop turn: under load a turn holds only a few requests, and a send per turn
 * (~25 µs of syscall) cost more than the requests' own measurements; on the timer datagrams go out
 * full. Counters and gauges are aggregated per key until then (one line per key per send). A send that fails or is refused is counted and dropped: metrics never slow or break a request.
 */
import { statsdLines } from "./statsd-format"

export const MAX_DATAGRAM = 1432
const FLUSH_MS = 10
const RETRY_MS = 30_000
/** Lines kept while the socket is still opening (or refusing); beyond that they are dropped. */
const MAX_PENDING_DATAGRAMS = 64

export interface StatsdClient {
  /** Queues one measurement's lines; `ascii`: their UTF-8 length is their string length. */
  send(lines: string, ascii?: boolean): void
  /**
   * A counter (summed) or gauge (last value) line, aggregated per `id` until the next send: one line per
   * key every 10 ms however often it is measured (DogStatsD clients' client-side aggregation; the same
   * totals reach the server). `id` identifies key, type and tags.
   */
  aggregate(id: string, key: string, kind: "c" | "g", value: number, tail: string, ascii: boolean): void
  stats(): { datagrams: number; lines: number; dropped: number; errors: number }
  close(): void
}

export function createStatsdClient(
  target: { hostname: string; port: number },
  onError: (e: unknown) => void,
): StatsdClient {
  let socket: Awaited<ReturnType<typeof openSocket>> | undefined
  let closed = false
  const stats = { datagrams: 0, lines: 0, dropped: 0, errors: 0 }
  let current = ""
  let currentBytes = 0
  const ready: string[] = []
  let scheduled = false
  const aggregated = new Map<
    string,
    { key: string; kind: "c" | "g"; value: number; tail: string; ascii: boolean }
  >()

  const openSocket = () =>
    Bun.udpSocket({
      connect: target,
      socket: {
        error(_s, e) {
          stats.errors++
          onError(e)
        },
      },
    })
  /** Opens the socket; a failure (e.g. the name does not resolve yet) is counted and retried later. */
  function open() {
    // through a promise: Bun throws a failed DNS lookup synchronously
    Promise.resolve()
      .then(openSocket)
      .then(
        (s) => {
          if (closed) return s.close()
          s.unref()
          socket = s
          schedule()
        },
        (e) => {
          stats.errors++
          onError(e)
          if (!closed) setTimeout(open, RETRY_MS).unref()
        },
      )
  }
  open()

  function seal() {
    if (current === "") return
    if (ready.length >= MAX_PENDING_DATAGRAMS) stats.dropped++
    else ready.push(current)
    current = ""
    currentBytes = 0
  }

  function append(lines: string, ascii: boolean) {
    const exact = ascii ? lines.length : Buffer.byteLength(lines)
    if (currentBytes > 0 && currentBytes + 1 + exact > MAX_DATAGRAM) seal()
    current = current === "" ? lines : `${current}\n${lines}`
    currentBytes += (currentBytes > 0 ? 1 : 0) + exact
    stats.lines++
  }

  function flush() {
    scheduled = false
    for (const a of aggregated.values()) append(statsdLines(a.key, a.kind, a.value, a.tail), a.ascii)
    aggregated.clear()
    seal()
    if (!socket || ready.length === 0) return
    const batch = ready.splice(0, ready.length)
    try {
      const sent = batch.length === 1 ? (socket.send(batch[0]) ? 1 : 0) : socket.sendMany(batch)
      stats.datagrams += sent
      stats.dropped += batch.length - sent
    } catch (e) {
      stats.errors++
      stats.dropped += batch.length
      onError(e)
    }
  }

  function schedule() {
    if (scheduled || closed) return
    scheduled = true
    setTimeout(flush, FLUSH_MS).unref()
  }

  return {
    send(lines, ascii = false) {
      if (closed) return
      append(lines, ascii)
      schedule()
    },
    aggregate(id, key, kind, value, tail, ascii) {
      if (closed) return
      const a = aggregated.get(id)
      if (a === undefined) aggregated.set(id, { key, kind, value, tail, ascii })
      else a.value = kind === "c" ? a.value + value : value
      schedule()
    },
    stats: () => ({ ...stats }),
    close() {
      if (closed) return
      flush()
      closed = true
      socket?.close()
    },
  }
}
