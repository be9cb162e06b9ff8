/**
 * Test support: a Logbook host built for tests — in-memory SQLite by default, or a fresh schema on the
 * PostgreSQL of LOGBOOK_TEST_DATABASE_URL (so test files never see each other's rows) — with explicit
 * plugins, a settable clock, and helpers to call it in-process or over a real port.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type Booted, boot } from "../src/boot"
import { type Db, openPostgres, openSqlite } from "../src/db/database"
import { SERVER_BODY_LIMIT } from "../src/http/app"
import { createLogging, type LogLine } from "../src/log"
import type { LogbookPlugin } from "../src/plugin/contract"

export const PG_URL = process.env.LOGBOOK_TEST_DATABASE_URL ?? ""
export const dialectUnderTest = PG_URL ? "postgres" : "sqlite"

export interface TestClock {
  now(): number
  set(ms: number): void
  advance(ms: number): void
}

export function fixedClock(start = Date.UTC(2026, 10, 22, 10, 0, 0)): TestClock {
  let t = start
  return { now: () => t, set: (ms) => (t = ms), advance: (ms) => (t += ms) }
}

export interface TestApp extends Booted {
  db: Db
  clock: TestClock
  logs: LogLine[]
  /** In-process request: `request("/api/x", { method: "POST", json: {...} })`. */
  request(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>
  /** Listen on a real port (127.0.0.1, random); returns the base URL. */
  listen(): Promise<string>
  close(): Promise<void>
}

let schemaSeq = 0

/** A database for one test app: memory SQLite, or a new PostgreSQL schema dropped on close. */
export async function testDatabase(): Promise<{ db: Db; drop(): Promise<void>; url: string }> {
  if (!PG_URL) return { db: openSqlite(":memory:"), drop: async () => {}, url: ":memory:" }
  const schema = `t_${process.pid}_${Date.now().toString(36)}_${schemaSeq++}`
  const admin = openPostgres(PG_URL, { max: 1 })
  await admin.exec(`CREATE SCHEMA ${schema}`)
  await admin.close()
  const url = `${PG_URL}${PG_URL.includes("?") ? "&" : "?"}options=${encodeURIComponent(`-c search_path=${schema}`)}`
  const db = openPostgres(url, { max: 4 })
  return {
    db,
    url,
    drop: async () => {
      const a = openPostgres(PG_URL, { max: 1 })
      await a.exec(`DROP SCHEMA ${schema} CASCADE`)
      await a.close()
    },
  }
}

/**
 * One database as two instances see it: a SQLite file opened twice (`:memory:` would be two databases),
 * or one fresh PostgreSQL schema through two connection pools. `cleanup` after both are closed.
 */
export async function sharedTestDatabase(): Promise<{ a: Db; b: Db; cleanup(): Promise<void> }> {
  const t = await testDatabase()
  if (t.db.dialect === "postgres") return { a: t.db, b: openPostgres(t.url, { max: 4 }), cleanup: t.drop }
  await t.db.close()
  const dir = mkdtempSync(join(tmpdir(), "logbook-shared-"))
  const file = join(dir, "shared.sqlite")
  return {
    a: openSqlite(file),
    b: openSqlite(file),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  }
}

export async function createTestApp(
  opts: {
    plugins?: LogbookPlugin[]
    env?: Record<string, string>
    clock?: TestClock
    dropIns?: boolean
    /** A database of its own (closed with the app, never dropped): e.g. one side of sharedTestDatabase(). */
    db?: Db
  } = {},
): Promise<TestApp> {
  const clock = opts.clock ?? fixedClock()
  const { db, drop } = opts.db ? { db: opts.db, drop: async () => {} } : await testDatabase()
  const logs: LogLine[] = []
  const logging = createLogging({ rootLevel: "debug", format: "json", write: () => {}, now: clock.now })
  logging.addSink((l) => logs.push(l))
  const env = {
    LOGBOOK_DATA_DIR: `${import.meta.dir}/../data/test-${process.pid}`,
    LOGBOOK_PLUGINS_DIR: `${import.meta.dir}/../data/no-plugins-${process.pid}`,
    ...opts.env,
  }
  const booted = await boot({
    env,
    plugins: opts.plugins ?? [],
    db,
    logging,
    now: clock.now,
    dropIns: opts.dropIns,
  })
  await booted.host.start()
  let server: ReturnType<typeof Bun.serve> | undefined
  return {
    ...booted,
    db,
    clock,
    logs,
    async request(path, init = {}) {
      const { json, ...rest } = init
      const headers = new Headers(rest.headers)
      if (json !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json")
      return booted.app.fetch(
        new Request(`http://127.0.0.1${path}`, {
          ...rest,
          headers,
          body: json !== undefined ? JSON.stringify(json) : rest.body,
        }),
      )
    },
    async listen() {
      server = Bun.serve({
        hostname: "127.0.0.1",
        port: 0,
        fetch: booted.app.fetch,
        maxRequestBodySize: SERVER_BODY_LIMIT,
      })
      return `http://127.0.0.1:${server.port}`
    },
    async close() {
      await server?.stop(true)
      await booted.host.stop()
      await drop()
    },
  }
}
