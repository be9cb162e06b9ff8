import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { definePlugin, type PluginContext } from "../../src/plugin/contract"
import { createTestApp, type TestApp } from "../../test/support"
import recordsPlugin from "./plugin"

import { ingest, type NormalisedRecord } from "./service"
import { tailWake } from "./tail-wake"
import { QUERY_EXAMPLES } from "./ui-render"
import { tailResponse } from "./ui-tail"
import { parseBars } from "./ui-test-support"

const NOW = Date.UTC(2026, 10, 22, 10, 0, 0)
const MIN = 60_000
const us = (ms: number) => ms * 1000

/** Captures a plugin context (for the records service's own ingest) and stands in for the changes plugin. */
let ctx: PluginContext
const helper = definePlugin({
  id: "uitest",
  title: "UI test helper",
  setup(c) {
    ctx = c
    c.services.provide("changes", {
      async record() {},
      async between(from, to) {
        const all = [
          { timestamp: NOW - 30 * MIN, description: 'deploy <b onmouseover="x">v2</b>', category: "deploy" },
          { timestamp: NOW - 3 * 60 * MIN, description: "too old", category: "deploy" },
        ]
        return all
          .filter((c) => c.timestamp >= from && c.timestamp <= to)
          .map((c, i) => ({
            id: i + 1,
            criticality: 2,
            source: "api",
            service: "shop",
            environment: null,
            author: null,
            url: null,
            tags: {},
            ...c,
          }))
      },
    })
  },
})

function rec(over: Partial<NormalisedRecord> & { at: number }): NormalisedRecord {
  const { at, ...rest } = over
  return { ts: us(at), level: 20, name: "app", message: "hello", logrec: {}, ...rest }
}

let app: TestApp
const page = async (path: string, headers: Record<string, string> = {}) => {
  const r = await app.request(path, { headers })
  return { status: r.status, body: await r.text(), headers: r.headers }
}
/** Bars of the histogram SVG in a page: data-from/data-to/href and counts per level. */
const bars = (body: string) =>
  parseBars(body.match(/<svg class="records-histogram".*?<\/svg>/s)?.[0] ?? "").map(({ rects, ...bar }) => ({
    ...bar,
    counts: Object.fromEntries(rects.map((r) => [r.level, r.count])),
  }))
const rowIds = (body: string) =>
  [...body.matchAll(/<tr class="record" id="record-(\d+)"/g)].map((m) => Number(m[1]))

let ids: number[]
beforeAll(async () => {
  app = await createTestApp({ plugins: [helper, recordsPlugin] })
  ids = await ingest(ctx, [
    rec({
      at: NOW - 50 * MIN,
      level: 20,
      name: "app.web",
      message: "GET /cart 200",
      logrec: { data: { user_id: 42 } },
    }),
    rec({ at: NOW - 50 * MIN + 5000, level: 40, name: "app.db", message: "deadlock detected\nretrying" }),
    rec({ at: NOW - 50 * MIN + 9000, level: 30, name: "app.db", message: "slow query" }),
    rec({ at: NOW - 20 * MIN, level: 50, name: "app.db.pool", message: "pool exhausted" }),
    rec({
      at: NOW - 10 * MIN,
      level: 40,
      name: "app.web",
      message: '<script>alert("pwned")</script> & more',
      logrec: {
        data: { "<k>": "<v>" },
        meta: { funcName: "handle_cart", lineno: 120, process: 4242, pathname: "/srv/app/web.py" },
        error: {
          exc_text:
            "Traceback (most recent call last):\n  File \"/srv/app/web.py\", line 120, in handle_cart\n    cart[k]\nKeyError: '<sku>'",
        },
      },
    }),
    rec({ at: NOW - 2 * 60 * MIN, level: 40, name: "app.old", message: "outside the hour" }),
  ])
})
afterAll(() => app.close())

