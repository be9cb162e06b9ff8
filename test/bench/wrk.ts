/**
 * Running Debian's wrk and reading its `--latency` report. Requests other than a plain keep-alive GET are
 * described by a generated Lua script (method, headers, bodies rotated request by request,
 * `Connection: close`). Every run is bounded by its duration and a hard kill after it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { WrkRequest } from "./scenario"

export interface WrkResult {
  requestsPerSec: number
  p50Ms: number
  p75Ms: number
  p90Ms: number
  p99Ms: number
  requests: number
  seconds: number
  /** Responses that were not 2xx/3xx. */
  non2xx: number
  /** Socket errors by kind. With `Connection: close`, `read` counts every request (the server hangs up). */
  socketErrors: { connect: number; read: number; write: number; timeout: number }
}

export const WRK = process.env.LOGBOOK_WRK ?? "wrk"
/** In a request body: the current Unix time in seconds, filled in request by request. */
const NOW = "{{now}}"

export function wrkAvailable(): boolean {
  return Bun.which(WRK) !== null
}

/** A Lua string literal for any bytes (printable ASCII kept, everything else as \ddd). */
export function luaString(s: string): string {
  let out = '"'
  for (const b of new TextEncoder().encode(s)) {
    if (b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c) out += String.fromCharCode(b)
    else out += `\\${b.toString().padStart(3, "0")}`
  }
  return `${out}"`
}

/** The Lua script for a request, or undefined when a plain GET with no extras needs none. */
export function wrkScript(req: WrkRequest, keepAlive = true): string | undefined {
  const headers: Record<string, string> = { ...req.headers }
  if (!keepAlive) headers.Connection = "close"
  const bodies = req.body === undefined ? [] : Array.isArray(req.body) ? req.body : [req.body]
  if (req.method === "GET" && bodies.length === 0 && Object.keys(headers).length === 0) return undefined
  const lines = [`wrk.method = ${luaString(req.method)}`]
  for (const [k, v] of Object.entries(headers)) lines.push(`wrk.headers[${luaString(k)}] = ${luaString(v)}`)
  const stamped = bodies.some((b) => b.includes(NOW))
  if (bodies.length === 1 && !stamped) lines.push(`wrk.body = ${luaString(bodies[0] as string)}`)
  else if (bodies.length) {
    // rotate the bodies; each thread starts at a different offset
    lines.push(`local bodies = { ${bodies.map(luaString).join(", ")} }`)
    lines.push("local i = math.random(#bodies)")
    lines.push("request = function()")
    lines.push("  i = i % #bodies + 1")
    lines.push(
      stamped
        ? `  return wrk.format(nil, nil, nil, (string.gsub(bodies[i], "{{now}}", tostring(os.time()))))`
        : "  return wrk.format(nil, nil, nil, bodies[i])",
    )
    lines.push("end")
  }
  return `${lines.join("\n")}\n`
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

function durationMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim())
  if (!m) throw new Error(`unreadable wrk duration ${JSON.stringify(text)}`)
  return Number(m[1]) * (UNIT_MS[m[2] as string] as number)
}

/** Reads the numbers out of `wrk --latency` output. */
export function parseWrk(out: string): WrkResult {
  const pct = (p: string) => {
    const m = new RegExp(`^\\s*${p}%\\s+(\\S+)`, "m").exec(out)
    if (!m) throw new Error(`no ${p}% latency in wrk output:\n${out}`)
    return durationMs(m[1] as string)
  }
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(out)
  const total = /^\s*(\d+) requests in ([\d.]+\w+),/m.exec(out)
  if (!rps || !total) throw new Error(`unreadable wrk output:\n${out}`)
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)
  return {
    requestsPerSec: Number(rps[1]),
    p50Ms: pct("50"),
    p75Ms: pct("75"),
    p90Ms: pct("90"),
    p99Ms: pct("99"),
    requests: Number(total[1]),
    seconds: durationMs(total[2] as string) / 1000,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: {
      connect: Number(sock?.[1] ?? 0),
      read: Number(sock?.[2] ?? 0),
      write: Number(sock?.[3] ?? 0),
      timeout: Number(sock?.[4] ?? 0),
    },
  }
}

export interface WrkOptions {
  url: string
  request?: WrkRequest
  keepAlive?: boolean
  connections: number
  threads?: number
  durationSeconds: number
}

export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  const url = new URL(o.url)
  if (url.hostname !== "127.0.0.1") throw new Error(`wrk only loads 127.0.0.1, not ${url.hostname}`)
  const threads = Math.min(o.threads ?? 2, o.connections)
  const args = [
    WRK,
    `-t${threads}`,
    `-c${o.connections}`,
    `-d${o.durationSeconds}s`,
    "--timeout",
    "5s",
    "--latency",
  ]
  const script = o.request
    ? wrkScript(o.request, o.keepAlive ?? true)
    : o.keepAlive === false
      ? wrkScript({ method: "GET", path: url.pathname }, false)
      : undefined
  const dir = script ? mkdtempSync(join(tmpdir(), "logbook-wrk-")) : undefined
  try {
    if (dir && script) {
      writeFileSync(join(dir, "request.lua"), script)
      args.push("-s", join(dir, "request.lua"))
    }
    args.push(o.url)
    const proc = Bun.spawn(args, {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      timeout: (o.durationSeconds + 20) * 1000,
      killSignal: "SIGKILL",
    })
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ])
    if (code !== 0)
      throw new Error(`wrk exited ${code}${proc.signalCode ? ` (${proc.signalCode})` : ""}: ${err}${out}`)
    return parseWrk(out)
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true })
  }
}
