// Metrics scenarios (issue 6).
// 1. The changes POST benchmark (`POST /api/events`, changelog body, keep-alive) with the statsd push on
//    vs off: two Logbook instances started here from source, measured alternately (off, on, off, on) so
//    machine noise hits both alike; reported as on/off (target ≥ 0.95). The push goes to a UDP sink
//    opened here that counts what arrives (so the emission is real, not refused).
// 2. The statsd receiver's sustained lines/s from a local sender (target ≥ 200,000 lines/s), with the
//    server's RSS (from its /metrics) before and after to show memory flat.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { startLogbook } from "../process"
import type { BenchScenario, ScenarioContext, WrkRequest } from "../scenario"
import { runWrk } from "../wrk"

const ROOT = resolve(import.meta.dir, "../../..")

const POST_EVENT: WrkRequest = {
  method: "POST",
  path: "/api/events",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({
    criticality: 2,
    unix_timestamp: 1795342058,
    category: "deploy",
    description: "shop v2.3.1 rolled out to prod",
  }),
}

/** A statsd "agent": counts the datagrams Logbook pushes. */
const sink = { datagrams: 0 }
const sinkSocket = await Bun.udpSocket({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    data() {
      sink.datagrams++
    },
  },
})
sinkSocket.unref()

async function freeUdpPort(): Promise<number> {
  const s = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 })
  const port = s.port
  s.close()
  return port
}
const receiverPort = await freeUdpPort()

/** A value from a /metrics text: `name{labels} value`. */
async function scrape(baseUrl: string, sample: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text()
  const line = text.split("\n").find((l) => l.startsWith(`${sample} `))
  if (!line) throw new Error(`${sample} is not on ${baseUrl}/metrics`)
  return Number(line.slice(sample.length + 1))
}

async function statsdOnVsOff(ctx: ScenarioContext): Promise<Record<string, number>> {
  const dirs: string[] = []
  const start = async (extra: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), "logbook-bench-metrics-"))
    dirs.push(dir)
    const env: Record<string, string> = {
      ...ctx.env,
      LOGBOOK_DATA_DIR: join(dir, "data"),
      LOGBOOK_PLUGINS_DIR: join(dir, "plugins.d"),
    }
    delete env.LOGBOOK_PORT
    delete env.LOGBOOK_STATSD_ADDRESS
    return startLogbook({
      cmd: [process.execPath, join(ROOT, "src/main.ts"), "serve"],
      cwd: ROOT,
      env: { ...env, ...extra },
    })
  }
  // "on" starts first: in trials here the second-started instance tended to measure faster, so any
  // such bias works against the push, not for it
  const on = await start({ LOGBOOK_STATSD_ADDRESS: `127.0.0.1:${sinkSocket.port}` })
  const off = await start({})
  try {
    const measure = (server: typeof on, seconds: number) =>
      runWrk({
        url: `${server.baseUrl}${POST_EVENT.path}`,
        request: POST_EVENT,
        connections: ctx.connections,
        durationSeconds: seconds,
      })
    // both warm (JIT, SQLite file, caches) before anything counts
    await measure(off, 2)
    await measure(on, 2)
    // off, on, on, off, off, on, on, off: a load that drifts during the run (the machine is shared)
    // hits both alike
    const segment = Math.max(2, Math.round(ctx.durationSeconds / 4))
    const totals = { on: 0, off: 0 }
    // the servers' own CPU per request: on a shared, noisy machine throughput swings ±50 % between
    // segments even for identical instances, CPU time per request barely moves
    const cpu = { on: 0, off: 0 }
    const requests = { on: 0, off: 0 }
    const datagramsBefore = sink.datagrams
    for (const name of ["off", "on", "on", "off", "off", "on", "on", "off"] as const) {
      const server = name === "on" ? on : off
      const cpu0 = await scrape(server.baseUrl, "process_cpu_seconds_total")
      const r = await measure(server, segment)
      cpu[name] += (await scrape(server.baseUrl, "process_cpu_seconds_total")) - cpu0
      requests[name] += r.requests
      if (r.non2xx > 0) throw new Error(`${name}: ${r.non2xx} non-2xx answers`)
      totals[name] += r.requests / r.seconds / 4
    }
    const cpuUs = (k: "on" | "off") => (cpu[k] * 1e6) / requests[k]
    return {
      off_req_per_s: Math.round(totals.off),
      on_req_per_s: Math.round(totals.on),
      on_over_off: Number((totals.on / totals.off).toFixed(3)),
      off_cpu_us_per_req: Number(cpuUs("off").toFixed(1)),
      on_cpu_us_per_req: Number(cpuUs("on").toFixed(1)),
      /** The throughput ratio a CPU-bound server would show: off's CPU per request / on's. */
      on_over_off_by_cpu: Number((cpuUs("off") / cpuUs("on")).toFixed(3)),
      statsd_datagrams_received: sink.datagrams - datagramsBefore,
      statsd_lines_sent: await scrape(on.baseUrl, 'logbook_metrics_plugin_events{event="statsd_lines"}'),
      statsd_dropped: await scrape(on.baseUrl, 'logbook_metrics_plugin_events{event="statsd_dropped"}'),
    }
  } finally {
    await on.stop().catch(() => undefined)
    await off.stop().catch(() => undefined)
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  }
}

