/**
 * The records pages and fragments: search (query language, level, logger, time window — all in the
 * query string), the level-stacked histogram with zoom and change markers, the result list with
 * infinite scroll, a record's detail with "around this record", the live tail over SSE, and the home
 * widget. Reads go through service.ts; every record value is escaped by `html`.
 */
import { Elysia } from "elysia"
import type { PluginContext } from "../../src/plugin/contract"
import { type Html, html } from "../../views/html"
import { compileQuery } from "./query"
import {
  around,
  getRecord,
  histogram,
  levelName,
  levelNumber,
  loggers,
  type RecordRow,
  SearchError,
  search,
  topErrorLoggers,
} from "./service"
import { clientAsset } from "./ui-assets"
import {
  type ChangeMarker,
  chooseBucketSeconds,
  durationLabel,
  histogramAxis,
  histogramSvg,
  levelLegend,
  sparklineSvg,
  tallestBar,
} from "./ui-histogram"
import {
  fieldTable,
  isoOfMicros,
  levelBadge,
  queryErrorNotice,
  recordRow,
  searchForm,
  TABLE_HEAD,
  zoomHref,
} from "./ui-render"
import { parseState, type SearchState, stateQuery } from "./ui-state"
import { tailResponse } from "./ui-tail"

const PAGE_SIZE = 50
const hide = { detail: { hide: true } } as const

/** Error a bad search input carries (query syntax with a position, or a bad cursor). */
function searchProblem(e: unknown): { message: string; position?: number } | undefined {
  if (e instanceof SearchError) return { message: e.message, position: e.position }
  return undefined
}

/** A logger name as a quoted value of the query language. */
const quoted = (name: string) => `"${name.replace(/["\\]/g, (c) => `\\${c}`)}"`

/** The query handed to service.search: the user's query AND the logger field (name or prefix*). */
export function effectiveQuery(s: SearchState): string {
  if (!s.logger) return s.q
  const star = s.logger.endsWith("*")
  const term = `logger:${quoted(star ? s.logger.slice(0, -1) : s.logger)}${star ? "*" : ""}`
  return s.q.trim() ? `(${s.q}) AND ${term}` : term
}

const ms = (us: number) => Math.floor(us / 1000)
const us = (msValue: number) => msValue * 1000

const rowsOf = (items: readonly RecordRow[]) => items.map((r) => recordRow(r, levelName))

/** The "load more" row: fetched when scrolled into view or clicked, replaced by the next page. */
function moreRow(s: SearchState, cursor: string | undefined): Html {
  if (!cursor)
    return html`<tr class="end"><td colspan="4" class="muted small">End of results in this window.</td></tr>`
  // the window is pinned: "last 1h" must not slide between pages
  const href = `/ui/records/rows?${stateQuery(s, { window: "custom" })}&cursor=${encodeURIComponent(cursor)}`
  return html`<tr class="more" hx-get="${href}" hx-trigger="revealed" hx-swap="outerHTML"><td colspan="4"><button type="button" class="link" hx-get="${href}" hx-target="closest tr" hx-swap="outerHTML">Load more</button></td></tr>`
}

async function changeMarkers(ctx: PluginContext, s: SearchState): Promise<ChangeMarker[]> {
  const events = await ctx.changes.between(s.from, s.to, { limit: 200 })
  return events.map((c) => ({
    timestamp: c.timestamp,
    label: [c.category, c.service, c.description].filter(Boolean).join(" · "),
  }))
}

