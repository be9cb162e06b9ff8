/**
 * The shape of a benchmark scenario. `bun run bench` (test/bench/run.ts) loads every module in
 * test/bench/scenarios/ and runs each exported scenario against a freshly started Logbook, in the same
 * run as the baseline (plain Bun.serve hello-world), and reports each throughput as a ratio to it.
 */
export interface WrkRequest {
  method: "GET" | "POST" | "HEAD"
  path: string
  headers?: Record<string, string>
  /**
   * One body, or several rotated request by request. `{{now}}` in a body becomes the current Unix time in
   * seconds, request by request (as clients stamp events they send).
   */
  body?: string | string[]
}

export interface ScenarioContext {
  baseUrl: string
  /** Environment the Logbook under test was started with (LOGBOOK_DATA_DIR, LOGBOOK_DATABASE_URL…). */
  env: Record<string, string>
  dataDir: string
  /** The run's measuring time per scenario (`--duration`, `--quick`): custom `run()`s should honour it. */
  durationSeconds: number
  /** Concurrent connections / clients a custom `run()` should use (the scenario's or the run's). */
  connections: number
}

export interface BenchScenario {
  name: string
  /** Extra environment for the Logbook instance of this scenario (each scenario group gets its own). */
  env?: Record<string, string>
  /** Fill the database before measuring (through HTTP, or directly on the data dir before start: see `seed`). */
  prepare?(ctx: ScenarioContext): Promise<void>
  /** Runs before Logbook starts, on its (empty) data dir / database: bulk seeding without HTTP. */
  seed?(ctx: Omit<ScenarioContext, "baseUrl" | "durationSeconds" | "connections">): Promise<void>
  /** Measured with wrk. */
  request?: WrkRequest
  connections?: number
  durationSeconds?: number
  /** false: every request on a new connection (`Connection: close`). */
  keepAlive?: boolean
  /** A custom measurement instead of wrk: return named numbers (e.g. records_per_s). */
  run?(ctx: ScenarioContext): Promise<Record<string, number>>
  /** What the issue asks for, printed next to the result, e.g. { ratio: 0.35 }. */
  target?: { ratio?: number; text?: string }
}
