/**
 * Spawning the real `logbook` command (src/main.ts) for tests that need a process: exit codes, stderr,
 * signals. Each server gets its own data dir; on PostgreSQL runs it gets its own schema.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { testDatabase } from "./support"

export const MAIN = resolve(import.meta.dir, "../src/main.ts")

export interface Run {
  code: number
  stdout: string
  stderr: string
}

/** Runs `bun src/main.ts ...args` to completion. */
export async function runLogbook(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 20_000,
  cwd?: string,
): Promise<Run> {
  const proc = Bun.spawn(["bun", MAIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdout: "pipe",
    stderr: "pipe",
    timeout: timeoutMs,
  })
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  return { code, stdout, stderr }
}

/** A temp data dir plus, on PostgreSQL runs, a fresh schema: the env a spawned Logbook should use. */
export async function spawnEnv(): Promise<{
  env: Record<string, string>
  dir: string
  cleanup(): Promise<void>
}> {
  const dir = mkdtempSync(join(tmpdir(), "logbook-core-"))
  const env: Record<string, string> = {
    LOGBOOK_DATA_DIR: join(dir, "data"),
    LOGBOOK_PLUGINS_DIR: join(dir, "plugins.d"),
  }
  let drop = async () => {}
  if (process.env.LOGBOOK_TEST_DATABASE_URL) {
    const t = await testDatabase()
    await t.db.close()
    env.LOGBOOK_DATABASE_URL = t.url
    drop = t.drop
  }
  return {
    env,
    dir,
    async cleanup() {
      await drop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export interface Server {
  url: string
  proc: ReturnType<typeof Bun.spawn>
  /** Every stdout line so far (JSON log lines). */
  lines: string[]
  stderr(): string
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>
}

/** Starts `logbook serve` on a free port (no shutdown drain unless `env` sets one) and resolves once it listens. */
export async function spawnServer(env: Record<string, string>, timeoutMs = 20_000): Promise<Server> {
  const proc = Bun.spawn(["bun", MAIN, "serve"], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      LOGBOOK_PORT: "0",
      // no drain period unless a test asks for one (SIGTERM would otherwise keep serving for 5 s)
      LOGBOOK_SHUTDOWN_DRAIN_SECONDS: "0",
      ...env,
    },
    stdout: "pipe",
    stderr: "pipe",
  })
  const lines: string[] = []
  let err = ""
  void (async () => {
    const reader = (proc.stderr as ReadableStream<Uint8Array>).getReader()
    for (let r = await reader.read(); !r.done; r = await reader.read())
      err += new TextDecoder().decode(r.value)
  })()
  let resolveUrl: (url: string) => void = () => {}
  const listening = new Promise<string>((r) => {
    resolveUrl = r
  })
  void (async () => {
    let buf = ""
    const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader()
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      buf += new TextDecoder().decode(r.value)
      let i = buf.indexOf("\n")
      while (i >= 0) {
        const line = buf.slice(0, i)
        buf = buf.slice(i + 1)
        lines.push(line)
        try {
          const j = JSON.parse(line) as { msg?: string; url?: string }
          if (j.msg === "listening" && j.url) resolveUrl(j.url.replace(/\/$/, ""))
        } catch {}
        i = buf.indexOf("\n")
      }
    }
  })()
  let up = false
  const url = await Promise.race([
    listening,
    proc.exited.then((code) => {
      throw new Error(`logbook serve exited with ${code} before listening:\n${err}\n${lines.join("\n")}`)
    }),
    Bun.sleep(timeoutMs).then(() => {
      if (up) return ""
      proc.kill()
      throw new Error(`logbook serve did not listen within ${timeoutMs} ms:\n${err}\n${lines.join("\n")}`)
    }),
  ])
  up = true
  return {
    url,
    proc,
    lines,
    stderr: () => err,
    async stop(signal = "SIGTERM") {
      proc.kill(signal)
      return proc.exited
    },
  }
}