/** Histogram + list for a state: what the form swaps into #records-results. */
async function results(ctx: PluginContext, s: SearchState): Promise<Html> {
  const problems = s.problems.map((p) => html`<div class="notice error" role="alert">${p}</div>`)
  if (s.q.trim()) {
    try {
      compileQuery(s.q, ctx.db.dialect)
    } catch (e) {
      const p = searchProblem(e)
      if (!p) throw e
      return html`${problems}${queryErrorNotice(s.q, p.message, p.position)}`
    }
  }
  const query = effectiveQuery(s)
  const bucketSeconds = chooseBucketSeconds(s.from, s.to)
  let page: Awaited<ReturnType<typeof search>>
  let buckets: Awaited<ReturnType<typeof histogram>>
  try {
    ;[page, buckets] = await Promise.all([
      search(ctx.db, { query, from: us(s.from), to: us(s.to), levelMin: s.levelMin, limit: PAGE_SIZE }),
      // the level selector applies to the histogram as well: it counts what the list shows
      histogram(ctx.db, { query, levelMin: s.levelMin, from: us(s.from), to: us(s.to), bucketSeconds }),
    ])
  } catch (e) {
    const p = searchProblem(e)
    if (!p) throw e
    return html`${problems}${queryErrorNotice(query, p.message, p.position)}`
  }
  const bars = buckets.map((b) => ({ start: ms(b.start), counts: countsByLevelno(b.counts) }))
  const total = bars.reduce((n, b) => n + Object.values(b.counts).reduce((a, c) => a + c, 0), 0)
  const svg = histogramSvg({
    from: s.from,
    to: s.to,
    bucketSeconds,
    bars,
    changes: await changeMarkers(ctx, s),
    zoomHref: (f, t) => zoomHref(s, f, t),
  })
  const axis = histogramAxis({ from: s.from, to: s.to })
  return html`${problems}
<section class="card records-chart" aria-label="Histogram">
  <div class="row small muted"><span id="records-total" data-total="${total}">${total} record${total === 1 ? "" : "s"}</span>
  <span>from <time datetime="${new Date(s.from).toISOString()}" data-local>${new Date(s.from).toISOString()}</time>
  to <time datetime="${new Date(s.to).toISOString()}" data-local>${new Date(s.to).toISOString()}</time></span>
  <span>· ${durationLabel(bucketSeconds)} per bar · click a bar or drag across bars to zoom</span> ${levelLegend()}
  <a href="/ui/records?${stateQuery(s, { window: "custom" })}" class="permalink" rel="bookmark" title="this search over this exact time range">permalink</a></div>
  <div class="records-plot">${svg}${total ? html`<span class="records-ymax small muted" title="records in the tallest bar">${tallestBar(bars)}</span>` : ""}</div>
  ${axis}
</section>
<section class="records-live" id="records-live">${s.live ? livePanel(s) : liveButton(s)}</section>
<table class="responsive records-list" id="records-list">${TABLE_HEAD}
<tbody id="records-rows">${rowsOf(page.items)}${moreRow(s, page.nextCursor)}</tbody></table>
${page.items.length === 0 ? html`<p class="muted" id="records-empty">No records match in this window.</p>` : ""}`
}

/** Opens the live tail in place; the URL gets live=1, so a bookmark or a reload reopens it. */
const liveButton = (s: SearchState) =>
  html`<button type="button" hx-get="/ui/records/live?${stateQuery(s)}" hx-target="#records-live" hx-swap="innerHTML" hx-push-url="/ui/records?${stateQuery(s)}&amp;live=1">▶ Live tail of this search</button>`

/** The live tail of a search: pause/resume, a bounded list, Stop (back to the search without live=1). */
function livePanel(s: SearchState): Html {
  const query = stateQuery(s)
  return html`<div class="card records-tail" id="records-tail" data-paused="false">
<div class="row"><strong>Live tail</strong> <span class="muted small">newest first · keeps the newest 500 rows · matches the search, ignores the time window</span>
<button type="button" class="tail-pause" data-action="pause">Pause</button>
<span class="tail-queued muted small" hidden></span>
<button type="button" hx-get="/ui/records?${query}" hx-target="#records-results" hx-swap="innerHTML" hx-push-url="true">Stop</button></div>
<table class="responsive records-list">${TABLE_HEAD}
<tbody id="records-tail-rows" hx-sse:connect="/ui/records/tail?${query}" hx-swap="afterbegin"></tbody></table>
</div>`
}

/** Service buckets count per level name; the SVG stacks by level number. */
function countsByLevelno(counts: Record<string, number>): Record<number, number> {
  const out: Record<number, number> = {}
  for (const [name, n] of Object.entries(counts)) {
    const levelno = levelNumber(name) ?? 0
    out[levelno] = (out[levelno] ?? 0) + n
  }
  return out
}

const isPartial = (request: Request) =>
  request.headers.get("hx-request") === "true" && request.headers.get("hx-request-type") === "partial"

