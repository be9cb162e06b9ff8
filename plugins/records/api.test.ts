/** The native API and the query language, on the dialect under test. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { createTestApp, type TestApp } from "../../test/support"
import records from "./plugin"
import { applyRetention, recordsBytes } from "./retention"
import type { RecordsContext } from "./settings"

let app: TestApp
const T0 = Date.UTC(2026, 10, 22, 9, 0, 0) / 1000 // an hour before the test clock

const rec = (i: number, extra: Record<string, unknown> = {}) => ({
  name: ["app.db", "app.db.pool", "app.web", "other"][i % 4],
  msg: i % 5 === 0 ? "connection reset by peer %d" : "request handled in %d ms",
  args: [i],
  levelno: [10, 20, 30, 40, 50][i % 5],
  created: T0 + i,
  funcName: i % 2 ? "handle_request" : "main",
  process: 100 + (i % 2),
  user_id: i,
  ...extra,
})

beforeAll(async () => {
  app = await createTestApp({ plugins: [records], env: { LOGBOOK_RECORDS_MAX_MESSAGE_BYTES: "1000" } })
  const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify(rec(i))).join("\n")
  const res = await app.request("/api/v1/records", {
    method: "POST",
    body: lines,
    headers: { "content-type": "application/x-ndjson" },
  })
  expect(res.status).toBe(201)
})
afterAll(() => app.close())

const search = async (q: string, extra = "") => {
  const res = await app.request(`/api/v1/records?q=${encodeURIComponent(q)}&limit=1000${extra}`)
  return { status: res.status, body: await res.json() }
}
const ids = async (q: string) => {
  const r = await search(q)
  expect(r.status).toBe(200)
  return (r.body.items as Array<{ logrec: { data: { user_id: number } } }>).map((x) => x.logrec.data.user_id)
}
const range = (pred: (i: number) => boolean) => Array.from({ length: 40 }, (_, i) => 39 - i).filter(pred)

describe("ingest", () => {
  test("single object 201; array with a bad item 207 and the rest stored; all bad 400", async () => {
    const one = await app.request("/api/v1/records", { method: "POST", json: rec(100) })
    expect(one.status).toBe(201)
    expect((await one.json()).stored).toBe(1)
    const mixed = await app.request("/api/v1/records", {
      method: "POST",
      json: [rec(101), { name: "x" }, rec(102, { msg: "y".repeat(2000) })],
    })
    expect(mixed.status).toBe(207)
    const report = await mixed.json()
    expect(report.stored).toBe(1)
    expect(report.errors.map((e: { index: number; status: number }) => [e.index, e.status])).toEqual([
      [1, 400],
      [2, 413],
    ])
    const nd = await app.request("/api/v1/records", {
      method: "POST",
      body: `${JSON.stringify(rec(103))}\nnot json\n${JSON.stringify(rec(104))}`,
      headers: { "content-type": "application/x-ndjson" },
    })
    expect(nd.status).toBe(207)
    expect((await nd.json()).errors).toEqual([
      { index: 2, status: 400, message: "Invalid JSON document on line 2" },
    ])
    const bad = await app.request("/api/v1/records", { method: "POST", json: { name: "x" } })
    expect(bad.status).toBe(400)
    expect((await bad.json()).error.message).toContain('"created"')
    const type = await app.request("/api/v1/records", {
      method: "POST",
      body: "x",
      headers: { "content-type": "text/csv" },
    })
    expect(type.status).toBe(415)
    // clean up the extra records so the search expectations below see only the 40 seeded ones
    await app.db.run(
      "DELETE FROM records_records WHERE name NOT IN ('app.db', 'app.db.pool', 'app.web', 'other') OR ts >= ?",
      [(T0 + 100) * 1e6],
    )
  })
})

describe("query language", () => {
  test("free text, phrases, prefixes", async () => {
    expect(await ids("reset")).toEqual(range((i) => i % 5 === 0))
    expect(await ids('"reset by peer"')).toEqual(range((i) => i % 5 === 0))
    expect(await ids('"peer by reset"')).toEqual([])
    expect(await ids("handl*")).toEqual(range((i) => i % 5 !== 0))
    expect(await ids("RESET")).toEqual(range((i) => i % 5 === 0))
    // words inside host names, paths, versions and key=value are found on both dialects
    const res = await app.request("/api/v1/records", {
      method: "POST",
      json: rec(1000, {
        msg: "connect to db.example.com failed in /srv/app/jobs.py (v1.2.3, user_id=7)",
        args: [],
      }),
    })
    const [id] = (await res.json()).ids
    for (const q of ["example", "jobs", '"example com"', "user_id", "exampl*", '"v1 2 3"'])
      expect((await search(q)).body.items.map((r: { id: number }) => r.id)).toEqual([id])
    await app.db.run("DELETE FROM records_records WHERE id = ?", [id])
  })

  test("text without letters or digits is found as it is; symbols outside quotes say how to search them", async () => {
    const res = await app.request("/api/v1/records", {
      method: "POST",
      json: [
        rec(1001, { msg: "deploy 🚀 done: web -> api", args: [] }),
        rec(1002, { msg: "web - api", args: [] }),
      ],
    })
    const [rocket, dash] = (await res.json()).ids
    const found = async (q: string) => (await search(q)).body.items.map((r: { id: number }) => r.id)
    try {
      expect(await found("🚀")).toEqual([rocket])
      expect(await found('"->"')).toEqual([rocket])
      expect(await found('"-" api')).toEqual([dash, rocket])
      expect(await found('"🚀" web')).toEqual([rocket])
      const unquoted = await search("<b>bold</b>")
      expect(unquoted.status).toBe(400)
      expect(unquoted.body.error.message).toContain("put the text in double quotes")
    } finally {
      await app.db.run("DELETE FROM records_records WHERE id IN (?, ?)", [rocket, dash])
    }
  })

  test("fields and boolean logic", async () => {
    expect(await ids("level>=warning")).toEqual(range((i) => i % 5 >= 2))
    expect(await ids("level:error")).toEqual(range((i) => i % 5 === 3))
    expect(await ids("logger:app.db")).toEqual(range((i) => i % 4 <= 1))
    expect(await ids("logger=app.db")).toEqual(range((i) => i % 4 === 0))
    expect(await ids("logger:app.d*")).toEqual(range((i) => i % 4 <= 1))
    expect(await ids("data.user_id=7")).toEqual([7])
    expect(await ids("data.user_id>35")).toEqual([39, 38, 37, 36])
    expect(await ids("meta.funcName:handle*")).toEqual(range((i) => i % 2 === 1))
    expect(await ids("meta.process=100 AND level>=error")).toEqual(range((i) => i % 2 === 0 && i % 5 >= 3))
    expect(await ids("reset OR data.user_id=1")).toEqual(range((i) => i % 5 === 0 || i === 1))
    expect(await ids("NOT (logger:app OR level<=info)")).toEqual(range((i) => i % 4 === 3 && i % 5 >= 2))
    expect(await ids("reset level>=critical")).toEqual([]) // reset is level DEBUG (i % 5 === 0)
  })

  test("errors are 400 with the position; injection attempts change nothing", async () => {
    const before = await app.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM records_records")
    const cases: Array<[string, number]> = [
      ["level>=loud", 7],
      ["(reset", 0],
      ["reset)", 5],
      ["foo.bar=1", 0],
      ["1=1 OR", 6],
      ["data.x=1 OR 1=1", 12],
      ['"unterminated', 0],
    ]
    for (const [q, position] of cases) {
      const r = await search(q)
      expect(r.status).toBe(400)
      expect(r.body.error.code).toBe("bad_query")
      expect(r.body.error.details.position).toBe(position)
    }
    // quoted text is searched, not executed; so is text without letters or digits
    expect(await ids('"DROP TABLE records_records"')).toEqual([])
    expect(await ids("reset /* comment */")).toEqual([])
    expect(await ids("'; DROP TABLE records_records; --")).toEqual([])
    expect(await ids("(SELECT * FROM records_records)")).toEqual([])
    expect(await ids("data.user_id=\"1' OR '1'='1\"")).toEqual([])
    const after = await app.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM records_records")
    expect(Number(after?.n)).toBe(Number(before?.n))
  })
})