describe("records search page", () => {
  test("full page has the form, histogram and list; attacker-controlled text is escaped", async () => {
    const r = await page("/ui/records")
    expect(r.status).toBe(200)
    expect(r.body).toContain("<!doctype html>")
    expect(r.body).toContain('id="records-search"')
    expect(r.body).not.toContain('<script>alert("pwned")')
    expect(r.body).toContain("&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; more")
    // the last hour: five records, newest first; the two-hour-old one is outside
    expect(rowIds(r.body)).toEqual([ids[4], ids[3], ids[2], ids[1], ids[0]])
    // first line only in the list; data fields shown
    expect(r.body).toContain("deadlock detected</a>")
    expect(r.body).not.toContain("retrying")
    expect(r.body).toContain("<b>user_id</b>=42")
    expect(r.body).toContain("<b>&lt;k&gt;</b>=&lt;v&gt;")
  })

  test("htmx partial requests get only the results fragment", async () => {
    const r = await page("/ui/records?q=deadlock", { "HX-Request": "true", "HX-Request-Type": "partial" })
    expect(r.body).not.toContain("<html")
    expect(r.body).not.toContain('id="records-search"')
    expect(rowIds(r.body)).toEqual([ids[1]])
  })

  test("the histogram stacks per-level counts for the search and the level selector", async () => {
    const from = new Date(NOW - 60 * MIN).toISOString()
    const to = new Date(NOW).toISOString()
    const r = await page(`/ui/records?window=custom&from=${from}&to=${to}`)
    const b = bars(r.body)
    expect(b.reduce((n, x) => n + x.total, 0)).toBe(5)
    // 1 hour → 60 s buckets; the first three records share the bucket starting 50 minutes ago
    const first = b.find((x) => x.from === NOW - 50 * MIN)
    expect(first).toMatchObject({ to: NOW - 49 * MIN, total: 3, counts: { ERROR: 1, WARNING: 1, INFO: 1 } })
    expect(b.find((x) => x.from === NOW - 20 * MIN)?.counts).toEqual({ CRITICAL: 1 })
    const warn = bars((await page(`/ui/records?window=custom&from=${from}&to=${to}&level=warning`)).body)
    expect(warn.find((x) => x.from === NOW - 50 * MIN)?.counts).toEqual({ ERROR: 1, WARNING: 1 })
    const db = bars((await page(`/ui/records?window=custom&from=${from}&to=${to}&logger=app.db`)).body)
    expect(db.map((x) => x.counts)).toEqual([{ ERROR: 1, WARNING: 1 }, { CRITICAL: 1 }])
  })

  test("a bar's zoom link carries the narrowed window, and following it narrows the list", async () => {
    const r = await page("/ui/records?q=level>=info")
    const bar = bars(r.body).find((x) => x.from === NOW - 50 * MIN)!
    const url = new URL(bar.href, "http://x")
    expect(url.pathname).toBe("/ui/records")
    expect(Object.fromEntries(url.searchParams)).toEqual({
      q: "level>=info",
      window: "custom",
      from: new Date(NOW - 50 * MIN).toISOString(),
      to: new Date(NOW - 49 * MIN).toISOString(),
    })
    const zoomed = await page(bar.href)
    expect(rowIds(zoomed.body)).toEqual([ids[2], ids[1], ids[0]])
    // zoomed to one minute: one-second bars
    expect(zoomed.body).toContain('data-bucket-seconds="1"')
  })

  test("change events in the window are markers with an escaped tooltip", async () => {
    const r = await page("/ui/records")
    const markers = [
      ...r.body.matchAll(/<g class="change-marker" data-timestamp="(\d+)"><title>([^<]*)<\/title>/g),
    ]
    expect(markers.map((m) => Number(m[1]))).toEqual([NOW - 30 * MIN])
    expect(markers[0][2]).toContain("deploy · shop · deploy &lt;b onmouseover=&quot;x&quot;&gt;v2&lt;/b&gt;")
  })

  test("query errors are shown inline with their position; nothing is searched", async () => {
    const r = await page("/ui/records?q=level%3E%3Dloud%20AND%20x")
    expect(r.status).toBe(200)
    expect(r.body).toMatch(/class="notice error query-error" role="alert" data-position="7"/)
    expect(r.body).toContain("<strong>Query error at character 8:</strong> unknown level &quot;loud&quot;")
    expect(r.body).not.toContain("(at position")
    // the caret sits under the offending value
    expect(r.body).toContain("level&gt;=loud AND x\n       ^</pre>")
    expect(rowIds(r.body)).toEqual([])
    const paren = await page("/ui/records?q=(timeout")
    expect(paren.body).toContain("missing &#39;)&#39;")
    const range = await page("/ui/records?window=custom&from=2026-11-22T10:00:00Z&to=2026-11-22T09:00:00Z")
    expect(range.body).toContain("The custom range must start before it ends.")
  })

  test("every example in the help popover is a valid query that runs", async () => {
    for (const [q] of QUERY_EXAMPLES) {
      const r = await page(`/ui/records?q=${encodeURIComponent(q)}`)
      expect([q, r.status, r.body.includes("query-error")]).toEqual([q, 200, false])
    }
  })

  test("load more pages through the window with the cursor until the end", async () => {
    const more = await ingest(
      ctx,
      Array.from({ length: 60 }, (_, i) =>
        rec({ at: NOW - 40 * MIN + i * 1000, name: "bulk", message: `bulk ${i}` }),
      ),
    )
    const first = await page("/ui/records?logger=bulk")
    expect(rowIds(first.body)).toHaveLength(50)
    const next = first.body.match(/<tr class="more" hx-get="([^"]*)"/)?.[1].replaceAll("&amp;", "&")
    // the relative window is pinned to absolute instants so it does not slide between pages
    const pinned = new URLSearchParams({
      logger: "bulk",
      window: "custom",
      from: new Date(NOW - 60 * MIN).toISOString(),
      to: new Date(NOW).toISOString(),
    })
    expect(next).toStartWith(`/ui/records/rows?${pinned}&cursor=`)
    const second = await page(next!)
    expect([...rowIds(first.body), ...rowIds(second.body)]).toEqual([...more].reverse())
    expect(second.body).toContain("End of results")
    const bad = await page("/ui/records/rows?cursor=nonsense")
    expect(bad.status).toBe(400)
    expect(bad.body).toContain("invalid cursor")
  })

  test("logger autocomplete lists names with counts for a prefix", async () => {
    const r = await page("/ui/records/loggers?logger=app.d")
    expect([...r.body.matchAll(/<option value="([^"]*)">(\d+) records/g)].map((m) => [m[1], m[2]])).toEqual([
      ["app.db", "2"],
      ["app.db.pool", "1"],
    ])
  })
})