function recordDetail(r: RecordRow): Html {
  const error = r.logrec.error ?? {}
  const excText =
    typeof error.exc_text === "string" ? error.exc_text : error.exc_text ? JSON.stringify(error.exc_text) : ""
  const excInfo = typeof error.exc_info === "string" ? error.exc_info : ""
  const traceback = excText || excInfo
  // the field shown as the traceback is not repeated in the table below it
  const errorRest = Object.fromEntries(
    Object.entries(error).filter(([k]) => !(traceback && k === (excText ? "exc_text" : "exc_info"))),
  )
  const otherTop = Object.fromEntries(
    Object.entries(r.logrec).filter(([k]) => !["data", "meta", "error"].includes(k)),
  )
  return html`<p><a href="/ui/records">← Records</a></p>
<h1>Record ${r.id}</h1>
<div class="card record-detail" id="record-detail" data-id="${r.id}">
  <div class="row">
    ${levelBadge(r.level, levelName(r.level))}
    <span class="badge" title="levelno">${r.level}</span>
    <code class="logger">${r.name}</code>
    <time datetime="${isoOfMicros(r.ts)}" data-local>${isoOfMicros(r.ts)}</time>
    <code class="muted small" title="UTC, microseconds">${isoOfMicros(r.ts).slice(0, -1)}${String(r.ts % 1000).padStart(3, "0")}Z</code>
    <a href="/ui/records/${r.id}" class="permalink" rel="bookmark">permalink</a>
    <a href="/api/v1/records/${r.id}" class="small">JSON</a>
  </div>
  <h2>Message</h2>
  <pre class="message" id="record-message">${r.message}</pre>
  ${
    excText
      ? html`<h2>Traceback</h2><pre class="traceback" id="record-traceback">${traceback}</pre>`
      : traceback
        ? // HTTPHandler sends str(exc_info) — the exception, not its traceback (no formatter ran before it)
          html`<h2>Exception <span class="muted small">(no traceback was sent: exc_info only)</span></h2><pre class="traceback" id="record-traceback">${traceback}</pre>`
        : ""
  }
  <h2>Data <span class="muted small">(extra=)</span></h2>
  ${fieldTable(r.logrec.data, "record-data")}
  <h2>Meta <span class="muted small">(LogRecord attributes)</span></h2>
  ${fieldTable(r.logrec.meta, "record-meta")}
  ${Object.keys(errorRest).length ? html`<h2>Error fields</h2>${fieldTable(errorRest, "record-error")}` : ""}
  ${Object.keys(otherTop).length ? html`<h2>Other</h2>${fieldTable(otherTop, "record-other")}` : ""}
</div>
<section class="card" style="margin-top:1rem">
  <h2>Around this record</h2>
  <form class="row small" hx-get="/ui/records/${r.id}/around" hx-target="#records-around" hx-trigger="load, change, submit">
    <label>before <input type="number" name="before" value="10" min="0" max="200" style="width:5rem"></label>
    <label>after <input type="number" name="after" value="10" min="0" max="200" style="width:5rem"></label>
    <label><input type="checkbox" name="sameLogger" value="1"> same logger</label>
    <label><input type="checkbox" name="sameProcess" value="1"> same process</label>
  </form>
  <div id="records-around"><span class="muted">Loading…</span></div>
</section>`
}

function clampInt(v: string | null, def: number, max: number): number {
  const n = Number(v ?? def)
  return Number.isFinite(n) ? Math.max(0, Math.min(max, Math.floor(n))) : def
}

function parseId(raw: string): number | undefined {
  return /^\d{1,15}$/.test(raw) ? Number(raw) : undefined
}

function notFound(ctx: PluginContext, request: Request, id: string): Promise<Response> {
  return ctx.ui.page(request, {
    title: "Record not found",
    status: 404,
    body: html`<h1>Record not found</h1><p>There is no record ${id} (it may have been removed by retention).</p><p><a href="/ui/records">Search records</a></p>`,
    active: "/ui/records",
  })
}

async function widget(ctx: PluginContext): Promise<Html> {
  const now = ctx.now()
  const from = now - 3_600_000
  const [buckets, top] = await Promise.all([
    histogram(ctx.db, { levelMin: 30, from: us(from), to: us(now), bucketSeconds: 300 }),
    topErrorLoggers(ctx.db, { from: us(from), to: us(now), limit: 5 }),
  ])
  const values = buckets.map((b) => Object.values(b.counts).reduce((a, n) => a + n, 0))
  const total = values.reduce((a, n) => a + n, 0)
  const link = `/ui/records?level=warning&window=1h`
  return html`<div class="records-widget">
<div class="row"><a href="${link}" style="font-size:1.6rem;font-weight:700;text-decoration:none" id="records-warning-count" data-count="${total}">${total}</a>
<span class="muted small">records at WARNING and above in the last hour</span></div>
${sparklineSvg(values, { width: 240, height: 36 })}
<h3 class="small">Top loggers by errors</h3>
${
  top.length
    ? html`<ol class="small top-loggers">${top.map(
        (t) =>
          // counted by exact name, so the link searches that name only (the Logger field adds children)
          html`<li><a href="/ui/records?${new URLSearchParams({ q: `logger=${quoted(t.name)}`, level: "error", window: "1h" }).toString()}" class="mono">${t.name}</a> <span class="badge c4">${t.count}</span></li>`,
      )}</ol>`
    : html`<p class="muted small">No errors in the last hour.</p>`
}
</div>`
}