describe("reads", () => {
  test("cursor pagination newest first, time window, level", async () => {
    const first = await app.request("/api/v1/records?limit=15")
    const page1 = await first.json()
    expect(page1.items).toHaveLength(15)
    const page2 = await (await app.request(`/api/v1/records?limit=15&cursor=${page1.nextCursor}`)).json()
    const page3 = await (await app.request(`/api/v1/records?limit=15&cursor=${page2.nextCursor}`)).json()
    expect(page3.nextCursor).toBeUndefined()
    const all = [...page1.items, ...page2.items, ...page3.items].map(
      (r: { logrec: { data: { user_id: number } } }) => r.logrec.data.user_id,
    )
    expect(all).toEqual(range(() => true))
    expect(page1.items[0]).toMatchObject({ levelName: "CRITICAL", time: "2026-11-22T09:00:39.000000Z" })
    const window = await (
      await app.request(`/api/v1/records?from=${T0 + 10}&to=2026-11-22T09:00:20Z&level=warning`)
    ).json()
    expect(window.items.map((r: { logrec: { data: { user_id: number } } }) => r.logrec.data.user_id)).toEqual(
      range((i) => i >= 10 && i < 20 && i % 5 >= 2),
    )
    expect((await app.request("/api/v1/records?cursor=garbage")).status).toBe(400)
  })

  test("histogram by level band", async () => {
    const res = await app.request(
      `/api/v1/records/histogram?from=${T0}&to=${T0 + 40}&bucket=20&q=logger:app.web`,
    )
    const h = await res.json()
    expect(h.buckets).toHaveLength(2)
    expect(h.buckets[0].start).toBe(T0 * 1e6)
    // app.web: i % 4 === 2 → i = 2, 6, 10, 14, 18 (levels 30, 20, 10, 50, 40)
    expect(h.buckets[0].counts).toEqual({ WARNING: 1, INFO: 1, DEBUG: 1, CRITICAL: 1, ERROR: 1 })
    expect((await app.request(`/api/v1/records/histogram?from=${T0}&to=${T0 + 1e6}&bucket=1`)).status).toBe(
      400,
    )
  })

  test("the per-minute rollup gives the same histogram as counting records, for any edges", async () => {
    const base = T0 - 2 * 86400
    const spread = Array.from({ length: 300 }, (_, i) =>
      JSON.stringify({
        name: "spread",
        msg: "s",
        levelno: [10, 20, 30, 40, 50][i % 5],
        created: base + i * 37.3,
      }),
    ).join("\n")
    await app.request("/api/v1/records", {
      method: "POST",
      body: spread,
      headers: { "content-type": "application/x-ndjson" },
    })
    const hist = async (from: number, to: number, bucket: number, q = "") =>
      (
        await (
          await app.request(
            `/api/v1/records/histogram?from=${from}&to=${to}&bucket=${bucket}&q=${encodeURIComponent(q)}`,
          )
        ).json()
      ).buckets
    for (const [from, to, bucket] of [
      [base, base + 12000, 60],
      [base + 0.5, base + 11000.25, 60],
      [base - 17.123456, base + 11500, 600],
      [base + 13, base + 9000, 90],
      [base - 3600, base + 86400, 3600],
    ]) {
      const fast = await hist(from, to, bucket)
      expect(fast).toEqual(await hist(from, to, bucket, "level>=0"))
      expect(
        fast.reduce(
          (n: number, b: { counts: Record<string, number> }) =>
            n + Object.values(b.counts).reduce((a, c) => a + c, 0),
          0,
        ),
      ).toBeGreaterThan(0)
    }
    await app.db.run("DELETE FROM records_records WHERE name = 'spread' AND level >= 30")
    expect(await hist(base, base + 12000, 60)).toEqual(await hist(base, base + 12000, 60, "level>=0"))
    await app.db.run("DELETE FROM records_records WHERE name = 'spread'")
  })

  test("record, around, loggers", async () => {
    const [r] = (await (await app.request("/api/v1/records?q=data.user_id=20")).json()).items
    const one = await (await app.request(`/api/v1/records/${r.id}`)).json()
    expect(one).toEqual(r)
    expect((await app.request("/api/v1/records/99999")).status).toBe(404)
    const a = await (await app.request(`/api/v1/records/${r.id}/around?before=2&after=2`)).json()
    const uid = (x: { logrec: { data: { user_id: number } } }) => x.logrec.data.user_id
    expect(a.before.map(uid)).toEqual([19, 18])
    expect(a.after.map(uid)).toEqual([22, 21])
    const same = await (
      await app.request(`/api/v1/records/${r.id}/around?before=2&after=2&sameLogger=1`)
    ).json()
    expect(same.before.map(uid)).toEqual([16, 12])
    expect(same.after.map(uid)).toEqual([28, 24])
    const proc = await (
      await app.request(`/api/v1/records/${r.id}/around?before=1&after=1&sameProcess=true`)
    ).json()
    expect(proc.before.map(uid)).toEqual([18])
    const names = await (await app.request("/api/v1/records/loggers?prefix=app.db")).json()
    expect(names).toEqual([
      { name: "app.db", count: 10 },
      { name: "app.db.pool", count: 10 },
    ])
  })
})

