/**
 * Starting Logbook (from source or the compiled binary) as a child process for the binary test and the
 * benchmark: pick a free port, spawn, wait for the first 200 on a path, collect the output, stop with
 * SIGTERM and return the exit code. Every wait has a deadline.
 */
import type { Subprocess } from "bun"

/** A port that was free a moment ago (the kernel picks it; we release it at once). */
export function freePort(): number {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() })
  const port = s.port as number
  s.stop(true)
  return port
}

/** Polls `probe` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
  intervalMs = 10,
): Promise<T> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const v = await probe()
    if (v !== undefined) return v
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await Bun.sleep(intervalMs)
  }
}

export interface Running {
  proc: Subprocess<"ignore", "pipe", "pipe">
  pid: number
  baseUrl: string
  /** Milliseconds from spawn to the first 200 on the ready path. */
  startupMs: number
  /** Everything written to stdout and stderr so far. */
  output(): string
  /** SIGTERM, then the exit code (SIGKILL and an error after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<number>
}

export interface StartOptions {
  cmd: string[]
  cwd: string
  env: Record<string, string>
  port?: number
  readyPath?: string
  timeoutMs?: number
}

function collect(stream: ReadableStream<Uint8Array>, into: string[]) {
  const decoder = new TextDecoder()
  const reader = stream.getReader()
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      into.push(decoder.decode(value, { stream: true }))
    }
  })()
}

/** Spawns Logbook with LOGBOOK_PORT and waits until `readyPath` (default `/`) answers 200. */
export async function startLogbook(opts: StartOptions): Promise<Running> {
  const port = opts.port ?? freePort()
  const baseUrl = `http://127.0.0.1:${port}`
  const chunks: string[] = []
  const t0 = performance.now()
  const proc = Bun.spawn(opts.cmd, {
    cwd: opts.cwd,
    env: { ...opts.env, LOGBOOK_HOST: "127.0.0.1", LOGBOOK_PORT: String(port) },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  })
  collect(proc.stdout, chunks)
  collect(proc.stderr, chunks)
  const output = () => chunks.join("")
  const stop = async (timeoutMs = 10_000) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode ?? 128
    proc.kill("SIGTERM")
    const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs)
    const code = await proc.exited
    clearTimeout(timer)
    if (proc.signalCode === "SIGKILL") throw new Error(`Logbook did not stop within ${timeoutMs} ms`)
    return code
  }
  try {
    await waitFor(
      `Logbook on ${baseUrl}${opts.readyPath ?? "/"}`,
      async () => {
        if (proc.exitCode !== null) throw new Error(`Logbook exited with ${proc.exitCode}`)
        try {
          const r = await fetch(`${baseUrl}${opts.readyPath ?? "/"}`)
          await r.arrayBuffer()
          return r.status === 200 ? true : undefined
        } catch {
          return undefined
        }
      },
      opts.timeoutMs ?? 15_000,
      5,
    )
  } catch (e) {
    proc.kill("SIGKILL")
    await proc.exited
    throw new Error(`${(e as Error).message}\n--- output ---\n${output()}`)
  }
  return { proc, pid: proc.pid, baseUrl, startupMs: performance.now() - t0, output, stop }
}

/** Resident memory of a process in KiB (VmRSS of /proc/<pid>/status). */
export async function rssKiB(pid: number): Promise<number> {
  const status = await Bun.file(`/proc/${pid}/status`).text()
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)
  if (!m) throw new Error(`no VmRSS for pid ${pid}`)
  return Number(m[1])
}
