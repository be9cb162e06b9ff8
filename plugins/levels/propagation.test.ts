/**
 * Propagation and restarts, on a database shared by several Logbooks:
 * - two `bun src/main.ts serve` processes on one SQLite file (always) and on one PostgreSQL schema (when
 *   LOGBOOK_TEST_DATABASE_URL is set): a change made on one is applied by the other, and both report it;
 * - a restart re-applies a live override, and an override that expired while nothing ran is reverted and
 *   announced once.
 */
import { afterAll, describe, expect, test } from "bun:test"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { boot } from "../../src/boot"
import { openPostgres } from "../../src/db/database"
import { createLogging } from "../../src/log"
import { fixedClock, PG_URL } from "../../test/support"
import levels from "./plugin"
import { ADMIN_TOKEN, adminHeaders, testEnv, timelineRecorder, until } from "./testing"

const ROOT = join(import.meta.dir, "../..")
const dir = mkdtempSync(join(tmpdir(), "levels-prop-"))
const cleanups: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })]
afterAll(async () => {
  for (const c of cleanups.reverse()) await c()
})

/** A fresh database URL: a SQLite file, or a new PostgreSQL schema (dropped at the end). */
async function freshDatabase(kind: "sqlite" | "postgres", name: string): Promise<string> {
  if (kind === "sqlite") return `sqlite:${join(dir, `${name}.sqlite`)}`
  const schema = `levels_${name}_${process.pid}_${Date.now().toString(36)}`
  const admin = openPostgres(PG_URL, { max: 1 })
  await admin.exec(`CREATE SCHEMA ${schema}`)
  await admin.close()
  cleanups.push(async () => {
    const a = openPostgres(PG_URL, { max: 1 })
    await a.exec(`DROP SCHEMA ${schema} CASCADE`)
    await a.close()
  })
  return `${PG_URL}${PG_URL.includes("?") ? "&" : "?"}options=${encodeURIComponent(`-c search_path=${schema}`)}`
}

function freePort(): number {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() })
  const port = s.port as number
  s.stop(true)
  return port
}

async function serveProcess(databaseUrl: string, instance: string) {
  const port = freePort()
  const proc = Bun.spawn(["bun", "src/main.ts", "serve"], {
    cwd: ROOT,
    env: {
      ...process.env,
      LOGBOOK_DATABASE_URL: databaseUrl,
      LOGBOOK_HOST: "127.0.0.1",
      LOGBOOK_PORT: String(port),
      LOGBOOK_ADMIN_TOKEN: ADMIN_TOKEN,
      LOGBOOK_INSTANCE_ID: instance,
      LOGBOOK_DATA_DIR: join(dir, instance),
      LOGBOOK_PLUGINS_DIR: join(dir, "no-drop-ins"),
      LOGBOOK_LOG_LEVEL: "warning",
    },
    stdout: "ignore",
    stderr: "ignore",
  })
  cleanups.push(() => {
    proc.kill()
  })
  const base = `http://127.0.0.1:${port}`
  await until(
    `instance ${instance} to listen`,
    async () => (await fetch(`${base}/api/v1/levels/instances`).catch(() => undefined))?.ok,
    20_000,
  )
  return base
}

const effectiveOn = async (base: string, logger: string) => {
  const r = (await (await fetch(`${base}/api/v1/levels/loggers`, { headers: adminHeaders })).json()) as {
    loggers: Array<{ name: string; effective: string; source: string }>
  }
  return r.loggers.find((l) => l.name === logger)
}

for (const kind of ["sqlite", "postgres"] as const) {
  test.skipIf(kind === "postgres" && !PG_URL)(
    `two Logbook processes on one ${kind} database: a change on one is applied by the other`,
    async () => {
      const url = await freshDatabase(kind, "two")
      const a = await serveProcess(url, "inst-a")
      const b = await serveProcess(url, "inst-b")
      const r = await fetch(`${a}/api/v1/levels/overrides`, {
        method: "POST",
        headers: { ...adminHeaders, "content-type": "application/json" },
        body: JSON.stringify({
          logger: "logbook.http",
          level: "TRACE",
          duration: "PT5M",
          reason: "propagation",
        }),
      })
      expect(r.status).toBe(201)
      const { id } = (await r.json()) as { id: number }
      expect(await effectiveOn(a, "logbook.http")).toMatchObject({ effective: "trace", source: "override" })
      await until(
        "instance b to apply the override",
        async () => (await effectiveOn(b, "logbook.http"))?.effective === "trace",
        5000,
      )
      const inst = await until("both instances to report the version", async () => {
        const x = (await (await fetch(`${b}/api/v1/levels/instances`)).json()) as {
          applied: number
          total: number
        }
        return x.applied === 2 && x.total === 2 ? x : undefined
      })
      expect(inst).toMatchObject({ applied: 2, total: 2 })
      // and back: revoking on b reverts a
      const d = await fetch(`${b}/api/v1/levels/overrides/${id}`, { method: "DELETE", headers: adminHeaders })
      expect(d.status).toBe(200)
      await until(
        "instance a to revert",
        async () => (await effectiveOn(a, "logbook.http"))?.source === "inherited",
        5000,
      )
    },
    40_000,
  )
}

describe("restarts", () => {
  test("a live override is re-applied at start-up; one that expired meanwhile is reverted and announced once", async () => {
    const url = await freshDatabase(PG_URL ? "postgres" : "sqlite", "restart")
    const clock = fixedClock()
    const start = async () => {
      const timeline = timelineRecorder()
      const logging = createLogging({ rootLevel: "debug", format: "json", write: () => {}, now: clock.now })
      const booted = await boot({
        env: {
          ...testEnv,
          LOGBOOK_DATABASE_URL: url,
          LOGBOOK_DATA_DIR: dir,
          LOGBOOK_PLUGINS_DIR: join(dir, "none"),
        },
        plugins: [timeline.plugin, levels],
        logging,
        now: clock.now,
      })
      await booted.host.start()
      const request = (path: string, init: RequestInit = {}) =>
        booted.app.fetch(new Request(`http://127.0.0.1${path}`, init))
      return { ...booted, logging, timeline, request }
    }
    const first = await start()
    const r = await first.request("/api/v1/levels/overrides", {
      method: "POST",
      headers: { ...adminHeaders, "content-type": "application/json" },
      body: JSON.stringify({ logger: "app.db", level: "ERROR" }),
    })
    expect(r.status).toBe(201)
    await first.host.stop()

    clock.advance(10 * 60_000)
    const second = await start()
    expect(second.logging.levels.effective("app.db")).toBe("error")
    await second.host.stop()

    clock.advance(30 * 60_000)
    const third = await start()
    expect(third.logging.levels.effective("app.db")).toBe("debug")
    expect(third.timeline.events.map((e) => e.tags?.action)).toEqual(["expire"])
    await third.host.stop()
    const fourth = await start()
    expect(fourth.timeline.events).toEqual([])
    const h = (await (await fourth.request("/api/v1/levels/history")).json()) as {
      history: Array<{ action: string }>
    }
    expect(h.history.map((x) => x.action)).toEqual(["expire", "create"])
    await fourth.host.stop()
  })
})
