/**
 * The statsd / DogStatsD UDP receiver: each datagram is parsed line by line straight into the series
 * store. Series are found through a raw-key cache (`type name|tags` exactly as sent) so a known series
 * costs one map lookup; the cache is dropped at every flush, when the store may have evicted series.
 */
import type { Series, SeriesStore } from "./series"
import { type ParseCounts, type ParsedMetric, parseDatagram } from "./statsd-parse"

export interface Receiver {
  /** Feeds one datagram's text (the UDP handler, and the benchmark/tests directly). */
  ingest(text: string): void
  counts: ParseCounts & { datagrams: number }
  forget(): void
}

export function createReceiver(store: SeriesStore, maxCache: number): Receiver {
  let cache = new Map<string, Series>()
  const counts = { lines: 0, malformed: 0, skipped: 0, datagrams: 0 }
  const emit: ParsedMetric = (name, type, value, rate, relative, tags, member) => {
    const raw = tags === "" ? `${type}${name}` : `${type}${name}|${tags}`
    let s = cache.get(raw)
    if (s === undefined) {
      s = store.series("received", name, type, tags === "" ? [] : tags.split(","))
      if (cache.size < maxCache) cache.set(raw, s)
    }
    if (member !== undefined) store.addMember(s, member)
    else store.add(s, value, rate, relative)
  }
  return {
    ingest(text) {
      counts.datagrams++
      parseDatagram(text, emit, counts)
    },
    counts,
    forget() {
      cache = new Map()
    },
  }
}

export async function listenUdp(
  receiver: Receiver,
  address: { hostname: string; port: number },
): Promise<{ port: number; close(): void }> {
  const socket = await Bun.udpSocket({
    hostname: address.hostname,
    port: address.port,
    socket: {
      data(_s, buf) {
        receiver.ingest(buf.toString())
      },
    },
  })
  return { port: socket.port, close: () => socket.close() }
}
