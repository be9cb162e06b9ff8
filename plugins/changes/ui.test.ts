/**
 * The changes pages: server-rendered HTML (escaping, links, paging, widget) and, in a real browser,
 * inert hostile descriptions, filters driving the URL, permalinks reproducing the view, Back, legacy
 * fragment permalinks, live rows over SSE and timeline brushing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { Browser, Page } from "playwright-core"
import { browserAvailable, externalRequests, openBrowser, watchRequests } from "../../test/browser"
import { createTestApp, type TestApp } from "../../test/support"
import changes from "./plugin"
import { linkify } from "./render"

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0)
const XSS_SCRIPT = "<script>window.__pwned = 1</script> deploy of api"
const XSS_IMG = '<img src=x onerror="window.__pwned = 2"> dns flip'

let app: TestApp
let base: string
beforeAll(async () => {
  app = await createTestApp({ plugins: [changes] })
  base = await app.listen()
  const events = [
    { category: "deploy", description: XSS_SCRIPT, criticality: 5, service: "api", timestamp: T0 - 60_000 },
    { category: "dns", description: XSS_IMG, criticality: 2, timestamp: T0 - 120_000 },
    {
      category: "flag",
      description: "flag beta on, see https://flags.example/beta",
      criticality: 3,
      timestamp: T0 - 180_000,
    },
    { category: "deploy", description: "web v3", criticality: 1, service: "web", timestamp: T0 - 240_000 },
    ...Array.from({ length: 60 }, (_, i) => ({
      category: "cron",
      description: `nightly job ${i}`,
      criticality: 1,
      timestamp: T0 - 3 * 3600_000 - i * 1000,
    })),
  ]
  const r = await app.request("/api/v1/changes", { method: "POST", json: events })
  expect(r.status).toBe(201)
})
afterAll(() => app.close())

describe("server-rendered", () => {
  test("descriptions are escaped; only http(s) links become anchors", () => {
    expect(linkify('<b>x</b> https://a.example/x?y=1&z=2, <a href="javascript:alert(1)">j</a>').value).toBe(
      '&lt;b&gt;x&lt;/b&gt; <a href="https://a.example/x?y=1&amp;z=2" rel="noopener noreferrer nofollow" target="_blank">https://a.example/x?y=1&amp;z=2</a>, &lt;a href=&quot;javascript:alert(1)&quot;&gt;j&lt;/a&gt;',
    )
    expect(linkify('<a href="https://ok.example/" onclick="x()">read <i>me</i></a>').value).toBe(
      '<a href="https://ok.example/" rel="noopener noreferrer nofollow" target="_blank">read me</a>',
    )
  })

  test("page caps at 50 rows and pages with a cursor", async () => {
    const page = await (await app.request("/ui/changes?window=4h&category=cron")).text()
    expect(page.match(/<tr class="change"/g)?.length).toBe(50)
    const more = /hx-get="(\/ui\/changes\/rows\?[^"]+)"/.exec(page)?.[1].replace(/&amp;/g, "&")
    expect(more).toBeDefined()
    const rest = await (await app.request(more as string)).text()
    expect(rest.match(/<tr class="change"/g)?.length).toBe(10)
    expect(rest).not.toContain("changes-more")
    expect((await app.request("/ui/changes/rows?cursor=zzz")).status).toBe(400)
  })

  test("until, window and criticality mean on the page what they mean to the API (ISO 8601, ms, names)", async () => {
    const ids = async (path: string) =>
      [...(await (await app.request(path)).text()).matchAll(/<tr class="change" data-id="(\d+)"/g)].map((m) =>
        Number(m[1]),
      )
    const apiIds = async (query: string) =>
      (
        (await (await app.request(`/api/v1/changes?${query}`)).json()) as { items: { id: number }[] }
      ).items.map((e) => e.id)
    for (const query of [
      `window=1h&until=${new Date(T0 - 90_000).toISOString()}`,
      `window=1h&until=${T0 - 90_000}`, // epoch milliseconds
      `window=1h&until=${(T0 - 90_000) / 1000}&criticality=critical,notice,3`,
    ]) {
      const api = await apiIds(query)
      expect(api.length).toBeGreaterThan(0)
      expect(await ids(`/ui/changes?${query}`)).toEqual(api)
    }
    // the window ends at that instant: not the live last hour
    const page = await (
      await app.request(`/ui/changes?window=1h&until=${new Date(T0 - 90_000).toISOString()}`)
    ).text()
    expect(page).toContain(">3 changes</span> in this window</p>")
    expect(page).not.toContain("changes-live")
    expect(page).not.toContain('class="notice')
  })

  test("a value the page cannot read is named, with its parameter, in a notice above the results", async () => {
    // the same view without the bad values first: a cached rendering must not hide the notices
    expect(await (await app.request("/ui/changes?window=1h")).text()).not.toContain('class="notice')
    const page = await (
      await app.request("/ui/changes?window=abc&until=garbage&criticality=9&since=1h&paused=yes")
    ).text()
    const notices = [...page.matchAll(/<div class="notice error" role="alert">([^<]*)<\/div>/g)].map((m) =>
      m[1].replace(/&quot;/g, '"').replace(/&#39;/g, "'"),
    )
    expect(notices).toEqual([
      'Ignored window="abc": it must be a number and a unit m, h or d (e.g. 15m, 4h, 7d), at most 400 days. Showing the default window, 1h.',
      'Ignored until="garbage": it must be epoch seconds, epoch milliseconds or an ISO 8601 instant. Showing the window ending now.',
      'Ignored criticality="9": it must be a comma list of 1–5 or names (info … critical). Showing every criticality.',
      'Ignored since="1h": this page has no such filter (it is the API\'s); its filters are window, until, criticality, category, service, environment and q.',
      'Ignored paused="yes": it must be 1 (or 0).',
    ])
    // partial (htmx) answers carry them too
    const partial = await app.request("/ui/changes?window=abc", {
      headers: { "hx-request": "true", "hx-request-type": "partial" },
    })
    expect(await partial.text()).toContain("Ignored window=&quot;abc&quot;")
  })

  test("timeline buckets tile the window; each tooltip names its bucket's range (UTC until the page script runs)", async () => {
    // the window [08:59Z, 09:59Z], inclusive: the last bucket starts at 09:58:00 (the dns event) and holds
    // 09:59:00 (the deploy) too
    const page = await (await app.request(`/ui/changes?window=1h&until=${T0 / 1000 - 60}`)).text()
    const tips = [...page.matchAll(/<title data-start="(\d+)" data-end="(\d+)"[^>]*>([^<]*)<\/title>/g)]
    expect(tips.map((m) => m[3])).toEqual([
      "1 change from 2026-11-22 09:56:00 to 09:57:00 UTC: 1 info",
      "1 change from 2026-11-22 09:57:00 to 09:58:00 UTC: 1 warning",
      "2 changes from 2026-11-22 09:58:00 to 09:59:00 UTC: 1 notice, 1 critical",
    ])
    expect(tips.map((m) => [Number(m[1]), Number(m[2])])).toContainEqual([T0 - 120_000, T0 - 60_000])
  })

  test("htmx partial requests get only the results and a canonical URL to push", async () => {
    const r = await app.request("/ui/changes?window=1h&until=&category=dns&q=&service=", {
      headers: { "hx-request": "true", "hx-request-type": "partial" },
    })
    const text = await r.text()
    expect(text.startsWith('<div id="changes-results"')).toBe(true)
    expect(r.headers.get("hx-push-url")).toBe("/ui/changes?window=1h&category=dns")
  })

  test("pages are gzip-compressed for browsers that accept it, same markup", async () => {
    const plain = await (await app.request("/ui/changes?window=4h")).text()
    const r = await app.request("/ui/changes?window=4h", {
      headers: { "accept-encoding": "gzip, deflate, br" },
    })
    expect(r.headers.get("content-encoding")).toBe("gzip")
    expect(r.headers.get("vary")).toContain("Accept-Encoding")
    expect(Bun.gunzipSync(new Uint8Array(await r.arrayBuffer())).length).toBe(
      new TextEncoder().encode(plain).length,
    )
  })

  test("home widget: count of the last hour and the latest few, escaped", async () => {
    const w = await (await app.request("/ui/changes/widget")).text()
    expect(w).toContain('<strong id="changes-hour-count">4</strong>')
    expect(w).toContain("&lt;script&gt;")
    expect(w).not.toContain("<script>")
  })
})

describe.skipIf(!browserAvailable)("in a browser", () => {
  let browser: Browser
  beforeAll(async () => {
    browser = await openBrowser()
  })
  afterAll(() => browser?.close())

  const rowIds = (page: Page) =>
    page.$$eval("#changes-rows tr.change", (rows) => rows.map((r) => r.getAttribute("data-id")))
  const categories = (page: Page) =>
    page.$$eval("#changes-rows td.cat", (cells) => cells.map((c) => c.textContent))

  test("hostile descriptions render inert, as text", async () => {
    const page = await browser.newPage()
    const urls = watchRequests(page)
    await page.goto(`${base}/ui/changes?window=1h`)
    await page.waitForSelector("#changes-rows tr.change")
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined()
    expect(await page.$$eval("td.desc img, td.desc script", (els) => els.length)).toBe(0)
    const texts = await page.$$eval("td.desc", (cells) => cells.map((c) => c.textContent ?? ""))
    expect(texts.some((t) => t.includes(XSS_SCRIPT))).toBe(true)
    expect(texts.some((t) => t.includes(XSS_IMG))).toBe(true)
    expect(
      await page.$eval('td.desc a[href^="https://flags.example"]', (a) => a.getAttribute("rel")),
    ).toContain("noopener")
    expect(externalRequests(urls)).toEqual([])
    await page.close()
  }, 20_000)

  test("filters drive the URL; the permalink reproduces the view; Back restores", async () => {
    const page = await browser.newPage()
    await page.goto(`${base}/ui/changes?window=1h`)
    await page.waitForSelector("#changes-rows tr.change")
    expect((await rowIds(page)).length).toBe(4)
    expect(await page.isVisible("[data-now]")).toBe(false) // the window already ends now

    await page.click('#changes-categories [data-category="deploy"]')
    await page.waitForURL(/category=deploy/)
    await page.waitForFunction(() => document.querySelectorAll("#changes-rows tr.change").length === 2)
    expect(await categories(page)).toEqual(["deploy", "deploy"])

    await page.check('input[name="criticality"][value="5"]')
    await page.waitForURL(/criticality=5/)
    await page.waitForFunction(() => document.querySelectorAll("#changes-rows tr.change").length === 1)

    await page.uncheck('input[name="criticality"][value="5"]')
    await page.waitForURL((u) => !u.search.includes("criticality"))
    await page.fill('input[name="q"]', "web")
    await page.waitForURL(/q=web/)
    await page.waitForFunction(() => document.querySelectorAll("#changes-rows tr.change").length === 1)
    const view = await rowIds(page)
    const permalink = page.url()
    expect(permalink).toContain("category=deploy")

    const fresh = await browser.newPage()
    await fresh.goto(permalink)
    await fresh.waitForSelector("#changes-rows tr.change")
    expect(await rowIds(fresh)).toEqual(view)
    expect(await fresh.inputValue('input[name="q"]')).toBe("web")
    await fresh.close()

    // shift-click shows only that category
    await page.fill('input[name="q"]', "")
    await page.waitForURL((u) => !u.search.includes("q="))
    await page.click('#changes-categories [data-category="dns"]', { modifiers: ["Shift"] })
    await page.waitForURL((u) => new URL(u).searchParams.get("category") === "dns")
    await page.waitForFunction(() => document.querySelectorAll("#changes-rows tr.change").length === 1)
    expect(await categories(page)).toEqual(["dns"])

    await page.goBack()
    await page.waitForURL((u) => new URL(u).searchParams.get("category") === "deploy")
    await page.waitForFunction(() => document.querySelectorAll("#changes-rows tr.change").length === 2)

    // a preset widens the window
    await page.click('[data-window="4h"]')
    await page.waitForURL(/window=4h/)
    await page.waitForFunction(() => document.querySelectorAll("#changes-rows tr.change").length === 2)
    await page.close()
  }, 20_000)

  test("a permalink with an ISO 8601 until shows that window, not the live hour; unreadable values show notices", async () => {
    const page = await browser.newPage()
    const until = new Date(T0 - 90_000).toISOString()
    const api = (await (await app.request(`/api/v1/changes?window=1h&until=${until}`)).json()) as {
      items: { id: number }[]
    }
    await page.goto(`${base}/ui/changes?window=1h&until=${until}`)
    await page.waitForSelector("#changes-rows tr.change")
    expect(await rowIds(page)).toEqual(api.items.map((e) => String(e.id)))
    expect(await page.textContent("#changes-summary")).toBe("3 changes in this window")
    expect(await page.locator("#changes-live").count()).toBe(0)
    expect(await page.isVisible("[data-now]")).toBe(true)
    expect(await page.locator(".notice").count()).toBe(0)

    await page.goto(`${base}/ui/changes?window=abc&criticality=9&until=garbage`)
    await page.waitForSelector("#changes-rows tr.change")
    const notices = page.locator("#changes-results .notice.error")
    expect(await notices.count()).toBe(3)
    for (const text of ['window="abc"', 'criticality="9"', 'until="garbage"'])
      expect(await page.locator(".notice.error", { hasText: text }).isVisible()).toBe(true)
    // the next change of the filters reads the page's own values: the notices go
    await page.click('[data-window="4h"]')
    await page.waitForURL(/window=4h/)
    await page.waitForFunction(() => document.querySelectorAll("#changes-results .notice").length === 0)
    await page.close()
  }, 20_000)

  test("timeline tooltips state each bucket's real range, in the page's time zone", async () => {
    // India is UTC+5:30: a tooltip in UTC, or cut to the minute, cannot pass for local time there
    const context = await browser.newContext({ timezoneId: "Asia/Kolkata" })
    const page = await context.newPage()
    // the window [08:59:30Z, 09:59:30Z]: buckets run from :30 to :30, not from whole minutes
    await page.goto(`${base}/ui/changes?window=1h&until=${T0 / 1000 - 30}`)
    await page.waitForSelector("#changes-rows tr.change")
    // the zone's name as the browser gives it (Chromium says Asia/Calcutta)
    const zone = await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone)
    await page.waitForFunction(
      (z) => document.querySelector("#changes-timeline title")?.textContent?.includes(z),
      `(${zone})`,
      { timeout: 5000 },
    )
    const tips = await page.$$eval("#changes-timeline title", (ts) => ts.map((t) => t.textContent))
    expect(tips).toEqual([
      `1 change from 2026-11-22 15:25:30 to 15:26:30 (${zone}): 1 info`,
      `1 change from 2026-11-22 15:26:30 to 15:27:30 (${zone}): 1 warning`,
      `1 change from 2026-11-22 15:27:30 to 15:28:30 (${zone}): 1 notice`,
      `1 change from 2026-11-22 15:28:30 to 15:29:30 (${zone}): 1 critical`,
    ])
    // the rows are in the same zone: the critical deploy at 09:59:00Z is 15:29:00 there
    expect(
      await page.textContent("#changes-rows tr.change:first-child td.when time:not([data-relative])"),
    ).toBe("2026-11-22 15:29:00")
    await context.close()
  }, 20_000)

  test('custom window: "90 min" reads as 90m; a value that is no window gets inline feedback', async () => {
    const page = await browser.newPage()
    await page.goto(`${base}/ui/changes?window=1h`)
    await page.waitForSelector("#changes-rows tr.change")
    const custom = "#changes-window-custom"
    const windowParam = () => new URL(page.url()).searchParams.get("window")
    await page.fill(custom, "90 min")
    await page.press(custom, "Tab")
    await page.waitForURL(/window=90m/, { timeout: 5000 })
    expect(await page.isVisible("#changes-window-error")).toBe(false)

    await page.fill(custom, "90 mni")
    await page.press(custom, "Tab")
    await page.waitForSelector("#changes-window-error", { state: "visible", timeout: 5000 })
    expect(await page.textContent("#changes-window-error")).toBe(
      '"90 mni" is not a window: a number and a unit, e.g. 90m, 6h, 2d (at most 400 days)',
    )
    expect(await page.getAttribute(custom, "aria-invalid")).toBe("true")
    expect(windowParam()).toBe("90m") // the view stays as it was

    await page.fill(custom, "500 days") // beyond the API's 400 days
    await page.press(custom, "Tab")
    await page.waitForSelector("#changes-window-error:has-text('\"500 days\"')")
    expect(windowParam()).toBe("90m")

    await page.fill(custom, "1.5 hours")
    await page.press(custom, "Tab")
    await page.waitForURL(/window=1\.5h/)
    expect(await page.isVisible("#changes-window-error")).toBe(false)
    expect(await page.getAttribute(custom, "aria-invalid")).toBeNull()
    expect(await page.locator(".notice").count()).toBe(0)
    await page.close()
  }, 20_000)

  test("legacy #fragment and React query-string permalinks open the same view", async () => {
    const page = await browser.newPage()
    await page.goto(`${base}/#hours_ago=1&until=${T0 / 1000}&category=dns,flag`)
    await page.waitForURL(/\/ui\/changes\?/)
    await page.waitForSelector("#changes-rows tr.change")
    const fromHash = { url: page.url(), rows: await rowIds(page) }
    await page.goto(`${base}/?category=dns%2Cflag&criticality=&description=&hours_ago=1&until=${T0 / 1000}`)
    await page.waitForSelector("#changes-rows tr.change")
    expect(page.url()).toBe(fromHash.url)
    expect(await rowIds(page)).toEqual(fromHash.rows)
    expect((await categories(page)).sort()).toEqual(["dns", "flag"])
    await page.close()
  }, 20_000)

  test("live: a new event appears at the top without reload; clicking the timeline narrows the window", async () => {
    const page = await browser.newPage()
    await page.goto(`${base}/ui/changes?window=1h`)
    await page.waitForSelector("#changes-rows tr.change")
    // the SSE connection is open once the server has a subscriber: posting until the row shows is
    // robust against connection timing
    const deadline = Date.now() + 10_000
    let seen = false
    while (!seen && Date.now() < deadline) {
      await app.request("/api/v1/changes", {
        method: "POST",
        json: { category: "live", description: "arrived live" },
      })
      seen = await page
        .waitForSelector("#changes-live tr.change", { timeout: 1000 })
        .then(() => true)
        .catch(() => false)
    }
    expect(seen).toBe(true)
    expect(await page.textContent("#changes-live")).toContain("arrived live")
    // a row committed by another instance (straight into the shared database, on this same connection, so
    // no data_version change) arrives by the live feed's safety poll
    await app.db.run(
      "INSERT INTO changes_events (ts, criticality, category, description, source, tags) VALUES (?, 2, 'other', 'from another instance', 'api', ?)",
      [T0, "{}"],
    )
    await page.waitForFunction(
      () => document.querySelector("#changes-live")?.textContent?.includes("from another instance"),
      undefined,
      { timeout: 12_000 },
    )
    expect(
      await page.locator("#changes-live tr", { hasText: "arrived live" }).count(),
    ).toBeGreaterThanOrEqual(1)

    const box = await page.locator("#changes-timeline").boundingBox()
    if (!box) throw new Error("no timeline")
    await page.mouse.click(box.x + box.width * 0.99, box.y + box.height / 2)
    await page.waitForURL(/until=\d+/)
    const u = new URL(page.url())
    expect(u.searchParams.get("window")).toMatch(/^\d+m$/)
    expect(await page.locator("#changes-live").count()).toBe(0) // a fixed window is not live
    expect(await page.isVisible("[data-now]")).toBe(true)
    await page.close()
  }, 30_000)
  /** A live page whose SSE stream is connected (the server has its subscriber), counting SSE messages. */
  async function openLive(): Promise<Page> {
    const page = await browser.newPage()
    await page.addInitScript(() => {
      const w = window as unknown as { __sse: { connected: boolean; messages: number } }
      w.__sse = { connected: false, messages: 0 }
      document.addEventListener("htmx:sse:after:connection", () => {
        w.__sse.connected = true
      })
      document.addEventListener("htmx:sse:after:message", () => {
        w.__sse.messages++
      })
    })
    await page.goto(`${base}/ui/changes?window=1h`)
    await page.waitForSelector("#changes-rows tr.change")
    await page.waitForFunction(() => (window as unknown as { __sse: { connected: boolean } }).__sse.connected)
    return page
  }
  const sseMessages = (page: Page) =>
    page.evaluate(() => (window as unknown as { __sse: { messages: number } }).__sse.messages)
  /** The summary says as many changes as the list shows (waits for it). */
  const summaryCountsRows = (page: Page) =>
    page.waitForFunction(
      () => {
        const rows = document.querySelectorAll("#changes-live tr.change, #changes-rows tr.change").length
        return (
          document.getElementById("changes-summary")?.textContent === `${rows} changes in this window · live`
        )
      },
      undefined,
      { timeout: 5000 },
    )
  const copies = (page: Page, id: string) => page.locator(`tr.change[data-id="${id}"]`).count()

  test("live: rows arriving over SSE are counted in the summary; a row the list already has is not shown twice", async () => {
    const page = await openLive()
    const before = await page.locator("#changes-rows tr.change").count()
    expect(await page.textContent("#changes-summary")).toBe(`${before} changes in this window · live`)
    const r = await app.request("/api/v1/changes", {
      method: "POST",
      json: { category: "live", description: "counted live" },
    })
    const [id] = ((await r.json()) as { ids: number[] }).ids
    await page.waitForSelector(`#changes-live tr.change[data-id="${id}"]`)
    await summaryCountsRows(page)
    expect(await page.textContent("#changes-count")).toBe(`${before + 1} changes`)
    // in local time, as the rows the page was rendered with
    expect(await page.textContent("#changes-live tr.change td.when time:not([data-relative])")).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/,
    )

    // another instance commits rows (straight into the database: the feed's safety poll brings them, every
    // 5 s). A page opened right after a poll lists such a row, and its stream delivers it again at the next.
    const elsewhere = (description: string) =>
      app.db.run(
        "INSERT INTO changes_events (ts, criticality, category, description, source, tags) VALUES (?, 2, 'other', ?, 'api', ?)",
        [T0, description, "{}"],
      )
    await elsewhere("a poll just ran")
    await page.waitForFunction(
      () => document.getElementById("changes-live")?.textContent?.includes("a poll just ran"),
      undefined,
      { timeout: 12_000 },
    )
    // a poll may still come sooner (PostgreSQL also wakes on notifications): then the second page's stream
    // started too late to bring the row, and the case is tried again
    let second: Page | undefined
    let other = ""
    for (let attempt = 1; attempt <= 3 && !second; attempt++) {
      await elsewhere(`listed and streamed ${attempt}`)
      const candidate = await openLive()
      other = (await candidate.getAttribute("#changes-rows tr.change:first-child", "data-id")) ?? ""
      expect(await candidate.textContent("#changes-rows tr.change:first-child")).toContain(
        "listed and streamed",
      )
      await page.waitForSelector(`#changes-live tr.change[data-id="${other}"]`, { timeout: 12_000 })
      await candidate.waitForTimeout(500) // the row reaches both pages' streams at once
      const streamed = (await sseMessages(candidate)) > 0
      if (streamed) second = candidate
      else await candidate.close()
    }
    if (!second) throw new Error("no second page whose stream brought a row it already listed")
    expect(await copies(second, other)).toBe(1)
    await summaryCountsRows(second)
    await summaryCountsRows(page)
    await second.close()
    await page.close()
  }, 60_000)
})
