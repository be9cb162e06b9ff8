/**
 * `bun run bench`: measures Logbook with wrk on 127.0.0.1 against plain Bun.serve hello-world (the
 * baseline), measured in the same run. Every module in test/bench/scenarios/*.ts exports
 * `scenarios: BenchScenario[]`; each module (split further by scenario `env`) is a group that gets its own
 * freshly started Logbook with a temp data dir: `seed()` before start, `prepare()` after, then the wrk
 * request or the custom `run()`. The machine is shared and noisy, so every wrk measurement is bracketed by
 * baseline measurements (B S B S B …: the baseline after one scenario is the one before the next) and its
 * ratio is taken against the mean of the two around it. `--rounds N` measures each wrk scenario N times,
 * alternating with the baseline, and reports the median ratio with its range.
 * Also reported: the binary's start-up time (spawn → first 200 on `/`, median of 5), its idle RSS and size.
 * Prints a table and writes `.bench/results-<timestamp>.json` and `.bench/latest.json`.
 *
 *   bun run bench [--only <substring>] [--duration <s>] [--quick] [--connections <n>] [--rounds <n>]
 *                 [--binary] [--build] [--no-startup] [--postgres postgres://postgres@127.0.0.1:5432/test]
 *
 * `--postgres <url>` runs every group on its own fresh schema of that PostgreSQL (LOGBOOK_DATABASE_URL).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs"
import { cpus, tmpdir } from "node:os"
import { basename, join, resolve } from "node:path"
import { parseArgs } from "node:util"
import { openPostgres } from "../../src/db/database"
import { type Running, rssKiB, startLogbook } from "./process"
import type { BenchScenario, ScenarioContext } from "./scenario"
import { runWrk, type WrkResult, wrkAvailable } from "./wrk"

const ROOT = resolve(import.meta.dir, "../..")
const BINARY = resolve(ROOT, "dist/logbook")

const { values: opts } = parseArgs({
  args: process.argv.slice(2),
  options: {
    only: { type: "string" },
    duration: { type: "string", default: "10" },
    quick: { type: "boolean", default: false },
    connections: { type: "string", default: "64" },
    rounds: { type: "string", default: "1" },
    binary: { type: "boolean", default: false },
    build: { type: "boolean", default: false },
    "no-startup": { type: "boolean", default: false },
    postgres: { type: "string" },
  },
})
const duration = opts.quick ? 3 : Number(opts.duration)
const connections = Number(opts.connections)
const rounds = Number(opts.rounds)
if (!(Number.isInteger(rounds) && rounds >= 1 && rounds <= 20)) throw new Error("--rounds must be 1..20")
if (!(duration > 0 && duration <= 600)) throw new Error("--duration must be 1..600 seconds")
if (!(connections > 0 && connections <= 1024)) throw new Error("--connections must be 1..1024")
if (!wrkAvailable()) {
  console.error("bench: wrk is not installed (Debian: apt-get install wrk)")
  process.exit(2)
}

interface Measurement extends WrkResult {
  /** Midpoint of the measurement, ms since the run started. */
  at: number
  /** false: measured with `Connection: close`. */
  keepAlive: boolean
  connections: number
}

/** One wrk measurement of a scenario and the baselines measured just before and after it. */
interface Round extends WrkResult {
  at: number
  baselineBeforeRps?: number
  baselineAfterRps?: number
  ratio?: number
}

interface ScenarioResult {
  group: string
  name: string
  at: number
  /** The round with the median ratio (the one reported). */
  wrk?: WrkResult
  rounds?: Round[]
  custom?: Record<string, number>
  /** Mean of the baselines around the reported round. */
  baselineRps?: number
  /** Median over the rounds; with its range when there are several. */
  ratio?: number
  ratioMin?: number
  ratioMax?: number
  target?: BenchScenario["target"]
  meetsTarget?: boolean
  keepAlive: boolean
  connections: number
  rssKiB?: number
  error?: string
}

const t0 = performance.now()
const since = () => performance.now() - t0
const baseEnv = (): Record<string, string> => ({
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  // no load balancer to drain for: stop at once on SIGTERM
  LOGBOOK_SHUTDOWN_DRAIN_SECONDS: "0",
  HOME: process.env.HOME ?? tmpdir(),
})

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

async function withTimeout<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}

// --- baseline -----------------------------------------------------------------------------------------------
const baselines: Measurement[] = []
let baselineServer: Running | undefined

/** A baseline is compared only with scenarios measured the same way (connections, keep-alive). */
interface Mode {
  keepAlive: boolean
  connections: number
}
const sameMode = (a: Mode, b: Mode) => a.keepAlive === b.keepAlive && a.connections === b.connections

