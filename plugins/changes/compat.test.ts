/**
 * prezi/changelog wire compatibility over real HTTP: each public client's exact bytes and headers
 * (reference §3), every conformance test of §8, bad inputs (nothing stored), auth, Grafana routes.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test"
import { connect } from "node:net"
import { runInNewContext } from "node:vm"
import { gunzipSync } from "node:zlib"
import { createToken } from "../../src/auth/tokens"
import { createTestApp, type TestApp } from "../../test/support"
import { LEGACY_SCRIPT, viewUrlFromLegacy } from "./legacy"
import changes from "./plugin"

interface RawResponse {
  status: number
  headers: Record<string, string>
  body: Buffer
}

/** Sends exactly these bytes and reads one response (the request asks the server to close). */
function raw(base: string, head: string, body: Buffer | string = ""): Promise<RawResponse> {
  const { hostname, port } = new URL(base)
  const bodyBuf = typeof body === "string" ? Buffer.from(body, "utf8") : body
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const sock = connect(Number(port), hostname, () => {
      sock.write(Buffer.concat([Buffer.from(head.replace(/\n/g, "\r\n"), "latin1"), bodyBuf]))
    })
    sock.on("data", (c: Buffer) => chunks.push(c))
    sock.on("error", reject)
    sock.on("end", () => {
      const all = Buffer.concat(chunks)
      const split = all.indexOf("\r\n\r\n")
      const lines = all.subarray(0, split).toString("latin1").split("\r\n")
      const headers: Record<string, string> = {}
      for (const l of lines.slice(1)) {
        const i = l.indexOf(":")
        headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim()
      }
      let rest = all.subarray(split + 4)
      if (headers["transfer-encoding"] === "chunked") {
        const parts: Buffer[] = []
        for (;;) {
          const eol = rest.indexOf("\r\n")
          const n = Number.parseInt(rest.subarray(0, eol).toString(), 16)
          if (!n) break
          parts.push(rest.subarray(eol + 2, eol + 2 + n))
          rest = rest.subarray(eol + 2 + n + 2)
        }
        rest = Buffer.concat(parts)
      }
      resolve({ status: Number(lines[0].split(" ")[1]), headers, body: rest })
    })
  })
}

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0)
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`

/** The six clients: headers in their order, exact body bytes (reference §3). */
function clients(host: string) {
  const req = (headers: string[], body: Buffer) => ({
    head: `POST /api/events HTTP/1.1\n${headers.join("\n")}\nContent-Length: ${body.length}\nConnection: close\n\n`,
    body,
  })
  const utf8 = (s: string) => Buffer.from(s, "utf8")
  return {
    bash: req(
      [`Host: ${host}`, "User-Agent: curl/7.88.1", "Accept: */*", "Content-Type: application/json"],
      utf8(
        '{"criticality": "5", "unix_timestamp": "1795342058", "category": "deploy", "description": "Manually restarting "all" app servers"}',
      ),
    ),
    python: req(
      [
        `Host: ${host}`,
        "User-Agent: ccp/client v.1.1",
        "Accept-Encoding: gzip, deflate",
        "Accept: */*",
        "Content-Type: application/json",
        `Authorization: ${basic("logger", "")}`,
      ],
      utf8(
        '{"criticality": "5", "unix_timestamp": "1795342065", "category": "deploy", "description": "Msg with \\"quotes\\" and \\u00fcnicode", "field_1": "value1"}',
      ),
    ),
    ruby: req(
      [
        "Content-Type: application/json",
        "Accept-Encoding: gzip;q=1.0,deflate;q=0.6,identity;q=0.3",
        "Accept: */*",
        "User-Agent: ccp/client v.0.0.4",
        `Host: ${host}`,
      ],
      utf8(
        '{"criticality":8,"unix_timestamp":1795342071,"category":"deploy","description":"Msg \\"quoted\\" ünicode","environment":"prod"}',
      ),
    ),
    php: req(
      [
        `Host: ${host}`,
        `Authorization: ${basic("user", "pass")}`,
        "Content-Type: application/json",
        "Accept: */*",
      ],
      utf8('{"description":"hello","criticality":5,"category":"info","unix_timestamp":1795342074}'),
    ),
    java: req(
      [
        "content-type: application/json",
        `Host: ${host}`,
        "User-Agent: Apache-HttpClient/4.5.13 (Java/11.0.20)",
        "Accept-Encoding: gzip,deflate",
        `Authorization: ${basic("user", "pass")}`,
      ],
      Buffer.from(
        '{"criticality":1,"category":"misc","description":"test event für","unix_timestamp":1795342094}',
        "latin1",
      ),
    ),
    go: req(
      [
        `Host: ${host}`,
        "User-Agent: go-changelog/client",
        `Authorization: ${basic("user", "pass")}`,
        "Content-Type: application/json",
        "Accept-Encoding: gzip",
      ],
      utf8(
        '{"category":"misc","criticality":"1","description":"Server is behind BasicAuth!","environment":"production","unix_timestamp":"1795342078"}\n',
      ),
    ),
  }
}

const expected = {
  bash: [5, 1795342058, "deploy", 'Manually restarting "all" app servers'],
  python: [5, 1795342065, "deploy", 'Msg with "quotes" and ünicode'],
  ruby: [8, 1795342071, "deploy", 'Msg "quoted" ünicode'],
  php: [5, 1795342074, "info", "hello"],
  java: [1, 1795342094, "misc", "test event für"],
  go: [1, 1795342078, "misc", "Server is behind BasicAuth!"],
} as const

describe("changelog compatibility", () => {
  let app: TestApp
  let base: string
  const rows = () =>
    app.db.all<{
      criticality: number | null
      ts: number
      category: string | null
      description: string | null
    }>("SELECT criticality, ts, category, description FROM changes_events ORDER BY id")
  const post = (
    body: string | Uint8Array<ArrayBuffer>,
    headers: Record<string, string> = { "content-type": "application/json" },
  ) => fetch(`${base}/api/events`, { method: "POST", headers, body })
  const list = async (query: string) => {
    const r = await fetch(`${base}/api/events?${query}`)
    expect(r.status).toBe(200)
    return (await r.json()) as Array<{
      criticality: number
      unix_timestamp: number
      category: string
      description: string
    }>
  }

  beforeAll(async () => {
    app = await createTestApp({ plugins: [changes] })
    base = await app.listen()
  })
  afterAll(() => app.close())
  beforeEach(async () => {
    await app.db.run("DELETE FROM changes_events")
    app.clock.set(T0)
  })

  for (const name of Object.keys(expected) as Array<keyof typeof expected>) {
    test(`§8.1 the ${name} client's exact request → 201 "OK", one event stored`, async () => {
      const host = new URL(base).host
      const { head, body } = clients(host)[name]
      const r = await raw(base, head, body)
      expect(r.status).toBe(201)
      expect(r.headers["content-type"]).toStartWith("application/json")
      expect(JSON.parse(r.body.toString("utf8"))).toBe("OK")
      expect(r.body.toString("utf8")).toContain('"OK"') // ruby checks the quotes
      const stored = await rows()
      expect(stored.length).toBe(1)
      const [crit, ts, category, description] = expected[name]
      expect(stored[0]).toEqual({ criticality: crit, ts: ts * 1000, category, description })
      const listed = await list(`hours_ago=1&until=${ts}`)
      expect(listed).toEqual([{ criticality: crit, unix_timestamp: ts, category, description }])
    })
  }

  test("§8.2 non-integer criticality and a missing category → 400 naming the field, nothing stored", async () => {
    let r = await post('{"criticality":"2.5","unix_timestamp":1795342058,"category":"x","description":"d"}')
    expect(r.status).toBe(400)
    expect(((await r.json()) as { message: Record<string, string> }).message.criticality).toBe(
      "invalid literal for int() with base 10: '2.5'",
    )
    r = await post('{"criticality":1,"unix_timestamp":1795342058,"description":"d"}')
    expect(r.status).toBe(400)
    expect(await r.json()).toEqual({ message: { category: "Missing required parameter in the JSON body" } })
    expect(await rows()).toEqual([])
  })

  test("§8.3 window bounds are inclusive, newest first", async () => {
    const T = 1795340000
    await post(
      JSON.stringify({ criticality: 1, unix_timestamp: T - 36, category: "a", description: "older" }),
    )
    await post(JSON.stringify({ criticality: 1, unix_timestamp: T, category: "a", description: "newer" }))
    await post(
      JSON.stringify({ criticality: 1, unix_timestamp: T - 37, category: "a", description: "outside" }),
    )
    await post(JSON.stringify({ criticality: 1, unix_timestamp: T + 1, category: "a", description: "after" }))
    expect((await list(`hours_ago=0.01&until=${T}`)).map((e) => e.description)).toEqual(["newer", "older"])
    expect((await list(`hours_ago=0&until=${T}`)).map((e) => e.description)).toEqual(["newer"])
    expect(await list(`hours_ago=-1&until=${T}`)).toEqual([])
    expect(await list(`hours_ago=nan&until=${T}`)).toEqual([])
    expect((await list(`hours_ago=inf&until=${T}`)).length).toBe(3)
  })

  test("ties come back newest insert first", async () => {
    for (const d of ["first", "second"])
      await post(JSON.stringify({ criticality: 1, unix_timestamp: T0 / 1000, category: "a", description: d }))
    expect((await list("hours_ago=1")).map((e) => e.description)).toEqual(["second", "first"])
  })

  test("§8.4 until=-1 (or missing: §7 #1) has no upper bound", async () => {
    await post(
      JSON.stringify({
        criticality: 1,
        unix_timestamp: T0 / 1000 + 10,
        category: "a",
        description: "future",
      }),
    )
    await post(
      JSON.stringify({ criticality: 1, unix_timestamp: T0 / 1000 - 3601, category: "a", description: "old" }),
    )
    expect((await list("hours_ago=1&until=-1")).map((e) => e.description)).toEqual(["future"])
    expect((await list("hours_ago=1")).map((e) => e.description)).toEqual(["future"])
  })

  test("§8.5 criticality and category lists; categories are case-sensitive", async () => {
    const ts = T0 / 1000
    for (const [c, cat] of [
      [5, "deploy"],
      [4, "dns"],
      [3, "deploy"],
      [5, "misc"],
    ] as const)
      await post(
        JSON.stringify({ criticality: c, unix_timestamp: ts, category: cat, description: `${c}-${cat}` }),
      )
    const got = (await list("hours_ago=1&criticality=4,5&category=deploy,dns")).map((e) => e.description)
    expect(got.sort()).toEqual(["4-dns", "5-deploy"])
    expect(await list("hours_ago=1&category=Deploy")).toEqual([])
    expect((await list("hours_ago=1&criticality=4,,5")).length).toBe(3) // §7 #2 empty items ignored
    expect((await list("hours_ago=1&category=&description=")).length).toBe(4) // §7 #5
  })

  test("§8.6 description search: wildcards literal, case-insensitive", async () => {
    const ts = T0 / 1000
    for (const d of ["flag X flipped", "FLAG_Y flipped", "100% done", null])
      await post(JSON.stringify({ criticality: 1, unix_timestamp: ts, category: "a", description: d }))
    expect((await list("hours_ago=1&description=flag_")).map((e) => e.description)).toEqual([
      "FLAG_Y flipped",
    ])
    expect((await list("hours_ago=1&description=Flag")).length).toBe(2)
    expect((await list("hours_ago=1&description=%25")).map((e) => e.description)).toEqual(["100% done"])
  })

  test("description search folds case beyond ASCII (Ü matches ü, Σ matches σ)", async () => {
    const ts = T0 / 1000
    for (const d of ["Über-Deploy der Brücke", "ΣΥΣΤΗΜΑ restarted", "uber plain"])
      await post(JSON.stringify({ criticality: 1, unix_timestamp: ts, category: "i18n", description: d }))
    const found = async (q: string) =>
      (await list(`hours_ago=1&category=i18n&description=${encodeURIComponent(q)}`)).map((e) => e.description)
    expect(await found("über")).toEqual(["Über-Deploy der Brücke"])
    expect(await found("BRÜCKE")).toEqual(["Über-Deploy der Brücke"])
    expect(await found("σύστημα".normalize("NFD").replace(/\p{M}/gu, ""))).toEqual(["ΣΥΣΤΗΜΑ restarted"])
  })

  test("§8.7 + §7 #6 a Latin-1 body is decoded as ISO-8859-1", async () => {
    const body = Buffer.from(
      '{"criticality":1,"category":"misc","description":"Gr\xfc\xdfe","unix_timestamp":1795342094}',
      "latin1",
    )
    expect(body.includes(0xfc)).toBe(true)
    const r = await post(body)
    expect(r.status).toBe(201)
    expect((await rows())[0].description).toBe("Grüße")
  })

  test("coercions of the original: numeric strings, floats, booleans, nulls, any JSON for text", async () => {
    const r = await post(
      '{"criticality": true, "unix_timestamp": 1795342058.9, "category": 123, "description": {"a": [1, "x"]}, "extra": 1}',
    )
    expect(r.status).toBe(201)
    expect(await rows()).toEqual([
      { criticality: 1, ts: 1795342058000, category: "123", description: "{'a': [1, 'x']}" },
    ])
  })

  test("§7 #9/#10/#11 ms timestamps, null timestamp = receive time, null criticality kept", async () => {
    expect(
      (await post('{"criticality":null,"unix_timestamp":1795342058123,"category":"a","description":"ms"}'))
        .status,
    ).toBe(201)
    expect(
      (await post('{"criticality":2,"unix_timestamp":null,"category":"a","description":"now"}')).status,
    ).toBe(201)
    expect(await rows()).toEqual([
      { criticality: null, ts: 1795342058123, category: "a", description: "ms" },
      { criticality: 2, ts: T0, category: "a", description: "now" },
    ])
    const listed = await list("hours_ago=1")
    expect(listed.map((e) => [e.criticality as number | null, e.unix_timestamp])).toEqual([
      [null, 1795342058],
      [2, T0 / 1000],
    ])
  })

  test("§7 #13 with anonymous ingest any Authorization is ignored", async () => {
    const body = '{"criticality":1,"unix_timestamp":1795342058,"category":"a","description":"d"}'
    for (const authorization of ["Bearer not-a-token", basic("logger", ""), "Basic !!!"])
      expect((await post(body, { "content-type": "application/json", authorization })).status).toBe(201)
    expect((await rows()).length).toBe(3)
  })

  test("§7 #8 any Content-Type, JSON parsed anyway; a form body is not JSON → 400", async () => {
    const body = '{"criticality":1,"unix_timestamp":1795342058,"category":"a","description":"d"}'
    expect((await post(body, { "content-type": "text/plain" })).status).toBe(201)
    expect((await post(body, { "Content-Type": "APPLICATION/JSON; charset=UTF-8" })).status).toBe(201)
    const r = await post("criticality=1&unix_timestamp=1&category=a&description=d", {
      "content-type": "application/x-www-form-urlencoded",
    })
    expect(r.status).toBe(400)
    expect(await r.json()).toEqual({
      message: "The browser (or proxy) sent a request that this server could not understand.",
    })
    expect((await rows()).length).toBe(2)
  })

  test("bad inputs → 400 naming the problem, nothing stored", async () => {
    const missing = "Missing required parameter in the JSON body"
    const allMissing = {
      criticality: missing,
      unix_timestamp: missing,
      category: missing,
      description: missing,
    }
    const cases: Array<[string, string | object]> = [
      ["", "The browser (or proxy) sent a request that this server could not understand."],
      ["{not json", "The browser (or proxy) sent a request that this server could not understand."],
      ["{}", allMissing],
      ["[1,2]", allMissing],
      [
        '{"criticality":"abc","unix_timestamp":"2026-11-22T10:00:00Z","category":"a","description":"d"}',
        {
          criticality: "invalid literal for int() with base 10: 'abc'",
          unix_timestamp: "invalid literal for int() with base 10: '2026-11-22T10:00:00Z'",
        },
      ],
      [
        '{"criticality":{},"unix_timestamp":[],"category":"a","description":"d"}',
        {
          criticality: "int() argument must be a string, a bytes-like object or a real number, not 'dict'",
          unix_timestamp: "int() argument must be a string, a bytes-like object or a real number, not 'list'",
        },
      ],
      [
        JSON.stringify({
          criticality: 1,
          unix_timestamp: 1,
          category: "c".repeat(65),
          description: "d".repeat(10_001),
        }),
        {
          category: "Longer than the maximum of 64 characters (got 65)",
          description: "Longer than the maximum of 10000 characters (got 10001)",
        },
      ],
    ]
    for (const [body, msg] of cases) {
      const r = await post(body)
      expect(r.status).toBe(400)
      expect(r.headers.get("content-type")).toStartWith("application/json")
      expect(await r.json()).toEqual({ message: msg })
    }
    expect(await rows()).toEqual([])
    // the longest accepted values pass
    const ok = JSON.stringify({
      criticality: 1,
      unix_timestamp: 1,
      category: "c".repeat(64),
      description: "d".repeat(10_000),
    })
    expect((await post(ok)).status).toBe(201)
  })

  test("GET: malformed parameters → 400 in the original shape", async () => {
    const bad = async (q: string, field: string) => {
      const r = await fetch(`${base}/api/events?${q}`)
      expect(r.status).toBe(400)
      expect(Object.keys(((await r.json()) as { message: Record<string, string> }).message)).toEqual([field])
    }
    await bad("", "hours_ago")
    await bad("hours_ago=abc", "hours_ago")
    await bad("hours_ago=1&until=1.5", "until")
    await bad("hours_ago=1&criticality=4,abc", "criticality")
    await bad("hours_ago=1&limit=-3", "limit")
  })

  test("GET: opt-in limit, gzip for ≥ 500 bytes, HEAD, 405 with Allow", async () => {
    for (let i = 0; i < 20; i++)
      await post(
        JSON.stringify({
          criticality: 1,
          unix_timestamp: T0 / 1000 - i,
          category: "a",
          description: `event number ${i}`,
        }),
      )
    expect((await list("hours_ago=1&limit=3")).map((e) => e.description)).toEqual([
      "event number 0",
      "event number 1",
      "event number 2",
    ])
    const host = new URL(base).host
    const r = await raw(
      base,
      `GET /api/events?hours_ago=1 HTTP/1.1\nHost: ${host}\nAccept-Encoding: gzip\nConnection: close\n\n`,
    )
    expect(r.headers["content-encoding"]).toBe("gzip")
    expect(r.headers.vary).toContain("Accept-Encoding")
    expect(JSON.parse(gunzipSync(r.body).toString()).length).toBe(20)
    const small = await raw(
      base,
      `GET /api/events?hours_ago=1&limit=1 HTTP/1.1\nHost: ${host}\nAccept-Encoding: gzip\nConnection: close\n\n`,
    )
    expect(small.headers["content-encoding"]).toBeUndefined()
    const head = await fetch(`${base}/api/events?hours_ago=1`, { method: "HEAD" })
    expect(head.status).toBe(200)
    expect(head.headers.get("content-type")).toStartWith("application/json")
    for (const method of ["PUT", "PATCH", "DELETE"]) {
      const m = await fetch(`${base}/api/events`, { method, body: "{}" })
      expect(m.status).toBe(405)
      expect(m.headers.get("allow")).toBe("HEAD, GET, POST, OPTIONS")
    }
  })

  test("Grafana: /annotations with any ISO instant, /query → [] as JSON", async () => {
    await post(
      JSON.stringify({ criticality: 5, unix_timestamp: T0 / 1000, category: "deploy", description: "v2" }),
    )
    await post(
      JSON.stringify({ criticality: 1, unix_timestamp: T0 / 1000, category: "misc", description: "other" }),
    )
    const ask = (range: object, query?: string) =>
      fetch(`${base}/annotations`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ range, rangeRaw: range, annotation: { name: "changes", query } }),
      })
    let r = await ask({ from: "2026-11-22T09:00:00.000Z", to: "2026-11-22T11:00:00.000Z" }, "deploy,dns")
    expect(r.status).toBe(200)
    expect(await r.json()).toEqual([
      {
        annotation: { name: "changes", query: "deploy,dns" },
        time: T0,
        title: "v2",
        tags: ["criticality:5", "category:deploy"],
      },
    ])
    r = await ask({ from: "2026-11-22T10:00:00+01:00", to: "2026-11-22T11:00:00Z" }, "deploy")
    expect(((await r.json()) as unknown[]).length).toBe(1)
    r = await ask({ from: "2026-11-22T09:00:00Z", to: "2026-11-22T11:00:00Z" })
    expect(await r.json()).toEqual([])
    r = await ask({ from: "yesterday", to: "2026-11-22T11:00:00Z" }, "deploy")
    expect(r.status).toBe(400)
    expect(Object.keys(((await r.json()) as { message: object }).message)).toEqual(["range"])
    r = await fetch(`${base}/annotations`, { method: "POST", body: '{"range":{}}' })
    expect(r.status).toBe(400)
    const q = await fetch(`${base}/query`, { method: "POST", body: "{}" })
    expect(q.status).toBe(200)
    expect(q.headers.get("content-type")).toStartWith("application/json")
    expect(await q.json()).toEqual([])
  })

  test("/healthcheck: Nagios text; /healthcheck/ is not ours", async () => {
    let r = await fetch(`${base}/healthcheck`)
    expect([r.status, await r.text()]).toEqual([200, "1 FAIL: No record is found in the database."])
    await post(JSON.stringify({ criticality: 1, unix_timestamp: 1, category: "a", description: "d" }))
    r = await fetch(`${base}/healthcheck`)
    expect([r.status, await r.text()]).toEqual([200, "0 OK: There is at least one record in the database."])
    expect((await fetch(`${base}/healthcheck/`)).status).toBe(404)
  })

  test("§8.8 React query string on / and legacy #fragment map to the same view", async () => {
    const r = await fetch(
      `${base}/?category=a%2Cb&criticality=4%2C5&description=&hours_ago=4&until=1795342058`,
      {
        redirect: "manual",
      },
    )
    expect(r.status).toBe(302)
    const location = r.headers.get("location")
    expect(location).toBe("/ui/changes?window=4h&until=1795342058&criticality=4%2C5&category=a%2Cb")
    expect(viewUrlFromLegacy(new URLSearchParams("hours_ago=4&until=1795342058&category=a%2Cb"))).toBe(
      "/ui/changes?window=4h&until=1795342058&category=a%2Cb",
    )
    // the browser-side translation of the AngularJS fragment (our own static script), run in a sandbox
    // whose only global is a stub location
    const replaced: string[] = []
    const run = (hash: string) =>
      runInNewContext(LEGACY_SCRIPT, {
        location: { hash, replace: (u: string) => replaced.push(u) },
        URLSearchParams,
        encodeURIComponent,
      })
    run("#hours_ago=4&until=1795342058&category=a,b")
    run("#hours_ago=1&until=-1&is_dashboard=1&description=db+migration")
    run("#/some/route")
    expect(replaced).toEqual([
      "/ui/changes?window=4h&until=1795342058&category=a%2Cb",
      "/ui/changes?window=1h&q=db+migration&dashboard=1",
    ])
    expect((await fetch(`${base}/`, { redirect: "manual" })).status).toBe(200)
  })
})

