/**
 * The Chronologer surface over a real port, fed by Python's own logging.handlers.HTTPHandler.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { brotliDecompressSync, gunzipSync } from "node:zlib"
import { createTestApp, type TestApp } from "../../test/support"
import { pyJson } from "./compat"
import records from "./plugin"

let app: TestApp
let base: string

beforeAll(async () => {
  app = await createTestApp({
    plugins: [records],
    env: { LOGBOOK_RECORDS_MAX_MESSAGE_BYTES: "20000", LOGBOOK_RECORDS_BASIC_USERS: "logger:" },
  })
  base = await app.listen()
})
afterAll(() => app.close())

const head = (query = "") => app.request(`/api/v1/record${query}`, { method: "HEAD" })
const count = async (query = "") => Number((await head(query)).headers.get("x-record-count"))
const rows = async () =>
  Number((await app.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM records_records"))?.n)
const newest = async () => (await (await app.request("/api/v1/record?left=0&right=0")).json())[0]

async function python(script: string): Promise<string> {
  const proc = Bun.spawn(["python3", "-c", script], {
    env: { ...process.env, PORT: new URL(base).port },
    stdout: "pipe",
    stderr: "pipe",
  })
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  if (code !== 0 || err.includes("Logging error")) throw new Error(`python failed (${code}): ${err}`)
  return out
}

const PRELUDE = `
import logging, logging.handlers, os, sys, queue
port = os.environ["PORT"]
log = logging.getLogger("app.jobs")
log.setLevel(logging.DEBUG)
log.propagate = False
http = logging.handlers.HTTPHandler("127.0.0.1:" + port, "/api/v1/record", "POST", credentials=("logger", ""))
`

const post = (body: string, type: string, query = "", headers: Record<string, string> = {}) =>
  app.request(`/api/v1/record${query}`, {
    method: "POST",
    body,
    headers: { "content-type": type, ...headers },
  })

describe("POST from HTTPHandler", () => {
  test("plain record with extra: Chronologer's shape, interpolated message, typed values", async () => {
    const before = await rows()
    await python(`${PRELUDE}
log.addHandler(http)
log.info("Hello %s #%d", "wörld", 42, extra={"user_id": 7, "tags": ["a", "b"], "flag": True, "big": 2**70})
`)
    expect(await rows()).toBe(before + 1)
    const res = await app.request("/api/v1/record?left=0&right=0")
    const text = await res.text()
    expect(text).toContain('"message": "Hello w\\u00f6rld #42"')
    expect(text.startsWith('[{"name": "app.jobs", "ts": "')).toBe(true)
    const [r] = JSON.parse(text)
    expect(Object.keys(r)).toEqual(["name", "ts", "level", "message", "logrec", "id"])
    expect(r.ts).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?\+00:00$/)
    expect(r.level).toBe(20)
    expect(r.logrec.data).toEqual({ user_id: 7, tags: ["a", "b"], flag: true, big: "1180591620717411303424" })
    expect(r.logrec.meta.msg).toBe("Hello %s #%d")
    expect(r.logrec.meta.args).toEqual(["wörld", 42])
    expect(r.logrec.meta.funcName).toBe("<module>")
    expect(typeof r.logrec.meta.thread).toBe("number")
    expect(r.logrec.meta.stack_info).toBeNull()
    expect(r.logrec.error).toBeUndefined()
    expect(r.logrec.meta.levelname).toBeUndefined()
  })

  test("exception with a lone HTTPHandler keeps exc_info; with a formatter first also the traceback", async () => {
    await python(`${PRELUDE}
log.addHandler(http)
try:
    {}["missing"]
except KeyError:
    log.exception("Lookup failed for %s", "missing")
`)
    const lone = await newest()
    expect(lone.level).toBe(40)
    expect(lone.message).toBe("Lookup failed for missing")
    expect(lone.logrec.error.exc_info).toContain("KeyError")
    expect(lone.logrec.error.exc_text).toBeUndefined()

    await python(`${PRELUDE}
stream = logging.StreamHandler(sys.stdout)
stream.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
log.addHandler(stream)
log.addHandler(http)
try:
    {}["missing"]
except KeyError:
    log.exception("Lookup failed for %s", "missing")
`)
    const formatted = await newest()
    expect(formatted.message).toBe("Lookup failed for missing")
    expect(formatted.logrec.error.exc_text).toContain("Traceback (most recent call last)")
    expect(formatted.logrec.error.exc_text).toContain("KeyError: 'missing'")
    expect(formatted.logrec.data?.asctime).toBeUndefined()
  })

  test("behind QueueHandler/QueueListener: the formatted text with traceback arrives", async () => {
    await python(`${PRELUDE}
q = queue.Queue(-1)
listener = logging.handlers.QueueListener(q, http)
log.addHandler(logging.handlers.QueueHandler(q))
listener.start()
log.warning("queued %d", 5)
try:
    1 / 0
except ZeroDivisionError:
    log.exception("division")
listener.stop()
`)
    const res = await (await app.request("/api/v1/record?left=0&right=1")).json()
    expect(res[1].message).toBe("queued 5")
    expect(res[1].level).toBe(30)
    expect(res[0].message).toContain("division\nTraceback (most recent call last)")
    expect(res[0].message).toContain("ZeroDivisionError")
    // QueueHandler sends exc_info and exc_text as None: the traceback is taken from the formatted message
    expect(res[0].logrec.error.exc_text).toStartWith("Traceback (most recent call last):\n")
    expect(res[0].logrec.error.exc_text).toContain("ZeroDivisionError: division by zero")
    expect(res[1].logrec.error).toBeUndefined()
  })

  test("a NUL character is stored as U+FFFD, the record kept (PostgreSQL text cannot hold U+0000)", async () => {
    await python(`${PRELUDE}
log.addHandler(http)
log.error("payload %s", "a\\x00b", extra={"blob": "z\\x00"})
`)
    const r = await newest()
    expect(r.message).toBe("payload a\ufffdb")
    expect(r.logrec.data.blob).toBe("z\ufffd")
  })

  test("text fields stay text: msg '123', 'None', '[1, 2]' are stored as given", async () => {
    await python(`${PRELUDE}
log.addHandler(http)
log.info("123")
log.info("None")
log.info("[1, 2]")
log.info("100%")
`)
    const res = await (await app.request("/api/v1/record?left=0&right=3")).json()
    expect(res.map((r: { message: string }) => r.message)).toEqual(["100%", "[1, 2]", "None", "123"])
    expect(res[2].logrec.meta.msg).toBe("None")
  })

  test("GET mode on the dedicated ingestion path", async () => {
    await python(`${PRELUDE}
log.addHandler(logging.handlers.HTTPHandler("127.0.0.1:" + port, "/api/v1/record/ingest", "GET"))
log.error("via GET %s", "mode", extra={"n": 1})
`)
    const r = await newest()
    expect(r.message).toBe("via GET mode")
    expect(r.logrec.data).toEqual({ n: 1 })
  })

  test("a message over the limit is refused with 413 and nothing is stored", async () => {
    const before = await rows()
    await python(`${PRELUDE}
log.addHandler(http)
log.info("x" * 30000)
`)
    expect(await rows()).toBe(before)
    expect(app.logs.some((l) => l.msg === "record rejected" && String(l.fields?.reason) === "size")).toBe(
      true,
    )
    const res = await post(
      `name=a&levelno=20&created=1&msg=${"y".repeat(20001)}&args=()`,
      "application/x-www-form-urlencoded",
    )
    expect(res.status).toBe(413)
    expect((await res.json()).error.message).toContain("LOGBOOK_RECORDS_MAX_MESSAGE_BYTES")
    expect(await rows()).toBe(before)
  })
})

describe("POST bodies", () => {
  test("a body over LOGBOOK_MAX_BODY_BYTES: 413 in Chronologer's error shape before it is read, nothing stored", async () => {
    const before = await rows()
    const limit = app.config.maxBodyBytes
    const res = await fetch(`${base}/api/v1/record`, {
      method: "POST",
      body: `name=big&levelno=20&created=1&msg=${"z".repeat(limit)}`,
      headers: { "content-type": "application/x-www-form-urlencoded", "x-request-id": "too-big-1" },
    })
    expect(res.status).toBe(413)
    expect(res.headers.get("x-request-id")).toBe("too-big-1")
    const body = await res.json()
    expect(body.error.type).toBe("RecordTooLarge")
    expect(body.error.message).toContain("LOGBOOK_MAX_BODY_BYTES")
    expect(await rows()).toBe(before)
  })

  const form =
    "name=app.form&msg=m&args=%28%29&levelno=20&created=1795343958.6686625&exc_info=None&exc_text=None"

  test("form with header names in any case; 201 answers the created record; ts computed once", async () => {
    const res = await post(form, "Application/X-WWW-Form-Urlencoded; charset=utf-8")
    expect(res.status).toBe(201)
    const created = await res.json()
    expect(created.ts).toBe("2026-11-22 10:39:18.668663+00:00") // as Python's datetime.fromtimestamp rounds
    const again = await (await app.request(`/api/v1/record/${created.id}`)).json()
    expect(again).toEqual(created)
  })

  test("the verbatim Python 3.12 body of python-httphandler.md §9 → Chronologer's §5 record (defects fixed)", async () => {
    const body =
      "name=app.jobs&msg=Hello+%25s+%23%25d&args=%28%27w%C3%B6rld%27%2C+42%29&levelname=INFO&levelno=20&pathname=%2Fsrv%2Fapp%2Fjobs.py&filename=jobs.py&module=jobs&exc_info=None&exc_text=None&stack_info=None&lineno=6&funcName=%3Cmodule%3E&created=1795343959.5668774&msecs=566.0&relativeCreated=11.433124542236328&thread=139688504195968&threadName=MainThread&processName=MainProcess&process=6074&taskName=None&user_id=7&tags=%5B%27a%27%2C+%27b%27%5D&flag=True"
    const res = await post(body, "application/x-www-form-urlencoded", "", {
      "Accept-Encoding": "identity",
      Authorization: "Basic bG9nZ2VyOg==",
    })
    expect(res.status).toBe(201)
    const text = await res.text()
    expect(text).toStartWith(
      '{"name": "app.jobs", "ts": "2026-11-22 10:39:19.566877+00:00", "level": 20, "message": "Hello w\\u00f6rld #42", "logrec": {',
    )
    const r = JSON.parse(text)
    expect(r.logrec).toEqual({
      data: { user_id: 7, tags: ["a", "b"], flag: true },
      meta: {
        msg: "Hello %s #%d",
        args: ["wörld", 42],
        pathname: "/srv/app/jobs.py",
        filename: "jobs.py",
        module: "jobs",
        exc_info: null,
        exc_text: null,
        stack_info: null,
        lineno: 6,
        funcName: "<module>",
        msecs: 566,
        relativeCreated: 11.433124542236328,
        thread: 139688504195968,
        threadName: "MainThread",
        processName: "MainProcess",
        process: 6074,
        taskName: null,
      },
    })
    expect(text).toEndWith(`, "id": ${r.id}}`)
  })

  test("JSON: one object, values as they are", async () => {
    const res = await post(
      JSON.stringify({
        name: "app.json",
        msg: "n=%d",
        args: [3],
        levelno: "WARNING",
        created: 1795343958,
        user: "ü",
      }),
      "application/json",
    )
    expect(res.status).toBe(201)
    const r = await res.json()
    expect(r).toMatchObject({ name: "app.json", message: "n=3", level: 30, ts: "2026-11-22 10:39:18+00:00" })
    expect(r.logrec.data).toEqual({ user: "ü" })
  })

  test("NDJSON: ids of all lines; an invalid line stores nothing", async () => {
    const line = (i: number) =>
      JSON.stringify({ name: "app.nd", msg: `line ${i}`, levelno: 20, created: 1795343958 + i })
    const ok = await post(`${line(1)}\n${line(2)}\n`, "application/x-ndjson")
    expect(ok.status).toBe(201)
    const ids = await ok.json()
    expect(ids).toHaveLength(2)
    expect(ids[1]).toBe(ids[0] + 1)
    const before = await rows()
    const bad = await post(`${line(3)}\n{"name": \n${line(4)}`, "application/x-ndjson")
    expect(bad.status).toBe(400)
    expect((await bad.json()).error.message).toBe("Invalid JSON document on line 2")
    expect(await rows()).toBe(before)
  })

  test("NDJSON without Content-Length → 411", async () => {
    const port = new URL(base).port
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port: Number(port),
      socket: {
        data(s, d) {
          ;(s.data as { out: string[] }).out.push(Buffer.from(d).toString())
        },
      },
      data: { out: [] as string[] },
    })
    const body = '{"name":"x","msg":"m","levelno":20,"created":1}\n'
    socket.write(
      `POST /api/v1/record HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
    )
    const deadline = Date.now() + 5000
    while (!(socket.data as { out: string[] }).out.join("").includes("\r\n\r\n") && Date.now() < deadline)
      await Bun.sleep(10)
    socket.end()
    expect((socket.data as { out: string[] }).out.join("")).toStartWith("HTTP/1.1 411")
  })

  test("other content types → 415 with Chronologer's message", async () => {
    const before = await rows()
    const res = await post("hello", "text/plain")
    expect(res.status).toBe(415)
    expect((await res.json()).error.message).toBe(
      "Supported content types: application/x-www-form-urlencoded, application/json, application/x-ndjson",
    )
    expect(await rows()).toBe(before)
  })

  test("missing keys and bad levels → 400 naming the problem", async () => {
    const before = await rows()
    const missing = await post("name=a&msg=m&levelno=20", "application/x-www-form-urlencoded")
    expect(missing.status).toBe(400)
    expect(await missing.json()).toEqual({
      error: { type: "ModelError", message: 'Key "created" is missing' },
    })
    for (const level of ["LOUD", "300", "None", "2.5"]) {
      const res = await post(`name=a&msg=m&created=1&levelno=${level}`, "application/x-www-form-urlencoded")
      expect(res.status).toBe(400)
    }
    expect((await post("{", "application/json")).status).toBe(400)
    expect(await rows()).toBe(before)
  })

  test("raw=1 keeps the dict as it is, level INFO", async () => {
    const res = await post(
      JSON.stringify({ name: "raw.one", message: "as is", levelno: 50, k: [1] }),
      "application/json",
      "?raw=1",
    )
    expect(res.status).toBe(201)
    const r = await res.json()
    expect(r.level).toBe(20)
    expect(r.message).toBe("as is")
    expect(r.logrec).toEqual({ name: "raw.one", message: "as is", levelno: 50, k: [1] })
  })

  test("the fast route (real port, plain POST) and the router (here: with an Origin) answer alike", async () => {
    const body = `${form}&user=%C3%BC`
    const headers = {
      "content-type": "application/x-www-form-urlencoded",
      authorization: "Basic bG9nZ2VyOg==",
    }
    const strip = (text: string) => text.replace(/"id": \d+/, '"id": 0')
    for (const query of ["", "?raw=1"]) {
      const fast = await fetch(`${base}/api/v1/record${query}`, { method: "POST", body, headers })
      const routed = await post(body, headers["content-type"], query, { origin: "http://elsewhere.example" })
      expect([fast.status, routed.status]).toEqual([201, 201])
      expect(strip(await fast.text())).toBe(strip(await routed.text()))
    }
    const before = await rows()
    const refused = await fetch(`${base}/api/v1/record`, {
      method: "POST",
      body: "x",
      headers: { "content-type": "text/plain" },
    })
    expect(refused.status).toBe(415)
    const nd = await fetch(`${base}/api/v1/record`, {
      method: "POST",
      body: '{"name": "a", "msg": "m", "levelno": 20}\n',
      headers: { "content-type": "application/x-ndjson" },
    })
    expect(nd.status).toBe(400)
    expect((await nd.json()).error.message).toBe('line 1: Key "created" is missing')
    expect(await rows()).toBe(before)
  })

  test("pyJson writes what Python's json.dumps writes", async () => {
    const values: unknown[] = [
      { name: "a", list: [1, 2, [], {}], nested: { "k:ey, with": 'v "q" \\ \\" : ,', "ü-key": "ö" } },
      [
        "tab\tnew\nline",
        "\u007f del",
        "emoji 😀",
        "ctl \u0001",
        "lone \ud800 surrogate",
        "<>&'",
        "",
        null,
        true,
        false,
      ],
      { numbers: [0, -1, 2.5, 1e21, 123456789012345, -0.125] },
      "a string, with: separators",
      [],
      {},
    ]
    const out = await python(
      `
import json, sys
for line in sys.stdin.read().splitlines():
    print(json.dumps(json.loads(line)))
`.replace("sys.stdin.read()", JSON.stringify(values.map((v) => JSON.stringify(v)).join("\n"))),
    )
    expect(out.trimEnd().split("\n")).toEqual(values.map((v) => pyJson(v)))
  })

  test("other methods → 405 with Allow", async () => {
    const res = await app.request("/api/v1/record", { method: "DELETE" })
    expect(res.status).toBe(405)
    expect(res.headers.get("allow")).toBe("GET, HEAD, POST")
  })
})

describe("reads", () => {
  // a fresh set of records far from the others: 2017-06-17, one hour apart ending 23:14:37Z
  const end = Date.UTC(2017, 5, 17, 23, 14, 37) / 1000
  const window = "after=2017-06-17T00:00:00Z&before=2017-06-18T23:59:59Z"

  beforeAll(async () => {
    const lines = [3, 2, 1, 0].map((h) =>
      JSON.stringify({
        name: h % 2 ? "svc.a" : "svc.b_x",
        msg: `r${h}`,
        levelno: 10 + 10 * h,
        created: end - 3600 * h,
        foo: 387 + h,
        lineno: 20,
      }),
    )
    // a tie on ts: ids break it
    lines.push(JSON.stringify({ name: "svc.a", msg: "tie", levelno: 20, created: end, foo: 0 }))
    expect((await post(lines.join("\n"), "application/x-ndjson")).status).toBe(201)
  })

  test("HEAD count with filters; Cache-Control no-cache", async () => {
    const res = await head(`?${window}`)
    expect(res.status).toBe(200)
    expect(res.headers.get("x-record-count")).toBe("5")
    expect(res.headers.get("cache-control")).toBe("no-cache")
    expect(await count(`?${window}&level=30`)).toBe(2)
    expect(await count(`?${window}&level=warning`)).toBe(2)
    expect(await count(`?${window}&name=svc.a`)).toBe(3)
    expect(await count(`?${window}&name=svc.b_,%20nothing`)).toBe(2)
    expect(await count(`?${window}&name=svc%25`)).toBe(0) // % is literal, not a wildcard
    expect(await count(`?after=${end}&before=${end}`)).toBe(2) // epoch seconds, inclusive
    expect(await count(`?after=2017-06-18T01:14:37%2B02:00&before=2017-06-17T23:14:37.000000Z`)).toBe(2)
    expect((await head("?after=2024-02-29T00:00:00Z")).status).toBe(200) // a leap day is a day
  })

  test("bad filters → 400 with X-Error headers", async () => {
    for (const q of [
      "after=yesterday",
      "before=2026-02-31T00:00:00Z", // no such day (not 3 March)
      "after=2026-04-31T12:00:00%2B02:00",
      "level=loud",
      "group=week",
      "group=hour&timezone=Mars/Base",
    ]) {
      const res = await head(`?${q}`)
      expect(res.status).toBe(400)
      expect(res.headers.get("x-error-type")).toBeTruthy()
      expect(res.headers.get("x-error-message")).toBeTruthy()
    }
  })

  test("timeline: Chronologer's example in Europe/Amsterdam", async () => {
    const hour = await head(`?${window}&name=svc.&level=10&group=hour&timezone=Europe/Amsterdam`)
    expect(hour.headers.get("x-record-group")).toBe("1497729600,1497733200,1497736800,1497740400")
    expect(hour.headers.get("x-record-count")).toBe("1,1,1,2")
    const day = await head(`?${window}&group=day&timezone=Europe/Amsterdam`)
    expect(day.headers.get("x-record-group")).toBe("1497650400,1497736800")
    expect(day.headers.get("x-record-count")).toBe("2,3")
    const utc = await head(`?${window}&group=day`)
    expect(utc.headers.get("x-record-group")).toBe(String(Date.UTC(2017, 5, 17) / 1000))
    const none = await head("?after=1990-01-01T00:00:00Z&before=1990-01-02T00:00:00Z&group=hour")
    expect(none.headers.get("x-record-group")).toBe("")
    expect(none.headers.get("x-record-count")).toBe("")
  })

  test("GET left/right: inclusive offsets, newest first, ts DESC then id DESC; bad bounds", async () => {
    const res = await app.request(`/api/v1/record?${window}&left=0&right=2`)
    expect(res.headers.get("cache-control")).toBe("no-cache")
    const got = await res.json()
    expect(got.map((r: { message: string }) => r.message)).toEqual(["tie", "r0", "r1"])
    expect(got[0].id).toBeGreaterThan(got[1].id)
    const tail = await (await app.request(`/api/v1/record?${window}&left=4&right=9`)).json()
    expect(tail.map((r: { message: string }) => r.message)).toEqual(["r3"])
    expect(await (await app.request(`/api/v1/record?${window}&left=3&right=2`)).json()).toEqual([])
    for (const q of ["left=0", "right=1", "left=a&right=2", "left=-1&right=2"]) {
      const bad = await app.request(`/api/v1/record?${q}`)
      expect(bad.status).toBe(400)
      expect((await bad.json()).error.type).toBeTruthy()
    }
  })

  test("GET by id: Cache-Control and Chronologer's 404", async () => {
    const [first] = await (await app.request(`/api/v1/record?${window}&left=0&right=0`)).json()
    const res = await app.request(`/api/v1/record/${first.id}`)
    expect(res.headers.get("cache-control")).toBe("max-age=2600000")
    expect(await res.json()).toEqual(first)
    for (const id of ["999999", "abc"]) {
      const missing = await app.request(`/api/v1/record/${id}`)
      expect(missing.status).toBe(404)
      expect(await missing.json()).toEqual({
        error: { type: "HTTPError", message: "Nothing matches the given URI" },
      })
    }
  })

  test("compression: br, gzip, identity; Vary always", async () => {
    const url = `/api/v1/record?${window}&left=0&right=4`
    const plain = await app.request(url)
    expect(plain.headers.get("vary")).toBe("Accept-Encoding")
    const text = await plain.text()
    const gz = await fetch(`${base}${url}`, { headers: { "accept-encoding": "gzip" }, decompress: false })
    expect(gz.headers.get("content-encoding")).toBe("gzip")
    expect(gunzipSync(Buffer.from(await gz.arrayBuffer())).toString()).toBe(text)
    const br = await fetch(`${base}${url}`, { headers: { "accept-encoding": "gzip, br" }, decompress: false })
    expect(br.headers.get("content-encoding")).toBe("br")
    expect(brotliDecompressSync(Buffer.from(await br.arrayBuffer())).toString()).toBe(text)
  })

  test("query: JSON-path conditions as parameterised SQL", async () => {
    const q = encodeURIComponent("logrec->'$.data.foo' = 387 AND logrec->'$.meta.lineno' = 20")
    expect(await count(`?${window}&query=${q}`)).toBe(1)
    const q2 = encodeURIComponent(
      "(json_extract(logrec, '$.data.foo') >= 388 OR name = 'svc.a') AND NOT level > 30 AND logrec->>'$.data.nope' IS NULL",
    )
    expect(await count(`?${window}&query=${q2}`)).toBe(3)
  })

  test("query: injection attempts are 400 and the table is intact", async () => {
    const before = await rows()
    for (const attack of [
      "1=1 OR 1=1",
      "level > 0; DROP TABLE records_records",
      "name = 'x' OR 1=1 --",
      "name = 'x' /* comment */",
      "id IN (SELECT id FROM records_records)",
      "logrec->'$.data.foo' = (SELECT 1)",
      "logrec->'$.data.foo''); DROP TABLE records_records; --' = 1",
      "sqlite_version() = 1",
      "name = 'a' UNION SELECT * FROM logbook_tokens",
    ]) {
      const res = await app.request(`/api/v1/record?left=0&right=5&query=${encodeURIComponent(attack)}`)
      expect(res.status).toBe(400)
      const h = await head(`?query=${encodeURIComponent(attack)}`)
      expect(h.status).toBe(400)
    }
    expect(await rows()).toBe(before)
  })
})