async function measureBaseline(mode: Mode): Promise<Measurement> {
  baselineServer ??= await startLogbook({
    cmd: [process.execPath, join(import.meta.dir, "baseline.ts")],
    cwd: ROOT,
    env: baseEnv(),
  })
  const start = since()
  const r = await runWrk({ url: `${baselineServer.baseUrl}/`, durationSeconds: duration, ...mode })
  const m = { ...r, at: (start + since()) / 2, ...mode }
  baselines.push(m)
  lastMeasured = { baseline: mode }
  console.log(
    `${baselineName(m)}: ${fmtRps(m.requestsPerSec)} req/s, p50 ${fmtMs(m.p50Ms)}, p99 ${fmtMs(m.p99Ms)}`,
  )
  return m
}

const baselineName = (m: Mode) =>
  `baseline hello-world${m.connections === connections ? "" : ` c${m.connections}`}${m.keepAlive ? "" : " close"}`

/** The last thing measured in this run: a baseline of some mode, or a scenario. */
let lastMeasured: { baseline?: Mode } = {}

/** A baseline of this mode right before the next scenario measurement (unless one was just taken). */
async function baselineBefore(mode: Mode) {
  if (!lastMeasured.baseline || !sameMode(lastMeasured.baseline, mode)) await measureBaseline(mode)
}

/** The baselines of a mode measured just before and just after a moment. */
function baselinesAround(at: number, mode: Mode): { before?: Measurement; after?: Measurement } {
  const same = baselines.filter((b) => sameMode(b, mode))
  return { before: same.filter((b) => b.at < at).at(-1), after: same.find((b) => b.at > at) }
}

// --- scenarios ----------------------------------------------------------------------------------------------
interface Group {
  name: string
  env: Record<string, string>
  scenarios: BenchScenario[]
}

const loadErrors: Array<{ file: string; error: string }> = []

async function loadGroups(): Promise<Group[]> {
  const dir = join(import.meta.dir, "scenarios")
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
    .sort()
  const groups: Group[] = []
  for (const f of files) {
    let mod: { scenarios?: BenchScenario[] }
    try {
      mod = await import(join(dir, f))
    } catch (e) {
      // one broken scenario file (a plugin mid-change) must not stop the others
      loadErrors.push({ file: f, error: (e as Error).message })
      console.error(`bench: scenarios/${f} did not load: ${(e as Error).message}`)
      continue
    }
    const list = (mod.scenarios ?? []).filter(
      (s) => !opts.only || `${basename(f, ".ts")}/${s.name}`.includes(opts.only),
    )
    // scenarios of one module share a Logbook unless they ask for different environments
    const byEnv = new Map<string, Group>()
    for (const s of list) {
      const key = JSON.stringify(Object.entries(s.env ?? {}).sort())
      let g = byEnv.get(key)
      if (!g) {
        g = { name: basename(f, ".ts"), env: s.env ?? {}, scenarios: [] }
        byEnv.set(key, g)
        groups.push(g)
      }
      g.scenarios.push(s)
    }
  }
  return groups
}

function logbookCommand(): string[] {
  return opts.binary ? [BINARY, "serve"] : [process.execPath, join(ROOT, "src/main.ts"), "serve"]
}

let schemaSeq = 0