/** ~1.4 kB datagrams of realistic lines: 300 series (counters, timers, gauges with tags). */
function datagrams(): string[] {
  const out: string[] = []
  for (let d = 0; d < 64; d++) {
    const lines: string[] = []
    let bytes = 0
    for (let i = 0; ; i++) {
      const n = d * 37 + i
      const k = n % 3
      const line =
        k === 0
          ? `shop.requests.count:1|c|#route:r${n % 100},status:${200 + (n % 3)}`
          : k === 1
            ? `shop.requests.time:${(n * 7) % 300}.${n % 10}|ms|@0.5|#route:r${n % 100}`
            : `shop.queue.depth:${n % 1000}|g|#host:h${n % 100}`
      if (bytes + line.length + 1 > 1400) break
      lines.push(line)
      bytes += line.length + 1
    }
    out.push(lines.join("\n"))
  }
  return out
}

/** Offered rates (lines/s): the sender is paced, so it does not starve the receiver of the 2nd core. */
const OFFERED = [250_000, 500_000]

async function receiverThroughput(ctx: ScenarioContext): Promise<Record<string, number>> {
  const batch = datagrams()
  const perDatagram = batch.reduce((n, d) => n + d.split("\n").length, 0) / batch.length
  const sender = await Bun.udpSocket({ connect: { hostname: "127.0.0.1", port: receiverPort } })
  const received = () => scrape(ctx.baseUrl, 'logbook_metrics_plugin_events{event="received_lines"}')
  /** Sends at `rate` lines/s for `seconds`; returns the lines handed to the kernel. */
  const send = async (rate: number, seconds: number) => {
    let sent = 0
    let next = 0
    const t0 = performance.now()
    for (;;) {
      const elapsed = (performance.now() - t0) / 1000
      if (elapsed >= seconds) break
      const due = Math.floor((rate * elapsed) / perDatagram)
      while (sent < due) {
        const n = Math.min(due - sent, 256)
        const chunk: string[] = []
        for (let i = 0; i < n; i++) chunk.push(batch[next++ % batch.length])
        sender.sendMany(chunk)
        sent += n // offered; what the kernel or the receiver drops shows up as loss
      }
      await Bun.sleep(1)
    }
    return sent * perDatagram
  }
  try {
    await send(100_000, 2) // warm-up: every series exists, the JIT is hot
    await Bun.sleep(500)
    const rssMib = async () =>
      Number(((await scrape(ctx.baseUrl, "process_resident_memory_bytes")) / 2 ** 20).toFixed(1))
    const out: Record<string, number> = { rss_before_mib: await rssMib() }
    for (const rate of OFFERED) {
      const before = await received()
      const cpuBefore = await scrape(ctx.baseUrl, "process_cpu_seconds_total")
      const t0 = performance.now()
      const sent = await send(rate, Math.max(3, ctx.durationSeconds / OFFERED.length))
      await Bun.sleep(300) // what is still in the socket buffer gets processed
      const got = (await received()) - before
      const seconds = (performance.now() - t0 - 300) / 1000
      const k = `${rate / 1000}k`
      out[`offered_${k}_lines_per_s`] = Math.round(got / seconds)
      out[`offered_${k}_loss_pct`] = Number((100 * (1 - got / Math.max(1, sent))).toFixed(2))
      // the server's own CPU per received line: what the receiver costs, whatever else runs on the box
      const cpu = (await scrape(ctx.baseUrl, "process_cpu_seconds_total")) - cpuBefore
      out[`offered_${k}_lines_per_cpu_s`] = Math.round(got / Math.max(cpu, 1e-6))
      out[`rss_after_${k}_mib`] = await rssMib()
    }
    return out
  } finally {
    sender.close()
  }
}

export const scenarios: BenchScenario[] = [
  {
    name: "POST /api/events statsd on vs off",
    run: statsdOnVsOff,
    target: { text: "on_over_off ≥ 0.95 (on_over_off_by_cpu: same, noise-free)" },
  },
  {
    name: "statsd receiver lines/s",
    env: { LOGBOOK_STATSD_LISTEN: `127.0.0.1:${receiverPort}` },
    run: receiverThroughput,
    target: { text: "≥ 200000 lines/s (offered 250k: loss ≈ 0), RSS flat" },
  },
]