describe("record detail", () => {
  test("shows every data/meta field, the traceback in <pre>, a permalink; escaped", async () => {
    const r = await page(`/ui/records/${ids[4]}`)
    expect(r.status).toBe(200)
    expect(r.body).not.toContain('<script>alert("pwned")')
    expect(r.body).toMatch(/<pre class="message" id="record-message">&lt;script&gt;alert/)
    expect(r.body).toContain(
      '<pre class="traceback" id="record-traceback">Traceback (most recent call last):\n  File &quot;/srv/app/web.py&quot;, line 120, in handle_cart\n    cart[k]\nKeyError: &#39;&lt;sku&gt;&#39;</pre>',
    )
    const meta = r.body.match(/<table class="fields small" id="record-meta">.*?<\/table>/s)?.[0] ?? ""
    expect([...meta.matchAll(/data-field="(\w+)"/g)].map((m) => m[1])).toEqual([
      "funcName",
      "lineno",
      "pathname",
      "process",
    ])
    expect(meta).toContain('<pre class="value">handle_cart</pre>')
    expect(meta).toContain('<pre class="value">4242</pre>')
    expect(r.body).toContain(
      '<tr data-field="&lt;k&gt;"><th class="mono">&lt;k&gt;</th><td><pre class="value">&lt;v&gt;</pre>',
    )
    expect(r.body).toContain(`<a href="/ui/records/${ids[4]}" class="permalink"`)
  })

  test("around this record: N before and after, optionally the same logger", async () => {
    const older = await page(`/ui/records/${ids[2]}/around?before=1&after=0`)
    expect(rowIds(older.body)).toEqual([ids[1]])
    const newer = await page(`/ui/records/${ids[0]}/around?before=0&after=1`)
    expect(rowIds(newer.body)).toEqual([ids[1]])
    const sameLogger = await page(`/ui/records/${ids[2]}/around?before=5&after=5&sameLogger=1`)
    // app.db has records ids[1] (older) and ids[2] itself; app.db.pool is another logger
    expect(rowIds(sameLogger.body)).toEqual([ids[1]])
    expect(sameLogger.body).toContain(
      `<tr class="record current" id="record-${ids[2]}" data-id="${ids[2]}" aria-current="true">`,
    )
    expect(sameLogger.body).not.toContain("&lt;td")
    expect((await page("/ui/records/999999")).status).toBe(404)
    expect((await page("/ui/records/abc")).status).toBe(404)
  })

  test("an exception sent without its traceback (HTTPHandler's exc_info only) is not called a traceback", async () => {
    const excInfo = "(<class 'KeyError'>, KeyError('sku'), <traceback object at 0x7f3a>)"
    // a month old and DEBUG: outside every window the other tests count
    const [id] = await ingest(ctx, [
      rec({ at: NOW - 30 * 24 * 60 * MIN, level: 10, logrec: { error: { exc_info: excInfo } } }),
    ])
    const r = await page(`/ui/records/${id}`)
    expect(r.body).toContain(
      '<h2>Exception <span class="muted small">(no traceback was sent: exc_info only)</span></h2><pre class="traceback" id="record-traceback">(&lt;class &#39;KeyError&#39;&gt;, KeyError(&#39;sku&#39;), &lt;traceback object at 0x7f3a&gt;)</pre>',
    )
    expect(r.body).not.toContain("<h2>Traceback</h2>")
  })
})