describe("DST", () => {
  test("Europe/Amsterdam fall-back: the two 02:00 hours stay two buckets; the day has 25 hours", async () => {
    // 2026-10-25: 03:00 CEST → 02:00 CET at 01:00Z
    const at = (iso: string) => Date.parse(iso) / 1000
    const lines = [
      "2026-10-24T22:30:00Z",
      "2026-10-25T00:30:00Z",
      "2026-10-25T01:30:00Z",
      "2026-10-25T22:59:00Z",
      "2026-10-25T23:01:00Z",
    ].map((iso) => JSON.stringify({ name: "dst", msg: iso, levelno: 20, created: at(iso) }))
    expect((await post(lines.join("\n"), "application/x-ndjson")).status).toBe(201)
    const filter =
      "?name=dst&after=2026-10-24T00:00:00Z&before=2026-10-27T00:00:00Z&timezone=Europe/Amsterdam"
    const hour = await head(`${filter}&group=hour`)
    expect(hour.headers.get("x-record-group")).toBe(
      [
        at("2026-10-24T22:00:00Z"),
        at("2026-10-25T00:00:00Z"),
        at("2026-10-25T01:00:00Z"),
        at("2026-10-25T22:00:00Z"),
        at("2026-10-25T23:00:00Z"),
      ].join(","),
    )
    expect(hour.headers.get("x-record-count")).toBe("1,1,1,1,1")
    const day = await head(`${filter}&group=day`)
    // 25-hour Sunday from 2026-10-24T22:00Z (CEST midnight) to 2026-10-25T23:00Z (CET midnight)
    expect(day.headers.get("x-record-group")).toBe(
      [at("2026-10-24T22:00:00Z"), at("2026-10-25T23:00:00Z")].join(","),
    )
    expect(day.headers.get("x-record-count")).toBe("4,1")
  })
})

