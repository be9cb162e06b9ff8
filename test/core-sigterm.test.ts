/**
 * SIGTERM during a burst of writes: the real server (spawned) drains its group-commit writer before it
 * exits, so every write that was acknowledged with a 2xx is in the database afterwards.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { openDatabase } from "../src/db/database"
import { spawnEnv, spawnServer } from "./core-spawn"

const DROP_IN = `import { definePlugin, Elysia, t } from "logbook"
export default definePlugin({
  id: "burst",
  title: "Burst",
  migrations: [{
    id: "burst/001",
    sqlite: "CREATE TABLE burst_items (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT NOT NULL UNIQUE)",
    postgres: "CREATE TABLE burst_items (id BIGSERIAL PRIMARY KEY, v TEXT NOT NULL UNIQUE)",
  }],
  routes: (ctx) => new Elysia().post("/api/v1/burst", async ({ body }) => {
    const [id] = await ctx.writer.insert({ table: "burst_items", columns: ["v"], rows: [[body.v]], returning: "id" })
    return { id: Number(id) }
  }, { body: t.Object({ v: t.String() }), detail: { summary: "insert", tags: ["burst"] } }),
})
`

let s: Awaited<ReturnType<typeof spawnEnv>>
beforeAll(async () => {
  s = await spawnEnv()
  mkdirSync(s.env.LOGBOOK_PLUGINS_DIR, { recursive: true })
  writeFileSync(join(s.env.LOGBOOK_PLUGINS_DIR, "burst.ts"), DROP_IN)
}, 30_000)
afterAll(async () => {
  await s.cleanup()
}, 30_000)

test("every acknowledged write survives SIGTERM mid-burst", async () => {
  const server = await spawnServer(s.env)
  const acknowledged: string[] = []
  let refused = 0
  let sent = 0
  let stopAt = Number.POSITIVE_INFINITY
  const deadline = Date.now() + 15_000
  const worker = async (w: number) => {
    for (let i = 0; Date.now() < deadline; i++) {
      const v = `w${w}-${i}`
      sent++
      try {
        const res = await fetch(`${server.url}/api/v1/burst`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ v }),
        })
        if (res.status >= 200 && res.status < 300) acknowledged.push(v)
        else refused++
        await res.arrayBuffer()
      } catch {
        return // the server is gone (or stopped accepting)
      }
      if (Date.now() > stopAt + 2_000) return
    }
  }
  const workers = Array.from({ length: 16 }, (_, w) => worker(w))
  // let the burst run, then signal while it is in full swing
  while (acknowledged.length < 300 && Date.now() < deadline) await Bun.sleep(5)
  const ackedBeforeSignal = acknowledged.length
  stopAt = Date.now()
  const code = await server.stop("SIGTERM")
  await Promise.all(workers)
  expect(code).toBe(0)
  expect(ackedBeforeSignal).toBeGreaterThan(0)

  const db = openDatabase(s.env.LOGBOOK_DATABASE_URL ?? "", s.env.LOGBOOK_DATA_DIR)
  try {
    const stored = new Set((await db.all<{ v: string }>("SELECT v FROM burst_items")).map((r) => r.v))
    const lost = acknowledged.filter((v) => !stored.has(v))
    expect(lost).toEqual([])
    // nothing is stored that was never sent
    expect(stored.size).toBeLessThanOrEqual(sent)
    console.log(
      `sigterm drain: ${acknowledged.length} acknowledged (${ackedBeforeSignal} before the signal), ${refused} refused, ${stored.size} stored, 0 lost`,
    )
  } finally {
    await db.close()
  }
})