describe("ingest authentication (§7 #13)", () => {
  let app: TestApp
  let base: string
  let token: string
  const body = '{"criticality":1,"unix_timestamp":1795342058,"category":"a","description":"d"}'
  beforeAll(async () => {
    app = await createTestApp({
      plugins: [changes],
      env: { LOGBOOK_ANONYMOUS: "read", LOGBOOK_MAX_BODY_BYTES: "2048" },
    })
    base = await app.listen()
    token = (await createToken(app.db, { name: "ci", roles: ["ingest"], now: T0 })).token
  })
  afterAll(() => app.close())

  test("anonymous → 401 in the changelog shape; Basic with a token as password → 201", async () => {
    let r = await fetch(`${base}/api/events`, { method: "POST", body })
    expect(r.status).toBe(401)
    expect(typeof ((await r.json()) as { message: string }).message).toBe("string")
    r = await fetch(`${base}/api/events`, {
      method: "POST",
      body,
      headers: { authorization: basic("logger", "nope") },
    })
    expect(r.status).toBe(401)
    r = await fetch(`${base}/api/events`, {
      method: "POST",
      body,
      headers: { authorization: basic("ci", token) },
    })
    expect(r.status).toBe(201)
    const readOnly = (await createToken(app.db, { name: "ro", roles: ["read"], now: T0 })).token
    r = await fetch(`${base}/api/events`, {
      method: "POST",
      body,
      headers: { authorization: `Bearer ${readOnly}` },
    })
    expect(r.status).toBe(403)
    const n = await app.db.get<{ n: number }>("SELECT count(*) AS n FROM changes_events")
    expect(Number(n?.n)).toBe(1)
  })

  test("a body over LOGBOOK_MAX_BODY_BYTES → 413, nothing stored", async () => {
    const before = Number((await app.db.get<{ n: number }>("SELECT count(*) AS n FROM changes_events"))?.n)
    const big = JSON.stringify({
      criticality: 1,
      unix_timestamp: 1,
      category: "a",
      description: "x".repeat(4000),
    })
    const r = await fetch(`${base}/api/events`, {
      method: "POST",
      body: big,
      headers: { authorization: basic("ci", token) },
    })
    expect(r.status).toBe(413)
    const after = Number((await app.db.get<{ n: number }>("SELECT count(*) AS n FROM changes_events"))?.n)
    expect(after).toBe(before)
  })

  test("any body over the limit → 413 in the changelog shape with the request id, never read", async () => {
    const host = new URL(base).host
    // a declared 100 MB (once Bun's own bare 413) and a chunked one; only the start is sent
    for (const [path, framing, body] of [
      ["/api/events", "Content-Length: 104857600", "x".repeat(4096)],
      ["/annotations", "Transfer-Encoding: chunked", `1000\r\n${"y".repeat(4096)}\r\n0\r\n\r\n`],
      ["/api/events/", "Content-Length: 2049", "z".repeat(2049)],
    ] as const) {
      const r = await raw(
        base,
        `POST ${path} HTTP/1.1\nHost: ${host}\nX-Request-ID: big-${path.length}\n${framing}\nConnection: close\n\n`,
        body,
      )
      expect({ path, status: r.status }).toEqual({ path, status: 413 })
      expect(r.headers["x-request-id"]).toBe(`big-${path.length}`)
      expect(JSON.parse(r.body.toString())).toEqual({ message: "The body is larger than 2048 bytes." })
    }
  })
})

describe("/healthcheck when the database raises (§7 #18)", () => {
  test("503 with the original's third body", async () => {
    const app = await createTestApp({ plugins: [changes] })
    try {
      await app.db.exec("DROP TABLE changes_events")
      const r = await app.request("/healthcheck")
      expect(r.status).toBe(503)
      expect(await r.text()).toStartWith("1 FAIL: Some exception occured:\n ")
    } finally {
      await app.close()
    }
  })
})