describe("retention", () => {
  test("deletes records older than the retention in batches, keeps the rest", async () => {
    const ctx = {
      db: app.db,
      writer: app.host.writer,
      settings: { retentionDays: 1, maxBytes: 0 },
      now: () => app.clock.now(),
      metrics: { increment() {} },
      log: { info() {} },
    } as unknown as RecordsContext
    const old = Array.from({ length: 7 }, (_, i) =>
      JSON.stringify({ name: "old", msg: "m", levelno: 20, created: T0 - 3 * 86400 - i }),
    ).join("\n")
    await app.request("/api/v1/records", {
      method: "POST",
      body: old,
      headers: { "content-type": "application/x-ndjson" },
    })
    expect(await applyRetention(ctx, 3)).toBe(7)
    const left = await app.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM records_records")
    expect(Number(left?.n)).toBe(40)
    // size budget: half of the current size → about half of the rows go, the oldest first
    const size = await recordsBytes(app.db)
    const ids = async () =>
      (await app.db.all<{ id: number }>("SELECT id FROM records_records ORDER BY ts, id")).map((r) =>
        Number(r.id),
      )
    const all = await ids()
    const budgetCtx = {
      ...ctx,
      settings: { retentionDays: 0, maxBytes: Math.floor(size / 2) },
    } as RecordsContext
    const gone = await applyRetention(budgetCtx, 4)
    expect(gone).toBeGreaterThan(0)
    expect(gone).toBeLessThan(40)
    expect(await ids()).toEqual(all.slice(gone))
    if (app.db.dialect === "sqlite") {
      // the full-text index follows deletions
      const fts = await app.db.get<{ n: number }>(
        "SELECT COUNT(*) AS n FROM records_fts WHERE records_fts MATCH 'm'",
      )
      expect(Number(fts?.n)).toBe(0)
    }
  })
})
