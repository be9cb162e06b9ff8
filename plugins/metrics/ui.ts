/**
 * `/ui/metrics`: search series names (own and received), chart one or several over a window with the
 * change events of that window as markers, pin series; `/ui/metrics/widget`: sparklines of the pinned
 * series for the home page. Filters live in the query string, so every chart is a permalink.
 */
import { Elysia, t } from "elysia"
import { assetServer } from "../../views/assets"
import { type Html, html } from "../../views/html"
import { type ChartSeries, chart, sparkline } from "./chart"
import { storedPoints, storedSeries } from "./persist"
import type { Origin, Point, Series } from "./series"
import type { MetricsContext, MetricsService } from "./service"
import { withDot } from "./statsd-format"
// the page's own stylesheet and script (`type: "file"`: embedded in the compiled binary)
import css from "./ui-client.css" with { type: "file" }
// @ts-expect-error a plain browser script imported as a file path, not as a module
import js from "./ui-client.js" with { type: "file" }

export const WINDOWS = { "15m": 15 * 60_000, "1h": 3_600_000, "6h": 6 * 3_600_000, "24h": 24 * 3_600_000 }
type WindowName = keyof typeof WINDOWS
const MAX_SELECTED = 8
const MAX_PINS = 50
const MAX_KEY_LENGTH = 1000
/** Series listed per group (received, own) before "showing 50 of N — type to narrow". */
const LIST_LIMIT = 50
/** Stored series names read for the list and its counts (past it the count is "N+"). */
const STORED_SCAN = 10_000

interface SeriesGroup {
  /** The first `LIST_LIMIT` matching keys, sorted. */
  keys: string[]
  /** How many match; `atLeast`: the stored names were cut, there may be more. */
  total: number
  atLeast: boolean
}
type SeriesList = Record<Origin, SeriesGroup>

/**
 * The selected series keys of a page URL: every `s` parameter, read from the raw query string. Not from
 * Elysia's parsed query: it splits an array parameter's values at commas, and tagged keys are full of
 * them (`name{a:1,b:2}|ms`).
 */
function selectedKeys(url: string): string[] {
  const keys = new URL(url).searchParams.getAll("s").filter((k) => k !== "" && k.length <= MAX_KEY_LENGTH)
  return [...new Set(keys)].slice(0, MAX_SELECTED)
}

const typeOfKey = (key: string) => key.slice(key.lastIndexOf("|") + 1) as Series["type"]
const labelOfKey = (key: string) => key.slice(0, key.lastIndexOf("|"))

export function createQueries(ctx: MetricsContext, svc: MetricsService) {
  async function points(key: string, from: number, to: number): Promise<Point[]> {
    const s = svc.store.get(key)
    const mem = s ? svc.store.points(s, from, to) : []
    if (!ctx.settings.persist || (mem.length > 0 && mem[0].t - from < 60_000)) return mem
    const older = await storedPoints(ctx.db, key, from, mem.length ? mem[0].t - 1 : to)
    return [...older, ...mem]
  }
  /**
   * Series whose key contains `q`, in two groups: received (statsd over UDP: the applications') and
   * Logbook's own, each sorted and cut to `limit` with its full count. Stored series that memory no
   * longer holds are Logbook's own when their name has the push prefix.
   */
  async function search(q: string, limit = LIST_LIMIT): Promise<SeriesList> {
    const needle = q.toLowerCase()
    const groups: Record<Origin, Set<string>> = { received: new Set(), own: new Set() }
    for (const s of svc.store.all()) if (s.key.toLowerCase().includes(needle)) groups[s.origin].add(s.key)
    let storedCut = false
    if (ctx.settings.persist) {
      const stored = await storedSeries(ctx.db, q, STORED_SCAN)
      storedCut = stored.length >= STORED_SCAN
      const ownPrefix = withDot(ctx.settings.statsdPrefix)
      for (const k of stored)
        if (!groups.received.has(k) && !groups.own.has(k))
          groups[ownPrefix !== "" && k.startsWith(ownPrefix) ? "own" : "received"].add(k)
    }
    const group = (keys: Set<string>): SeriesGroup => ({
      keys: [...keys].sort().slice(0, limit),
      total: keys.size,
      atLeast: storedCut,
    })
    return { received: group(groups.received), own: group(groups.own) }
  }
  async function chartSeries(keys: string[], from: number, to: number): Promise<ChartSeries[]> {
    return Promise.all(
      keys.map(async (key) => ({
        label: labelOfKey(key),
        type: typeOfKey(key),
        points: await points(key, from, to),
      })),
    )
  }
  const pins = async () =>
    (await ctx.db.all<{ series: string }>("SELECT series FROM metrics_pins ORDER BY created_at, series")).map(
      (r) => r.series,
    )
  return { points, search, chartSeries, pins }
}