describe("timeline from the per-minute rollup", () => {
  test("timeline and count equal counting the records, for unaligned bounds and level filters", async () => {
    const start = Date.parse("2026-03-29T00:00:07.250Z") / 1000 // spring-forward night in Amsterdam
    const lines = Array.from({ length: 400 }, (_, i) =>
      JSON.stringify({ name: "roll", msg: "r", levelno: [10, 20, 30, 40][i % 4], created: start + i * 53.7 }),
    )
    expect((await post(lines.join("\n"), "application/x-ndjson")).status).toBe(201)
    const after = new Date((start + 100.5) * 1000).toISOString()
    const before = new Date((start + 19000.123) * 1000).toISOString()
    for (const extra of ["", "&level=30", `&after=${after}`, `&after=${after}&before=${before}&level=20`]) {
      for (const group of [
        "hour&timezone=Europe/Amsterdam",
        "day&timezone=America/New_York",
        "hour&timezone=Asia/Kathmandu",
      ]) {
        const fast = await head(`?group=${group}${extra}`)
        // a query filter takes the path that counts records
        const counted = await head(`?group=${group}${extra}&query=${encodeURIComponent("id > 0")}`)
        expect(fast.headers.get("x-record-group")).toBe(counted.headers.get("x-record-group"))
        expect(fast.headers.get("x-record-count")).toBe(counted.headers.get("x-record-count"))
        expect(fast.headers.get("x-record-count")).not.toBe("")
      }
      const total = await head(`?${extra.slice(1)}`)
      const counted = await head(`?${extra.slice(1)}&query=${encodeURIComponent("id > 0")}`)
      expect(total.headers.get("x-record-count")).toBe(counted.headers.get("x-record-count"))
    }
  })
})