describe("home widget", () => {
  test("counts WARNING and above in the last hour, with a sparkline and top error loggers", async () => {
    const r = await page("/ui/records/widget")
    // ERROR, WARNING, CRITICAL, ERROR within the hour (the two-hour-old ERROR is out)
    expect(r.body).toContain('id="records-warning-count" data-count="4"')
    expect(r.body).toContain('<svg class="records-sparkline"')
    expect(r.body.match(/points="([^"]*)"/)?.[1].split(" ")).toHaveLength(12)
    expect(
      [...r.body.matchAll(/class="mono">([^<]*)<\/a> <span class="badge c4">(\d+)/g)].map((m) => [
        m[1],
        m[2],
      ]),
    ).toEqual([
      ["app.db", "1"],
      ["app.db.pool", "1"],
      ["app.web", "1"],
    ])
    // each logger's link shows the records its badge counts (app.db's, not its child app.db.pool's)
    for (const m of r.body.matchAll(
      /<a href="([^"]*)" class="mono">[^<]*<\/a> <span class="badge c4">(\d+)/g,
    )) {
      const list = await page((m[1] as string).replaceAll("&amp;", "&"))
      expect(list.body.match(/<tr class="record"/g)?.length ?? 0).toBe(Number(m[2]))
    }
  })
})

