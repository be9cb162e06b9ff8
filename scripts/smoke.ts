/**
 * Smoke test of a built binary (used by .ci/run): copy it into an empty directory, start it on a free
 * port with a fresh data dir, GET / and /openapi/json, stop it with SIGTERM. Prints one line per check
 * and ends with `smoke: N passed, N failed`; exits 1 when a check failed.
 *
 *   bun scripts/smoke.ts [dist/logbook]
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { type Running, startLogbook } from "../test/bench/process"

const binary = resolve(process.argv[2] ?? "dist/logbook")
const dir = mkdtempSync(join(tmpdir(), "logbook-smoke-"))
let passed = 0
let failed = 0

async function check(name: string, fn: () => Promise<string | undefined>) {
  try {
    const note = await fn()
    passed++
    console.log(`ok    ${name}${note ? ` (${note})` : ""}`)
  } catch (e) {
    failed++
    console.log(`FAIL  ${name}: ${(e as Error).message}`)
  }
}

async function get200(server: Running, path: string) {
  const r = await fetch(`${server.baseUrl}${path}`, { signal: AbortSignal.timeout(10_000) })
  await r.arrayBuffer()
  if (r.status !== 200) throw new Error(`GET ${path} answered ${r.status}`)
  return `${r.status}`
}

let server: Running | undefined
try {
  copyFileSync(binary, join(dir, "logbook"))
  await check("starts from an empty directory and GET / is 200", async () => {
    server = await startLogbook({
      cmd: [join(dir, "logbook"), "serve"],
      cwd: dir,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LOGBOOK_DATA_DIR: join(dir, "data") },
      timeoutMs: 30_000,
    })
    return `${Math.round(server.startupMs)} ms to first 200`
  })
  if (server) {
    const s = server
    await check("GET /openapi/json is 200", () => get200(s, "/openapi/json"))
    await check("SIGTERM exits 0", async () => {
      const code = await s.stop()
      if (code !== 0) throw new Error(`exit code ${code}\n${s.output()}`)
      return undefined
    })
  } else {
    failed += 2
    console.log("FAIL  GET /openapi/json is 200: not started")
    console.log("FAIL  SIGTERM exits 0: not started")
  }
} catch (e) {
  failed++
  console.log(`FAIL  smoke: ${(e as Error).message}`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
console.log(`smoke: ${passed} passed, ${failed} failed`)
process.exit(failed ? 1 : 0)