describe("authentication", () => {
  test("with anonymous access off: Basic logger: is accepted, anything else is 403 (not 401)", async () => {
    const locked = await createTestApp({
      plugins: [records],
      env: { LOGBOOK_ANONYMOUS: "", LOGBOOK_RECORDS_BASIC_USERS: "logger:" },
    })
    try {
      const body = "name=a&msg=m&levelno=20&created=1"
      const type = { "content-type": "application/x-www-form-urlencoded" }
      const ok = await locked.request("/api/v1/record", {
        method: "POST",
        body,
        headers: { ...type, authorization: `Basic ${btoa("logger:")}` },
      })
      expect(ok.status).toBe(201)
      const anon = await locked.request("/api/v1/record", { method: "POST", body, headers: type })
      expect(anon.status).toBe(403)
      expect(anon.headers.get("www-authenticate")).toBeNull()
      const wrong = await locked.request("/api/v1/record", {
        method: "POST",
        body,
        headers: { ...type, authorization: `Basic ${btoa("logger:guess")}` },
      })
      expect(wrong.status).toBe(403)
      expect((await locked.request("/api/v1/record", { method: "HEAD" })).status).toBe(403)
      // authentication comes before the content type
      const plain = await locked.request("/api/v1/record", {
        method: "POST",
        body: "x",
        headers: { "content-type": "text/plain" },
      })
      expect(plain.status).toBe(403)
      for (const authorization of ["Digest abc", "Basic !!!", `Basic ${btoa("no-colon")}`]) {
        const bad = await locked.request("/api/v1/record", {
          method: "POST",
          body,
          headers: { ...type, authorization },
        })
        expect(bad.status).toBe(400)
      }
      const n = await locked.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM records_records")
      expect(Number(n?.n)).toBe(1)
    } finally {
      await locked.close()
    }
  })
})