const assets = assetServer(
  {
    "metrics.css": { path: css, type: "text/css; charset=utf-8" },
    "metrics.js": { path: js, type: "text/javascript; charset=utf-8" },
  },
  "no-cache",
)
const pageHead = html`<link rel="stylesheet" href="/ui/metrics/assets/metrics.css"><script src="/ui/metrics/assets/metrics.js" defer></script>`
const isPartial = (request: Request) =>
  request.headers.get("hx-request") === "true" && request.headers.get("hx-request-type") === "partial"

function urlWith(params: { q: string; w: WindowName; s: string[] }): string {
  const u = new URLSearchParams()
  if (params.q) u.set("q", params.q)
  u.set("w", params.w)
  for (const s of params.s) u.append("s", s)
  return `/ui/metrics?${u}`
}

export function uiRoutes(ctx: MetricsContext, svc: MetricsService) {
  const qs = createQueries(ctx, svc)
  const read = ctx.auth.need("read")
  const receiverHint = ctx.settings.listen
    ? `None yet: send statsd / DogStatsD lines over UDP to ${ctx.settings.listen}.`
    : "None: the statsd receiver is off (LOGBOOK_STATSD_LISTEN)."
  return new Elysia()
    .get(
      "/ui/metrics/assets/:file",
      async ({ params, request }) =>
        (await assets(params.file, request)) ?? new Response("no such asset", { status: 404 }),
      { detail: { hide: true } },
    )
    .get(
      "/ui/metrics",
      async ({ request, query }) => {
        const w = (Object.hasOwn(WINDOWS, query.w ?? "") ? query.w : "1h") as WindowName
        const q = (query.q ?? "").slice(0, 200)
        const selected = selectedKeys(request.url)
        const to = ctx.now()
        const from = to - WINDOWS[w]
        const [matches, series, changes, pinned] = await Promise.all([
          qs.search(q),
          qs.chartSeries(selected, from, to),
          ctx.changes.between(from, to, { limit: 200 }),
          qs.pins(),
        ])
        const csrf = await ctx.ui.csrfToken(request)
        const here = urlWith({ q, w, s: selected })
        const pinForm = (key: string) => {
          const on = pinned.includes(key)
          return html`<form method="post" action="/ui/metrics/pins" class="inline">
<input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="series" value="${key}">
<input type="hidden" name="pin" value="${on ? "0" : "1"}"><input type="hidden" name="back" value="${here}">
<button type="submit" class="chip${on ? " on" : ""}">${on ? "Unpin" : "Pin"}</button></form>`
        }
        const seriesGroup = (g: SeriesGroup, origin: Origin, empty: string) =>
          g.total === 0
            ? html`<p class="muted small">${empty}</p>`
            : html`<ul class="series-group" data-origin="${origin}">${g.keys.map(
                (m) =>
                  html`<li><a href="${urlWith({ q, w, s: selected.includes(m) ? selected : [...selected, m] })}"><code>${labelOfKey(m)}</code></a> <span class="badge">${typeName(typeOfKey(m))}</span></li>`,
              )}</ul>
${g.total > g.keys.length || g.atLeast ? html`<p class="small muted list-cut" data-origin="${origin}">showing ${g.keys.length} of ${g.total.toLocaleString("en")}${g.atLeast ? "+" : ""} — type to narrow</p>` : ""}`
        // htmx: typing or changing the window swaps the page's content in place and pushes the URL; the
        // plain GET form is the same request without JavaScript
        const body: Html = html`<div id="metrics-page"><h1>Metrics</h1>
<form method="get" action="/ui/metrics" class="row" id="metrics-search" hx-get="/ui/metrics" hx-target="#metrics-page" hx-swap="outerHTML" hx-push-url="true" hx-trigger="submit, change, input changed delay:300ms">
<input type="search" id="metrics-q" name="q" value="${q}" placeholder="search metric names" aria-label="search metric names" autocomplete="off">
${selected.map((s) => html`<input type="hidden" name="s" value="${s}">`)}
<select name="w" aria-label="window">${Object.keys(WINDOWS).map(
          (k) => html`<option value="${k}"${k === w ? html` selected` : ""}>${k}</option>`,
        )}</select>
<button type="submit">Show</button>
</form>
<section class="card" id="metrics-chart">
${
  selected.length
    ? html`${chart(series, from, to, changes)}
<ul class="small" id="selected-series">${selected.map(
        (s) =>
          html`<li><code>${labelOfKey(s)}</code> <a href="${urlWith({ q, w, s: selected.filter((x) => x !== s) })}">remove</a> ${pinForm(s)}</li>`,
      )}</ul>`
    : html`<p class="muted">Pick one or more series below to chart them over the last ${w}.</p>`
}
<p class="small muted">${changes.length} change event(s) in this window${changes.length ? " (dashed markers; hover for details)" : ""}.</p>
</section>
<section class="card">
<h2>Series${q ? html` matching “${q}”` : ""}</h2>
<div id="series-list">
<h3 class="small">Received</h3>
${seriesGroup(matches.received, "received", q ? "No received series match." : receiverHint)}
<h3 class="small">Logbook's own</h3>
${seriesGroup(matches.own, "own", q ? "No own series match." : "None yet.")}
</div>
</section></div>`
        // the page's stylesheet and script (local times) once, outside what htmx swaps
        return ctx.ui.page(request, {
          title: "Metrics",
          body: isPartial(request) ? body : html`${pageHead}${body}`,
          active: "/ui/metrics",
        })
      },
      {
        beforeHandle: read,
        query: t.Object({
          q: t.Optional(t.String({ maxLength: 200 })),
          w: t.Optional(t.String({ maxLength: 8 })),
          // `s` (repeated: the selected series) is read by selectedKeys from the raw URL
        }),
        detail: { hide: true },
      },
    )
    .get(
      "/ui/metrics/widget",
      async () => {
        const to = ctx.now()
        const from = to - WINDOWS["1h"]
        const keys = await qs.pins()
        if (keys.length === 0)
          return ctx.ui.fragment(
            html`<p class="muted">No pinned series. Pin some on <a href="/ui/metrics">Metrics</a>.</p>`,
          )
        const series = await qs.chartSeries(keys, from, to)
        return ctx.ui.fragment(
          html`<ul class="metrics-pins">${series.map(
            (s, i) =>
              html`<li><a href="${urlWith({ q: "", w: "1h", s: [keys[i]] })}"><code>${s.label}</code></a><br>${sparkline(s, from, to)}</li>`,
          )}</ul>`,
        )
      },
      { beforeHandle: read, detail: { hide: true } },
    )
    .post(
      "/ui/metrics/pins",
      async ({ body }) => {
        if (body.pin === "1") {
          const n = await ctx.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM metrics_pins")
          if (Number(n?.n ?? 0) < MAX_PINS)
            await ctx.db.run(
              "INSERT INTO metrics_pins (series, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
              [body.series, ctx.now()],
            )
        } else await ctx.db.run("DELETE FROM metrics_pins WHERE series = ?", [body.series])
        const back = body.back?.startsWith("/ui/metrics") ? body.back : "/ui/metrics"
        return new Response(null, { status: 303, headers: { location: back } })
      },
      {
        beforeHandle: read,
        body: t.Object({
          series: t.String({ minLength: 1, maxLength: MAX_KEY_LENGTH }),
          pin: t.Union([t.Literal("1"), t.Literal("0")]),
          back: t.Optional(t.String({ maxLength: 4000 })),
          _csrf: t.Optional(t.String()),
        }),
        detail: { hide: true },
      },
    )
}

const typeName = (t: Series["type"]) =>
  t === "c" ? "counter" : t === "g" ? "gauge" : t === "s" ? "set" : "timer"
