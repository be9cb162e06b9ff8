/**
 * The remote client: the exact stdlib-only snippet from the README (logbook_levels.py) run by python3
 * against a real port; a level set for the app reaches the Python process and reverts when its window ends.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { createTestApp, type TestApp, type TestClock } from "../../test/support"
import levels from "./plugin"
import { ADMIN_TOKEN, adminHeaders, testEnv, until } from "./testing"

const realClock: TestClock = { now: () => Date.now(), set() {}, advance() {} }
let app: TestApp
let base: string
let python: ReturnType<typeof Bun.spawn> | undefined
const lines: string[] = []

beforeAll(async () => {
  // long-polls shorter than Bun.serve's default 10 s idle timeout of the test server
  app = await createTestApp({
    plugins: [levels],
    env: { ...testEnv, LOGBOOK_LEVELS_MAX_WAIT_SECONDS: "5" },
    clock: realClock,
  })
  base = await app.listen()
})
afterAll(async () => {
  python?.kill()
  await app?.close()
})

const HARNESS = `
import json, logging, sys, time
sys.path.insert(0, sys.argv[1])
from logbook_levels import follow_logbook_levels
logging.getLogger().setLevel(logging.WARNING)
follow_logbook_levels(sys.argv[2], app="shop", token=sys.argv[3])
last = None
while True:
    now = {n: logging.getLevelName(logging.getLogger(n).getEffectiveLevel()) for n in ("shop.db", "shop.db.pool", "shop.http")}
    if now != last:
        print(json.dumps(now), flush=True)
        last = now
    time.sleep(0.02)
`

const latest = () =>
  lines.length ? (JSON.parse(lines[lines.length - 1]) as Record<string, string>) : undefined

test("the Python snippet applies a level for its window and reverts it", async () => {
  const proc = Bun.spawn(["python3", "-c", HARNESS, import.meta.dir, base, ADMIN_TOKEN], {
    stdout: "pipe",
    stderr: "inherit",
  })
  python = proc
  void (async () => {
    let buf = ""
    const reader = proc.stdout.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      buf += new TextDecoder().decode(value)
      const parts = buf.split("\n")
      buf = parts.pop() ?? ""
      lines.push(...parts.filter(Boolean))
    }
  })()
  await until("the Python process to start", () => latest()?.["shop.db"] === "WARNING")
  // let it connect and start its long-poll before the change (the change must arrive through the long-poll or the next poll)
  await until(
    "the first poll",
    async () => (await app.request("/api/v1/levels/desired?app=shop")).status === 200,
  )

  const r = await app.request("/api/v1/levels/overrides", {
    method: "POST",
    headers: adminHeaders,
    json: { target: "shop", logger: "shop.db", level: "DEBUG", duration: 2, reason: "python test" },
  })
  expect(r.status).toBe(201)
  const desired = (await (await app.request("/api/v1/levels/desired?app=shop")).json()) as {
    levels: Record<string, { level: string; levelno: number; expires_at: string }>
  }
  expect(desired.levels["shop.db"]).toMatchObject({ level: "DEBUG", levelno: 10 })
  const set = await until("DEBUG to reach Python", () => {
    const l = latest()
    return l?.["shop.db"] === "DEBUG" ? l : undefined
  })
  expect(set).toEqual({ "shop.db": "DEBUG", "shop.db.pool": "DEBUG", "shop.http": "WARNING" })
  await until(
    "the level to revert in Python when the 2 s window ends",
    () => latest()?.["shop.db"] === "WARNING",
  )
  expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(Object.values(desired.levels)[0].expires_at))
  expect(latest()).toEqual({ "shop.db": "WARNING", "shop.db.pool": "WARNING", "shop.http": "WARNING" })
})

test("desired: ETag and 304, long-poll answers when the set changes", async () => {
  const first = await app.request("/api/v1/levels/desired?app=shop")
  const etag = first.headers.get("etag")!
  expect(etag).toBeTruthy()
  expect(
    (await app.request("/api/v1/levels/desired?app=shop", { headers: { "if-none-match": etag } })).status,
  ).toBe(304)
  const t0 = Date.now()
  const held = app.request("/api/v1/levels/desired?app=shop&wait=5", { headers: { "if-none-match": etag } })
  await app.request("/api/v1/levels/overrides", {
    method: "POST",
    headers: adminHeaders,
    json: { target: "shop", logger: "shop.http", level: "ERROR" },
  })
  const r = await held
  expect(r.status).toBe(200)
  expect(Date.now() - t0).toBeLessThan(5000)
  expect(((await r.json()) as { levels: Record<string, { level: string }> }).levels["shop.http"].level).toBe(
    "ERROR",
  )
})
