// Metrics scenarios (issue 6).
// 1. The changes POST benchmark (`POST /api/events`, changelog body, keep-alive) with the statsd push on
//    vs off: two Logbook instances started here from source, loaded side by side (one wrk each) in rounds
//    so machine noise hits both alike; per round the on/off ratio of throughput and of CPU µs per request
//    (/proc/<pid>/stat), reported as median and min–max over the rounds (target ≥ 0.95). The push goes to
//    a UDP sink opened here that counts what arrives (so the emission is real, not refused).
//    LOGBOOK_BENCH_AA=1 starts both without the push: the calibration (ratios should sit at 1.0).
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

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux unless built otherwise). */
const CLOCK_TICKS = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100

/** CPU time (user + system, every thread, exited ones included) of a process in µs, from /proc/<pid>/stat. */
async function cpuMicros(pid: number): Promise<number> {
  const stat = await Bun.file(`/proc/${pid}/stat`).text()
  // the fields after the command name (which may hold spaces) start after ") "; utime, stime are 14 and 15
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}
const r3 = (x: number) => Number(x.toFixed(3))

/** Seconds of one round (both instances loaded at once). */
const SEGMENT_SECONDS = 3

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
  // LOGBOOK_BENCH_AA=1 calibrates the measurement: "on" is started without the push too, so the ratios
  // show the method's own bias and spread (they should sit at 1.0)
  const calibrating = process.env.LOGBOOK_BENCH_AA === "1"
  const on = await start(calibrating ? {} : { LOGBOOK_STATSD_ADDRESS: `127.0.0.1:${sinkSocket.port}` })
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
    // Rounds in which both instances are loaded at the same time, each by its own wrk: whatever else the
    // shared machine does at that moment hits both alike (measured one after the other, identical
    // instances differed by up to ±25 % per pair of segments here; side by side by ±10 %). Each round
    // gives its own on/off ratios; the median over the rounds is the figure, min–max its spread. Two
    // ratios per round: throughput, and CPU time per request read from /proc/<pid>/stat (the servers'
    // own work, all threads; the ratio a CPU-bound server would show in throughput).
    const rounds = Math.min(
      Math.floor((ctx.durationSeconds * 4 + 30) / (SEGMENT_SECONDS + 1)),
      Math.max(4, ctx.durationSeconds),
    )
    const byRps: number[] = []
    const byCpu: number[] = []
    const cpuUs = { on: [] as number[], off: [] as number[] }
    const rps = { on: [] as number[], off: [] as number[] }
    const datagramsBefore = sink.datagrams
    for (let round = 0; round < rounds; round++) {
      const cpu0 = { on: await cpuMicros(on.pid), off: await cpuMicros(off.pid) }
      // which wrk is spawned first alternates
      const [first, second] = round % 2 === 0 ? ([on, off] as const) : ([off, on] as const)
      const [a, b] = await Promise.all([measure(first, SEGMENT_SECONDS), measure(second, SEGMENT_SECONDS)])
      const result = first === on ? { on: a, off: b } : { on: b, off: a }
      for (const k of ["on", "off"] as const) {
        const r = result[k]
        if (r.non2xx > 0) throw new Error(`${k}: ${r.non2xx} non-2xx answers`)
        const cpu = (await cpuMicros((k === "on" ? on : off).pid)) - cpu0[k]
        rps[k].push(r.requests / r.seconds)
        cpuUs[k].push(cpu / r.requests)
      }
      byRps.push((rps.on.at(-1) as number) / (rps.off.at(-1) as number))
      byCpu.push((cpuUs.off.at(-1) as number) / (cpuUs.on.at(-1) as number))
    }
    return {
      rounds,
      on_over_off: r3(median(byRps)),
      on_over_off_min: r3(Math.min(...byRps)),
      on_over_off_max: r3(Math.max(...byRps)),
      /** The throughput ratio a CPU-bound server would show: off's CPU per request / on's. */
      on_over_off_by_cpu: r3(median(byCpu)),
      on_over_off_by_cpu_min: r3(Math.min(...byCpu)),
      on_over_off_by_cpu_max: r3(Math.max(...byCpu)),
      off_req_per_s: Math.round(median(rps.off)),
      on_req_per_s: Math.round(median(rps.on)),
      off_cpu_us_per_req: Number(median(cpuUs.off).toFixed(1)),
      on_cpu_us_per_req: Number(median(cpuUs.on).toFixed(1)),
      statsd_datagrams_received: sink.datagrams - datagramsBefore,
      ...(calibrating
        ? { calibration_both_off: 1 }
        : {
            statsd_lines_sent: await scrape(
              on.baseUrl,
              'logbook_metrics_plugin_events{event="statsd_lines"}',
            ),
            statsd_dropped: await scrape(on.baseUrl, 'logbook_metrics_plugin_events{event="statsd_dropped"}'),
          }),
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
    target: { text: "median on_over_off ≥ 0.95 (by_cpu: from CPU µs per request)" },
  },
  {
    name: "statsd receiver lines/s",
    env: { LOGBOOK_STATSD_LISTEN: `127.0.0.1:${receiverPort}` },
    run: receiverThroughput,
    target: { text: "≥ 200000 lines/s (offered 250k: loss ≈ 0), RSS flat" },
  },
]
