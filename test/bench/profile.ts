/**
 * Where the server's main thread spends its time under load: starts Logbook in this process (from source,
 * on a fresh temp data dir unless LOGBOOK_DATA_DIR / LOGBOOK_DATABASE_URL are set), drives it with wrk
 * and samples the JavaScript stack with JavaScriptCore's profiler (`bun:jsc` profile) meanwhile.
 * Prints the functions by self time and by inclusive time (per source line) and writes them to --out.
 * (`bun --cpu-prof` stops sampling shortly after Logbook's start-up, hence this.)
 *
 *   bun test/bench/profile.ts --path /api/events --method POST --body '{"criticality":1,...}' \
 *     [--header 'content-type: application/json'] [--lua script.lua] [--seconds 8] [--interval-us 200]
 *
 * The profiler slows the server down (throughput under it is not a benchmark figure); use the shares.
 * Samples whose innermost frame is native code without a source (the HTTP server, idle) show as "(native)".
 */
import { profile } from "bun:jsc"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import type { WrkRequest } from "./scenario"
import { runWrk } from "./wrk"

const { values: opts } = parseArgs({
  args: process.argv.slice(2),
  options: {
    path: { type: "string", default: "/" },
    method: { type: "string", default: "GET" },
    body: { type: "string" },
    header: { type: "string", multiple: true, default: [] },
    seconds: { type: "string", default: "8" },
    "interval-us": { type: "string", default: "200" },
    connections: { type: "string", default: "64" },
    out: { type: "string", default: ".bench/profile.txt" },
  },
})

const dir = mkdtempSync(join(tmpdir(), "logbook-profile-"))
process.env.LOGBOOK_DATA_DIR ??= join(dir, "data")
process.env.LOGBOOK_PLUGINS_DIR ??= join(dir, "plugins.d")
process.env.LOGBOOK_LOG_LEVEL ??= "warning"
process.env.LOGBOOK_PORT ??= String(20_000 + Math.floor(Math.random() * 20_000))
const { serve } = await import("../../src/server")
await serve()

const headers: Record<string, string> = {}
for (const h of opts.header) {
  const i = h.indexOf(":")
  headers[h.slice(0, i).trim()] = h.slice(i + 1).trim()
}
const request: WrkRequest = {
  method: opts.method as WrkRequest["method"],
  path: opts.path,
  headers,
  body: opts.body,
}
const seconds = Number(opts.seconds)
const url = `http://127.0.0.1:${process.env.LOGBOOK_PORT}${opts.path}`
// one second of load first (JIT warm-up), then the sampled part
const load = runWrk({ url, request, connections: Number(opts.connections), durationSeconds: seconds + 2 })
await Bun.sleep(1000)
const sampled = await profile(() => Bun.sleep(seconds * 1000), Number(opts["interval-us"]))
const wrk = await load

type Frame = (typeof sampled.stackTraces.traces)[number]["frames"][number]
const UNKNOWN = 4294967295
const where = (f: Frame) =>
  f.sourceURL
    ? `${f.name || "(anonymous)"} ${f.sourceURL.replace(`${process.cwd()}/`, "")}${f.line === UNKNOWN ? "" : `:${f.line}`}`
    : f.name
      ? `${f.name} (native)`
      : "(native)"
const self = new Map<string, number>()
const inclusive = new Map<string, number>()
const traces = sampled.stackTraces.traces
for (const t of traces) {
  const top = t.frames[0] ? where(t.frames[0]) : "(native)"
  self.set(top, (self.get(top) ?? 0) + 1)
  for (const k of new Set(t.frames.map(where))) inclusive.set(k, (inclusive.get(k) ?? 0) + 1)
}
const table = (m: Map<string, number>, n: number) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, c]) => `${((100 * c) / traces.length).toFixed(1).padStart(6)}%  ${k}`)
    .join("\n")
const report = [
  `${opts.method} ${opts.path}: ${traces.length} samples over ${seconds} s; ${Math.round(wrk.requestsPerSec)} req/s under the profiler`,
  "",
  "== self time",
  table(self, 40),
  "",
  "== inclusive time",
  table(inclusive, 80),
  "",
].join("\n")
console.log(report)
writeFileSync(opts.out, report)
rmSync(dir, { recursive: true, force: true })
process.exit(0)
