import { expect, test } from "bun:test"
import { createTestApp } from "../../test/support"
import metrics from "./plugin"
import { createStatsdClient } from "./statsd-client"
import { udpCollector, until } from "./testing"

test("an address that does not resolve: counted, never thrown, requests unaffected", async () => {
  const app = await createTestApp({
    plugins: [metrics],
    env: { LOGBOOK_STATSD_ADDRESS: "no-such-host.invalid:8125" },
  })
  try {
    const statsd = app.host.services.get("metrics")?.statsd
    await until(() => (statsd?.stats().errors ?? 0) > 0, "the failed lookup to be counted", 5000)
    expect((await app.request("/metrics")).status).toBe(200)
    for (let i = 0; i < 200; i++) app.host.metrics.increment("x.y", { i })
    expect((await app.request("/c2c/stats.json")).status).toBe(200)
  } finally {
    await app.close()
  }
})

test("a refused port: send errors are counted, not thrown", async () => {
  // bind a port, then free it: nothing listens there any more
  const probe = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 })
  const port = probe.port
  probe.close()
  const errors: unknown[] = []
  const client = createStatsdClient({ hostname: "127.0.0.1", port }, (e) => errors.push(e))
  try {
    for (let round = 0; round < 5; round++) {
      client.send("a.b:1|c")
      await Bun.sleep(20)
    }
    await until(() => client.stats().errors >= 1, "a counted send error (ICMP port unreachable)")
    expect(client.stats().lines).toBe(5)
    expect(errors.length).toBe(client.stats().errors)
  } finally {
    client.close()
  }
})

test("datagrams hold at most 1432 bytes, counted in UTF-8 (multi-byte tag values included)", async () => {
  const collector = await udpCollector()
  const client = createStatsdClient({ hostname: "127.0.0.1", port: collector.port }, () => undefined)
  try {
    await Bun.sleep(20) // the socket opens
    const ascii = "logbook.route:12|ms|#method:GET,route:api_events,status:201"
    const wide = "logbook.route:12|ms|#route:ünïcödé_ëvents_€€€€€€€€€€,status:201"
    for (let i = 0; i < 200; i++) {
      client.send(ascii, true)
      client.send(wide, false)
    }
    await until(() => collector.lines().length === 400, "all 400 lines")
    const sizes = collector.datagrams.map((d) => Buffer.byteLength(d))
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1432)
    // full datagrams, not one per line
    expect(collector.datagrams.length).toBeLessThan(40)
  } finally {
    client.close()
    collector.close()
  }
})