export function recordsUi(ctx: PluginContext) {
  const read = { beforeHandle: ctx.auth.need("read"), ...hide }
  const pageHead = html`<link rel="stylesheet" href="/ui/records/assets/records.css"><script src="/ui/records/assets/records.js" defer></script>`

  return new Elysia({ name: "records.ui" })
    .get("/ui/records/assets/:file", ({ params, request }) => clientAsset(params.file, request), hide)
    .get(
      "/ui/records",
      async ({ request }) => {
        const s = parseState(new URL(request.url).searchParams, ctx.now())
        const body = await results(ctx, s)
        if (isPartial(request))
          return ctx.ui.fragment(body, { headers: { vary: "HX-Request, HX-Request-Type" } })
        return ctx.ui.page(request, {
          title: s.q ? `Records: ${s.q}` : "Records",
          active: "/ui/records",
          body: html`${pageHead}<h1>Records</h1>${searchForm(s)}<div id="records-results">${body}</div>`,
        })
      },
      read,
    )
    .get(
      "/ui/records/rows",
      async ({ request }) => {
        const params = new URL(request.url).searchParams
        const s = parseState(params, ctx.now())
        const cursor = params.get("cursor") ?? undefined
        try {
          const page = await search(ctx.db, {
            query: effectiveQuery(s),
            from: us(s.from),
            to: us(s.to),
            levelMin: s.levelMin,
            cursor,
            limit: PAGE_SIZE,
          })
          return ctx.ui.fragment(html`${rowsOf(page.items)}${moreRow(s, page.nextCursor)}`)
        } catch (e) {
          const p = searchProblem(e)
          if (!p) throw e
          return ctx.ui.fragment(
            html`<tr><td colspan="4">${queryErrorNotice(s.q, p.message, p.position)}</td></tr>`,
            {
              status: 400,
            },
          )
        }
      },
      read,
    )
    .get(
      "/ui/records/loggers",
      async ({ request }) => {
        const prefix = (new URL(request.url).searchParams.get("logger") ?? "").slice(0, 500)
        const names = await loggers(ctx.db, { prefix: prefix || undefined, limit: 50 })
        return ctx.ui.fragment(
          html`${names.map((n) => html`<option value="${n.name}">${n.count} records</option>`)}`,
        )
      },
      read,
    )
    .get(
      "/ui/records/live",
      ({ request }) => {
        return ctx.ui.fragment(livePanel(parseState(new URL(request.url).searchParams, ctx.now())))
      },
      read,
    )
    .get(
      "/ui/records/tail",
      async ({ request }) => {
        const s = parseState(new URL(request.url).searchParams, ctx.now())
        const query = effectiveQuery(s)
        try {
          if (query.trim()) compileQuery(query, ctx.db.dialect)
        } catch (e) {
          const p = searchProblem(e)
          if (!p) throw e
          return new Response(p.message, {
            status: 400,
            headers: { "content-type": "text/plain; charset=utf-8" },
          })
        }
        const lastEventId = parseId(request.headers.get("last-event-id") ?? "")
        return tailResponse(ctx, request, {
          query,
          levelMin: s.levelMin,
          afterId: lastEventId,
          render: rowsOf,
        })
      },
      read,
    )
    .get("/ui/records/widget", async () => ctx.ui.fragment(await widget(ctx)), read)
    .get(
      "/ui/records/:id",
      async ({ params, request }) => {
        const id = parseId(params.id)
        const r = id === undefined ? undefined : await getRecord(ctx.db, id)
        if (!r) return notFound(ctx, request, params.id)
        return ctx.ui.page(request, {
          title: `Record ${r.id}`,
          active: "/ui/records",
          body: html`${pageHead}${recordDetail(r)}`,
        })
      },
      read,
    )
    .get(
      "/ui/records/:id/around",
      async ({ params, request }) => {
        const id = parseId(params.id)
        const q = new URL(request.url).searchParams
        const res =
          id === undefined
            ? undefined
            : await around(ctx.db, id, {
                before: clampInt(q.get("before"), 10, 200),
                after: clampInt(q.get("after"), 10, 200),
                sameLogger: q.get("sameLogger") === "1",
                sameProcess: q.get("sameProcess") === "1",
              })
        if (!res) return ctx.ui.fragment(html`<p class="muted">No record ${params.id}.</p>`, { status: 404 })
        const self = recordRow(res.record, levelName, true)
        return ctx.ui.fragment(html`<table class="responsive records-list" id="records-around-list">${TABLE_HEAD}<tbody>
${rowsOf(res.after)}${self}${rowsOf(res.before)}</tbody></table>`)
      },
      read,
    )
}
