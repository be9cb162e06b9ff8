// The bench harness's wrk glue: the generated Lua really sends the method, headers, rotated bodies and
// `Connection: close` (checked by a local server that records what arrives), and `--latency` output parses.
import { afterAll, describe, expect, test } from "bun:test"
import { luaString, parseWrk, runWrk, wrkAvailable, wrkScript } from "./wrk"

const SAMPLE = `Running 2s test @ http://127.0.0.1:18940/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.90ms    4.68ms  38.91ms   86.24%
    Req/Sec     4.97k     4.32k   12.35k    74.36%
  Latency Distribution
     50%  463.00us
     75%    3.95ms
     90%    9.26ms
     99%    1.02s
  19465 requests in 2.01s, 2.39MB read
  Socket errors: connect 0, read 19457, write 1, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:   9662.25
Transfer/sec:      1.19MB
`

describe("wrk output", () => {
  test("parses rate, percentiles in any unit, errors and non-2xx", () => {
    expect(parseWrk(SAMPLE)).toEqual({
      requestsPerSec: 9662.25,
      p50Ms: 0.463,
      p75Ms: 3.95,
      p90Ms: 9.26,
      p99Ms: 1020,
      requests: 19465,
      seconds: 2.01,
      non2xx: 7,
      socketErrors: { connect: 0, read: 19457, write: 1, timeout: 2 },
    })
  })

  test("refuses output without a latency distribution", () => {
    expect(() => parseWrk("Requests/sec: 1\n  1 requests in 1.00s, 1KB read\n")).toThrow("50%")
  })

  test("Lua strings keep any byte", () => {
    expect(luaString('a"b\\c\n\u00e9')).toBe('"a\\034b\\092c\\010\\195\\169"')
    expect(wrkScript({ method: "GET", path: "/" })).toBeUndefined()
  })
})

describe.skipIf(!wrkAvailable())("wrk against a recording server", () => {
  const seen: Array<{ method: string; body: string; type: string | null; connection: string | null }> = []
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      seen.push({
        method: req.method,
        body: await req.text(),
        type: req.headers.get("content-type"),
        connection: req.headers.get("connection"),
      })
      return new Response("ok")
    },
  })
  afterAll(() => server.stop(true))

  test("POST with rotated bodies, a header and Connection: close", async () => {
    const bodies = ['{"n":1}', '{"n":2}', 'line "3"\nwith é']
    const r = await runWrk({
      url: `http://127.0.0.1:${server.port}/ingest`,
      request: {
        method: "POST",
        path: "/ingest",
        headers: { "Content-Type": "application/json" },
        body: bodies,
      },
      keepAlive: false,
      connections: 2,
      durationSeconds: 1,
    })
    expect(r.requests).toBeGreaterThan(3)
    expect(new Set(seen.map((s) => s.method))).toEqual(new Set(["POST"]))
    expect(new Set(seen.map((s) => s.body))).toEqual(new Set(bodies))
    expect(seen.every((s) => s.type === "application/json" && s.connection === "close")).toBe(true)
  }, 15_000)

  test("{{now}} in a body is the current Unix time in seconds, request by request", async () => {
    seen.length = 0
    const before = Math.floor(Date.now() / 1000)
    await runWrk({
      url: `http://127.0.0.1:${server.port}/stamped`,
      request: { method: "POST", path: "/stamped", body: '{"unix_timestamp":{{now}}}' },
      connections: 1,
      durationSeconds: 1,
    })
    const after = Math.ceil(Date.now() / 1000)
    expect(seen.length).toBeGreaterThan(3)
    for (const s of seen) {
      const ts = JSON.parse(s.body).unix_timestamp
      expect(ts).toBeGreaterThanOrEqual(before)
      expect(ts).toBeLessThanOrEqual(after)
    }
  }, 15_000)

  test("only 127.0.0.1 is ever loaded", async () => {
    await expect(runWrk({ url: "http://localhost:1/", connections: 1, durationSeconds: 1 })).rejects.toThrow(
      "only loads 127.0.0.1",
    )
  })
})