/** With `--postgres <url>`: a fresh schema for one group, and how to drop it. */
async function postgresSchema(url: string): Promise<{ url: string; drop(): Promise<void> }> {
  const schema = `bench_${process.pid}_${Date.now().toString(36)}_${schemaSeq++}`
  const admin = openPostgres(url, { max: 1 })
  await admin.exec(`CREATE SCHEMA ${schema}`)
  await admin.close()
  return {
    url: `${url}${url.includes("?") ? "&" : "?"}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    async drop() {
      const a = openPostgres(url, { max: 1 })
      await a.exec(`DROP SCHEMA ${schema} CASCADE`)
      await a.close()
    },
  }
}

async function runGroup(group: Group): Promise<ScenarioResult[]> {
  const dataDir = mkdtempSync(join(tmpdir(), `logbook-bench-${group.name}-`))
  const pg = opts.postgres ? await postgresSchema(opts.postgres) : undefined
  const env: Record<string, string> = {
    ...baseEnv(),
    LOGBOOK_DATA_DIR: join(dataDir, "data"),
    LOGBOOK_PLUGINS_DIR: join(dataDir, "plugins.d"),
    ...(pg ? { LOGBOOK_DATABASE_URL: pg.url } : {}),
    ...group.env,
  }
  const results: ScenarioResult[] = []
  let server: Running | undefined
  try {
    for (const s of group.scenarios)
      if (s.seed)
        await withTimeout(`${s.name} seed`, 600_000, s.seed({ env, dataDir: env.LOGBOOK_DATA_DIR as string }))
    // from source the working directory is the repository (bunfig preload); the binary runs from its temp dir
    server = await startLogbook({
      cmd: logbookCommand(),
      cwd: opts.binary ? dataDir : ROOT,
      env,
      timeoutMs: 60_000,
    })
    for (const s of group.scenarios) {
      const ctx: ScenarioContext = {
        baseUrl: server.baseUrl,
        env: { ...env, LOGBOOK_PORT: new URL(server.baseUrl).port },
        dataDir: env.LOGBOOK_DATA_DIR as string,
        durationSeconds: s.durationSeconds ?? duration,
        connections: s.connections ?? connections,
      }
      const result: ScenarioResult = {
        group: group.name,
        name: s.name,
        at: since(),
        target: s.target,
        keepAlive: s.keepAlive !== false,
        connections: ctx.connections,
      }
      try {
        if (s.prepare) await withTimeout(`${s.name} prepare`, 600_000, s.prepare(ctx))
        const start = since()
        if (s.run) {
          result.custom = await withTimeout(
            `${s.name} run`,
            (ctx.durationSeconds * 4 + 60) * 1000,
            s.run(ctx),
          )
        } else if (s.request) {
          const mode = { keepAlive: s.keepAlive !== false, connections: ctx.connections }
          result.rounds = []
          for (let i = 0; i < rounds; i++) {
            await baselineBefore(mode)
            const roundStart = since()
            const w = await runWrk({
              url: `${server.baseUrl}${s.request.path}`,
              request: s.request,
              keepAlive: s.keepAlive,
              connections: ctx.connections,
              durationSeconds: ctx.durationSeconds,
            })
            lastMeasured = {}
            result.rounds.push({ ...w, at: (roundStart + since()) / 2 })
          }
          result.wrk = result.rounds.at(-1)
        } else throw new Error("scenario has neither request nor run()")
        result.at = (start + since()) / 2
        result.rssKiB = await rssKiB(server.pid).catch(() => undefined)
      } catch (e) {
        result.error = (e as Error).message
      }
      results.push(result)
      printRow(result)
    }
  } catch (e) {
    for (const s of group.scenarios)
      if (!results.some((r) => r.name === s.name)) {
        const r: ScenarioResult = {
          group: group.name,
          name: s.name,
          at: since(),
          keepAlive: s.keepAlive !== false,
          connections: s.connections ?? connections,
          error: (e as Error).message,
        }
        results.push(r)
        printRow(r)
      }
  } finally {
    const code = await server?.stop().catch((e: Error) => e.message)
    if (code !== undefined && code !== 0) console.warn(`  (${group.name}: Logbook exited ${code} on SIGTERM)`)
    rmSync(dataDir, { recursive: true, force: true })
    await pg?.drop().catch((e: Error) => console.warn(`  (could not drop the bench schema: ${e.message})`))
  }
  return results
}

// --- start-up, memory, size ---------------------------------------------------------------------------------
interface Startup {
  command: string
  runsMs: number[]
  medianMs: number
  idleRssKiB: number
  sizeBytes?: number
}

async function measureStartup(cmd: string[], label: string, fromSource: boolean): Promise<Startup> {
  const runs: number[] = []
  let idle = 0
  for (let i = 0; i < 5; i++) {
    const dir = mkdtempSync(join(tmpdir(), "logbook-startup-"))
    try {
      const s = await startLogbook({
        cmd,
        cwd: fromSource ? ROOT : dir,
        env: {
          ...baseEnv(),
          LOGBOOK_DATA_DIR: join(dir, "data"),
          LOGBOOK_PLUGINS_DIR: join(dir, "plugins.d"),
        },
        timeoutMs: 60_000,
      })
      runs.push(s.startupMs)
      if (i === 4) {
        await Bun.sleep(2000) // idle: after start-up work and the first request have settled
        idle = await rssKiB(s.pid)
      }
      await s.stop()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  return { command: label, runsMs: runs, medianMs: median(runs), idleRssKiB: idle }
}

// --- output -------------------------------------------------------------------------------------------------
const fmtRps = (n: number) => Math.round(n).toLocaleString("en-US")
const fmtMs = (n: number) => (n < 1 ? `${(n * 1000).toFixed(0)} µs` : `${n.toFixed(2)} ms`)
const COLS = [44, 10, 10, 10, 6, 12]

/** One table row; a name too long for its column goes on a line of its own above the numbers. */
function row(cells: string[]) {
  const [name = "", ...rest] = cells
  const line = [name.length > (COLS[0] as number) ? "" : name, ...rest]
    .map((c, i) => (i === 0 || i >= 5 ? c.padEnd(COLS[i] ?? 0) : c.padStart(COLS[i] ?? 0)))
    .join("  ")
    .trimEnd()
  return name.length > (COLS[0] as number) ? `${name}\n${line}` : line
}

function targetText(t: BenchScenario["target"]): string {
  if (!t) return ""
  return [t.ratio !== undefined ? `≥ ${t.ratio}` : "", t.text ?? ""].filter(Boolean).join(" ")
}

/** Warnings about a wrk run: error responses, and socket errors other than Connection: close hang-ups. */
function wrkNotes(r: ScenarioResult): string {
  const w = r.wrk
  if (!w) return ""
  const e = w.socketErrors
  const sock = e.connect + e.write + e.timeout + (r.keepAlive ? e.read : 0)
  return [w.non2xx ? `${w.non2xx} non-2xx!` : "", sock ? `${sock} socket errors!` : ""]
    .filter(Boolean)
    .join(", ")
}

function printRow(r: ScenarioResult) {
  const name = `${r.group}/${r.name}`
  if (r.error) return console.log(row([name, "error", "", "", "", "", r.error.split("\n")[0] ?? ""]))
  if (r.custom) {
    // custom measurements name their own numbers: the name (and target), then the numbers indented
    const target = targetText(r.target)
    console.log(`${name}${target ? `  (target: ${target})` : ""}`)
    const numbers = Object.entries(r.custom).map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(2)}`)
    for (let i = 0; i < numbers.length; i += 4) console.log(`    ${numbers.slice(i, i + 4).join("  ")}`)
    return
  }
  const w = r.wrk as WrkResult
  const notes = [wrkNotes(r), r.rssKiB ? `rss ${(r.rssKiB / 1024).toFixed(0)} MB` : ""]
  console.log(
    row([
      name,
      fmtRps(w.requestsPerSec),
      fmtMs(w.p50Ms),
      fmtMs(w.p99Ms),
      "…",
      targetText(r.target),
      notes.filter(Boolean).join(", "),
    ]),
  )
}