describe("live tail over SSE", () => {
  test("streams matching records ingested after it opened; cleans up when the client leaves", async () => {
    const base = await app.listen()
    const abort = new AbortController()
    const res = await fetch(`${base}/ui/records/tail?q=tailme&level=warning`, { signal: abort.signal })
    expect(res.headers.get("content-type")).toStartWith("text/event-stream")
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    let text = ""
    const readUntil = async (pred: (t: string) => boolean) => {
      const deadline = Date.now() + 5000
      while (!pred(text)) {
        if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(text)}`)
        const { value, done } = await reader.read()
        if (done) throw new Error("stream ended")
        text += decoder.decode(value, { stream: true })
      }
    }
    await readUntil((t) => t.includes("no backlog"))
    expect(tailWake(ctx).size()).toBe(1)
    const [quiet] = await ingest(ctx, [rec({ at: NOW, level: 20, message: "tailme but info" })])
    const [loud] = await ingest(ctx, [rec({ at: NOW, level: 40, name: "tail.x", message: "tailme <now>" })])
    await readUntil((t) => t.includes(`record-${loud}"`))
    expect(text).toContain(`data: <tr class="record" id="record-${loud}"`)
    expect(text).toContain("tailme &lt;now&gt;")
    expect(text).not.toContain(`record-${quiet}"`)
    abort.abort()
    const deadline = Date.now() + 5000
    while (tailWake(ctx).size() && Date.now() < deadline) await Bun.sleep(20)
    expect(tailWake(ctx).size()).toBe(0)
    // with no tail open, ingest() has nobody to tell — except, on PostgreSQL, the other instances (NOTIFY)
    expect(ctx.events.has("records.ingested")).toBe(ctx.db.dialect === "postgres")
  })

  test("a burst larger than one batch is marked, not silently cut", async () => {
    const base = await app.listen()
    const abort = new AbortController()
    const res = await fetch(`${base}/ui/records/tail?q=burst`, { signal: abort.signal })
    const reader = res.body!.getReader()
    let text = ""
    const deadline = Date.now() + 5000
    const readUntil = async (needle: string) => {
      while (!text.includes(needle) && Date.now() < deadline)
        text += new TextDecoder().decode((await reader.read()).value)
    }
    await readUntil("no backlog")
    const burst = await ingest(
      ctx,
      Array.from({ length: 600 }, (_, i) => rec({ at: NOW, level: 30, message: `burst ${i}` })),
    )
    await readUntil(`record-${burst[599]}"`)
    await readUntil("tail-gap")
    abort.abort()
    const shown = [...text.matchAll(/<tr class="record" id="record-(\d+)"/g)].map((m) => Number(m[1]))
    expect(shown).toEqual(burst.slice(-500).reverse())
    expect(text).toContain('<tr class="tail-gap">')
  })

  test("resumes after Last-Event-ID without repeating", async () => {
    const [a] = await ingest(ctx, [rec({ at: NOW, level: 40, message: "resume one" })])
    const [b] = await ingest(ctx, [rec({ at: NOW, level: 40, message: "resume two" })])
    const base = await app.listen()
    const abort = new AbortController()
    const res = await fetch(`${base}/ui/records/tail?q=resume`, {
      signal: abort.signal,
      headers: { "Last-Event-ID": String(a) },
    })
    const reader = res.body!.getReader()
    const [c] = await ingest(ctx, [rec({ at: NOW, level: 40, message: "resume three" })])
    let text = ""
    const deadline = Date.now() + 5000
    // (the SSE id is the resume point: on PostgreSQL it trails the newest record id)
    while (!text.includes(`record-${c}"`) && Date.now() < deadline) {
      const { value } = await reader.read()
      text += new TextDecoder().decode(value)
    }
    abort.abort()
    expect(text).toContain(`record-${b}"`)
    expect(text).toContain(`record-${c}"`)
    expect(text).not.toContain(`record-${a}"`)
  })

  test("sends comment heartbeats while quiet and stops them when the client aborts", async () => {
    const abort = new AbortController()
    const request = new Request("http://x/ui/records/tail", { signal: abort.signal })
    const res = tailResponse(ctx, request, {
      query: "nothing-matches-this",
      render: () => [],
      heartbeatMs: 20,
    })
    const reader = res.body!.getReader()
    let text = ""
    const deadline = Date.now() + 5000
    while ((text.match(/: heartbeat\n\n/g) ?? []).length < 2 && Date.now() < deadline)
      text += new TextDecoder().decode((await reader.read()).value)
    expect(text).toStartWith("retry: 2000\n")
    expect((text.match(/: heartbeat\n\n/g) ?? []).length).toBeGreaterThanOrEqual(2)
    abort.abort()
    // the stream ends instead of beating on
    let done = false
    while (!done && Date.now() < deadline) done = (await reader.read()).done
    expect(done).toBe(true)
  })

  test("a bad query is refused before streaming", async () => {
    const r = await app.request("/ui/records/tail?q=(oops")
    expect(r.status).toBe(400)
    expect(await r.text()).toContain("missing ')'")
  })
})

describe("access", () => {
  test("every records page and fragment needs the read role (anonymous: sign in); the static script does not", async () => {
    const closed = await createTestApp({ plugins: [recordsPlugin], env: { LOGBOOK_ANONYMOUS: "ingest" } })
    try {
      for (const path of [
        "/ui/records",
        "/ui/records/rows",
        "/ui/records/loggers",
        "/ui/records/live",
        "/ui/records/tail",
        "/ui/records/widget",
        "/ui/records/1",
        "/ui/records/1/around",
      ]) {
        // the core sends anonymous page requests to sign in, and back here afterwards
        const r = await closed.request(path)
        expect([path, r.status, r.headers.get("location")]).toEqual([
          path,
          303,
          `/ui/signin?next=${encodeURIComponent(path)}`,
        ])
      }
      const js = await closed.request("/ui/records/assets/records.js")
      expect(js.status).toBe(200)
      expect(js.headers.get("content-type")).toStartWith("text/javascript")
      expect((await closed.request("/ui/records/assets/records.css")).status).toBe(200)
      for (const missing of ["nope.js", "__proto__", "toString"])
        expect((await closed.request(`/ui/records/assets/${missing}`)).status).toBe(404)
    } finally {
      await closed.close()
    }
  })
})