// --- main ---------------------------------------------------------------------------------------------------
if (opts.build || (opts.binary && !Bun.file(BINARY).size)) {
  const { build } = await import("../../scripts/build")
  await build()
}
if (opts.binary && !statSync(BINARY, { throwIfNoEntry: false }))
  throw new Error("no dist/logbook: bun run build")

const groups = await loadGroups()
console.log(
  `bench: ${groups.reduce((n, g) => n + g.scenarios.length, 0)} scenarios in ${groups.length} groups, ${duration} s each, wrk -t2 -c${connections}, Logbook from ${opts.binary ? "dist/logbook" : "source"} on ${opts.postgres ? "PostgreSQL" : "SQLite"}; ${cpus().length} CPUs, Bun ${Bun.version}`,
)
console.log(row(["scenario", "req/s", "p50", "p99", "ratio", "target", "notes"]))

const results: ScenarioResult[] = []
try {
  for (const g of groups) results.push(...(await runGroup(g)))
  // the closing bracket: a baseline after the last measurement of every mode used
  const modes = results
    .filter((r) => r.rounds?.length)
    .map((r) => ({ keepAlive: r.keepAlive, connections: r.connections }))
  for (const mode of modes.filter((m, i) => modes.findIndex((n) => sameMode(m, n)) === i)) {
    const lastRound = Math.max(
      ...results.filter((r) => sameMode(r, mode)).flatMap((r) => (r.rounds ?? []).map((x) => x.at)),
    )
    if (!baselinesAround(lastRound, mode).after) await measureBaseline(mode)
  }
} finally {
  await baselineServer?.stop().catch(() => {})
}

for (const r of results) {
  if (!r.rounds?.length) continue
  for (const round of r.rounds) {
    const { before, after } = baselinesAround(round.at, r)
    round.baselineBeforeRps = before?.requestsPerSec
    round.baselineAfterRps = after?.requestsPerSec
    const around = [before, after].filter((b) => b !== undefined).map((b) => b.requestsPerSec)
    if (around.length)
      round.ratio = round.requestsPerSec / (around.reduce((a, b) => a + b, 0) / around.length)
  }
  const rated = r.rounds.filter((x) => x.ratio !== undefined)
  if (!rated.length) continue
  const ratios = rated.map((x) => x.ratio as number)
  r.ratio = median(ratios)
  // the round nearest the median is the one whose numbers (req/s, latencies) the table shows
  const reported = rated.reduce((a, b) =>
    Math.abs((b.ratio as number) - (r.ratio as number)) < Math.abs((a.ratio as number) - (r.ratio as number))
      ? b
      : a,
  )
  r.wrk = reported
  r.at = reported.at
  r.baselineRps = reported.requestsPerSec / (reported.ratio as number)
  r.ratioMin = Math.min(...ratios)
  r.ratioMax = Math.max(...ratios)
  if (r.target?.ratio !== undefined) r.meetsTarget = r.ratio >= r.target.ratio
}

// the table again, complete with ratios (the live rows could not know the later baselines)
console.log(`\n${row(["scenario", "req/s", "p50", "p99", "ratio", "target", "notes"])}`)
for (const b of baselines)
  console.log(
    row([
      baselineName(b),
      fmtRps(b.requestsPerSec),
      fmtMs(b.p50Ms),
      fmtMs(b.p99Ms),
      "1.00",
      "",
      `at +${Math.round(b.at / 1000)} s`,
    ]),
  )
for (const r of results) {
  const name = `${r.group}/${r.name}`
  if (r.error)
    console.log(row([name, "error", "", "", "", targetText(r.target), r.error.split("\n")[0] ?? ""]))
  else if (r.custom) printRow(r)
  else if (r.wrk)
    console.log(
      row([
        name,
        fmtRps(r.wrk.requestsPerSec),
        fmtMs(r.wrk.p50Ms),
        fmtMs(r.wrk.p99Ms),
        r.ratio?.toFixed(2) ?? "",
        `${targetText(r.target)}${r.meetsTarget === false ? " MISSED" : r.meetsTarget ? " ok" : ""}`,
        [
          (r.rounds?.length ?? 0) > 1
            ? `${r.rounds?.length} rounds, ratio ${r.ratioMin?.toFixed(2)}–${r.ratioMax?.toFixed(2)}`
            : "",
          wrkNotes(r),
        ]
          .filter(Boolean)
          .join(", "),
      ]),
    )
}

const startup: { binary?: Startup; source?: Startup } = {}
if (!opts["no-startup"]) {
  console.log("\nstart-up (spawn → first 200 on /, median of 5, empty data dir) and idle RSS:")
  if (statSync(BINARY, { throwIfNoEntry: false })) {
    const s = await measureStartup([BINARY, "serve"], "dist/logbook serve", false)
    s.sizeBytes = statSync(BINARY).size
    startup.binary = s
    console.log(
      `  dist/logbook:       ${s.medianMs.toFixed(0)} ms (runs ${s.runsMs.map((x) => x.toFixed(0)).join(", ")}), idle RSS ${(s.idleRssKiB / 1024).toFixed(1)} MB, size ${(s.sizeBytes / 1024 / 1024).toFixed(1)} MB`,
    )
  } else console.log("  dist/logbook: not built (bun run build, or bench --build)")
  const src = await measureStartup(
    [process.execPath, join(ROOT, "src/main.ts"), "serve"],
    "bun src/main.ts serve",
    true,
  )
  startup.source = src
  console.log(
    `  bun src/main.ts:    ${src.medianMs.toFixed(0)} ms (runs ${src.runsMs.map((x) => x.toFixed(0)).join(", ")}), idle RSS ${(src.idleRssKiB / 1024).toFixed(1)} MB`,
  )
}

const report = {
  startedAt: new Date(Date.now() - since()).toISOString(),
  bun: Bun.version,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? "",
  options: {
    durationSeconds: duration,
    connections,
    rounds,
    threads: 2,
    binary: opts.binary,
    only: opts.only ?? null,
    database: opts.postgres ? "postgres" : "sqlite",
  },
  baseline: baselines,
  results,
  loadErrors,
  startup,
}
mkdirSync(join(ROOT, ".bench"), { recursive: true })
const stamp = report.startedAt.replace(/[:.]/g, "-")
const out = join(ROOT, ".bench", `results-${stamp}.json`)
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`)
writeFileSync(join(ROOT, ".bench", "latest.json"), `${JSON.stringify(report, null, 2)}\n`)
console.log(`\nwrote ${out.slice(ROOT.length + 1)} and .bench/latest.json`)
process.exit(results.some((r) => r.error) || loadErrors.length ? 1 : 0)
