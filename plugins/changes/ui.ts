/**
 * The changes pages: /ui/changes (filters in the query string, timeline strip, newest-first list with
 * load-more, live rows over SSE while the window ends at now), its fragments, and the home widget.
 */
import { Elysia } from "elysia"
import type { ChangeEvent, PluginContext } from "../../src/plugin/contract"
import { type Html, html, unsafeRaw } from "../../views/html"
import { createResponseCache } from "./cache"
import { gzipFast } from "./gzip"
import { critBadge, eventRow, timelineSvg } from "./render"
import { type ChangeStore, criticalityName, decodeCursor, encodeCursor, matches } from "./service"
import { clientAsset } from "./ui-assets"
import { filterOfView, PRESETS, queryOf, untilParam, type ViewState, viewFromQuery } from "./view"

const PAGE_SIZE = 50
const BUCKETS = 60

export function uiRoutes(ctx: PluginContext, store: ChangeStore, opts: { readCache: boolean }) {
  const read = ctx.auth.need("read")
  const hide = { detail: { hide: true }, beforeHandle: read }
  const cache = createResponseCache<string>(opts.readCache)

  function moreRow(v: ViewState, last: ChangeEvent): Html {
    const url = `/ui/changes/rows?${queryOf(v)}&cursor=${encodeCursor({ ts: last.timestamp, id: last.id })}`
    return html`<tr id="changes-more"><td colspan="4"><button type="button" hx-get="${url}" hx-trigger="click, intersect once" hx-target="#changes-more" hx-swap="outerHTML">Load more</button></td></tr>`
  }

  async function rowsOf(v: ViewState, cursor?: { ts: number; id: number }): Promise<Html> {
    const { filter } = filterOfView(v, ctx.now())
    const events = await store.list(filter, { limit: PAGE_SIZE + 1, cursor })
    const page = events.slice(0, PAGE_SIZE)
    const last = page[page.length - 1]
    return html`${page.map(eventRow)}${events.length > PAGE_SIZE && last ? moreRow(v, last) : ""}`
  }

  async function results(v: ViewState): Promise<Html> {
    const now = ctx.now()
    const { filter, from, to } = filterOfView(v, now)
    const chipFilter = filterOfView(v, now, { withCategories: false }).filter
    const [counts, bins, rows] = await Promise.all([
      store.countByCategory(chipFilter),
      store.histogram({ ...filter, from, to }, BUCKETS),
      rowsOf(v),
    ])
    const total = bins.reduce((n, b) => n + b.count, 0)
    const selected = new Set(v.category)
    const chips = counts.map((c) => ({ name: c.category ?? "", count: c.count }))
    for (const s of v.category) if (!chips.some((c) => c.name === s)) chips.push({ name: s, count: 0 })
    const live = v.until === undefined && !v.paused
    const q = queryOf(v)
    return html`<div id="changes-results" ${v.dashboard ? html`hx-get="/ui/changes?${q}" hx-trigger="every 10s" hx-target="this" hx-swap="outerHTML"` : ""}>
${v.problems.map((p) => html`<div class="notice error" role="alert">${p}</div>`)}
<div class="row chips" id="changes-categories" aria-label="categories (click toggles, shift/alt-click shows only that one)">
${chips.map((c) =>
  // events without a category (old clients may send null) can be counted but not selected
  c.name === ""
    ? html`<span class="chip muted" title="events without a category">(none) <span class="badge">${c.count}</span></span>`
    : html`<button type="button" class="chip ${selected.has(c.name) ? "on" : ""}" data-category="${c.name}" aria-pressed="${selected.has(c.name) ? "true" : "false"}">${c.name} <span class="badge">${c.count}</span></button>`,
)}
${selected.size ? html`<button type="button" class="chip" data-category-all>show all</button>` : ""}
</div>
${timelineSvg(bins, BUCKETS, from, to)}
<p class="small muted" id="changes-summary"><span id="changes-count" data-total="${total}">${total} ${total === 1 ? "change" : "changes"}</span> in this window${live ? html` · <span class="live-dot">live</span>` : v.until === undefined ? " · live updates paused" : ""}</p>
<table class="responsive changes-list">
<thead><tr><th>When</th><th>Criticality</th><th>Category</th><th>Description</th></tr></thead>
${live ? html`<tbody id="changes-live" hx-sse:connect="/ui/changes/live?${q}" hx-swap="afterbegin"></tbody>` : ""}
<tbody id="changes-rows">${rows}</tbody>
</table>
${total === 0 ? html`<p class="muted" id="changes-empty">No changes match in this window.</p>` : ""}
</div>`
  }

  function filters(v: ViewState): Html {
    const custom = !(PRESETS as readonly string[]).includes(v.window)
    return html`<form id="changes-filters" class="card" action="/ui/changes" method="get" ${v.dashboard ? "hidden" : ""}
 hx-get="/ui/changes" hx-target="#changes-results" hx-swap="outerHTML" hx-push-url="true" hx-sync="this:replace"
 hx-trigger="submit, change, input delay:500ms">
<input type="hidden" name="window" value="${v.window}">
<input type="hidden" name="until" value="${v.until === undefined ? "" : untilParam(v.until)}">
<input type="hidden" name="category" value="${v.category.join(",")}">
${v.dashboard ? html`<input type="hidden" name="dashboard" value="1">` : ""}
<div class="row">
  <span class="muted small">Window</span>
  ${PRESETS.map((p) => html`<button type="button" class="chip ${v.window === p ? "on" : ""}" data-window="${p}">${p}</button>`)}
  <label class="small">custom <input id="changes-window-custom" size="7" placeholder="90m" value="${custom ? v.window : ""}" aria-label="custom window, e.g. 90m, 6h, 2d" aria-describedby="changes-window-error"></label>
  <span id="changes-window-error" class="error small" role="alert" hidden></span>
  <label class="small">ending <input type="datetime-local" id="changes-until-local" step="1" aria-label="window end (empty = now)"></label>
  <button type="button" class="chip" data-now ${v.until === undefined ? "hidden" : ""}>now</button>
</div>
<div class="row">
  <span class="muted small">Criticality</span>
  ${[5, 4, 3, 2, 1].map(
    (c) =>
      html`<label><input type="checkbox" name="criticality" value="${c}" ${v.criticality.includes(c) ? "checked" : ""}> ${critBadge(c)}</label>`,
  )}
</div>
<div class="row">
  <label class="small">Service <input name="service" size="12" value="${v.service.join(",")}" placeholder="any"></label>
  <label class="small">Environment <input name="environment" size="12" value="${v.environment.join(",")}" placeholder="any"></label>
  <label class="small">Search <input type="search" name="q" size="24" value="${v.q}" placeholder="description contains…"></label>
  <label class="small"><input type="checkbox" name="paused" value="1" ${v.paused ? "checked" : ""}> Pause live</label>
</div>
</form>`
  }

  /** What the results of a view depend on: its query and the notices about what the URL asked for. */
  const keyOf = (v: ViewState) => [queryOf(v), ...v.problems].join("\n")

  /** The rendered results for a query (shared by concurrent requests, kept within one second). */
  const cachedResults = (v: ViewState): Promise<string> =>
    cache.get(keyOf(v), store.generation(), ctx.now(), async () => (await results(v)).value)

  // The page is tens of kB (50 rows and the timeline) and browsers accept gzip: a page is compressed once
  // per view, visitor and second (same rules as the results cache), not once per request.
  const gzCache = createResponseCache<{ body: Uint8Array<ArrayBuffer>; headers: [string, string][] }>(
    opts.readCache,
  )
  async function compress(response: Response) {
    const headers = new Headers(response.headers)
    headers.set("content-encoding", "gzip")
    headers.append("vary", "Accept-Encoding")
    headers.delete("content-length")
    const list: [string, string][] = []
    headers.forEach((value, name) => {
      list.push([name, value])
    })
    return { body: gzipFast(await response.text()), headers: list }
  }

  return new Elysia({ name: "changes.ui" })
    .get(
      "/ui/changes",
      async ({ request }) => {
        const v = viewFromQuery(new URL(request.url).searchParams)
        const partial =
          request.headers.get("hx-request") === "true" && request.headers.get("hx-request-type") === "partial"
        const render = async () => {
          const canonical = `/ui/changes?${queryOf(v)}`
          // markup rendered by results() above (escaped there), kept as a string in the cache
          const body = unsafeRaw(await cachedResults(v))
          if (partial)
            return ctx.ui.fragment(body, { headers: { "hx-push-url": canonical, vary: "HX-Request-Type" } })
          return ctx.ui.page(request, {
            title: "Changes",
            active: "/ui/changes",
            body: html`<h1>Changes</h1>${filters(v)}${body}`,
          })
        }
        if (!/\bgzip\b/.test(request.headers.get("accept-encoding") ?? "")) return render()
        // the layout depends on who is asking (name, sign-in state, CSRF token): part of the key
        const who = await ctx.auth.principal(request)
        const key = `${keyOf(v)}|${partial}|${who.via}:${who.name}|${await ctx.ui.csrfToken(request)}`
        const gz = await gzCache.get(key, store.generation(), ctx.now(), async () => compress(await render()))
        return new Response(gz.body, { headers: gz.headers })
      },
      hide,
    )
    .get(
      "/ui/changes/rows",
      async ({ request }) => {
        const q = new URL(request.url).searchParams
        const cursor = decodeCursor(q.get("cursor") ?? "")
        if (!cursor) return new Response("bad cursor", { status: 400 })
        return ctx.ui.fragment(await rowsOf(viewFromQuery(q), cursor))
      },
      hide,
    )
    .get(
      "/ui/changes/live",
      async ({ request }) => {
        const v = viewFromQuery(new URL(request.url).searchParams)
        const encoder = new TextEncoder()
        // New rows come from the store's live feed: at once for this instance's commits, within a moment
        // for other instances sharing the database. `sent` keeps a row from ever showing twice.
        const sent = new Set<number>()
        let stop = () => {}
        const stream = new ReadableStream<Uint8Array>({
          start(controller) {
            const send = (text: string) => {
              try {
                controller.enqueue(encoder.encode(text))
              } catch {
                stop()
              }
            }
            const sendRows = (events: ChangeEvent[]) => {
              const fresh = events.filter((e) => !sent.has(e.id))
              if (!fresh.length) return
              if (sent.size > 5000) sent.clear()
              for (const e of fresh) sent.add(e.id)
              const data = html`${fresh.map(eventRow)}`.value
              send(
                `${data
                  .split("\n")
                  .map((l) => `data: ${l}`)
                  .join("\n")}\n\n`,
              )
            }
            const unsubscribe = store.subscribe((events) => {
              // the filter is rebuilt per batch: its window start moves with the clock; newest on top
              const { filter } = filterOfView(v, ctx.now())
              sendRows(events.filter((e) => matches(filter, e)).reverse())
            })
            // a keep-alive below Bun.serve's idle timeout
            const tick = setInterval(() => send(": keep-alive\n\n"), 5_000)
            stop = () => {
              clearInterval(tick)
              unsubscribe()
            }
            request.signal.addEventListener("abort", () => {
              stop()
              try {
                controller.close()
              } catch {}
            })
            send(": connected\n\n")
          },
          cancel() {
            stop()
          },
        })
        return new Response(stream, {
          headers: {
            "content-type": "text/event-stream",
            "cache-control": "no-cache",
            "x-accel-buffering": "no",
          },
        })
      },
      hide,
    )
    .get(
      "/ui/changes/widget",
      async () => {
        const now = ctx.now()
        const filter = { from: now - 3_600_000 }
        const [n, latest] = await Promise.all([store.count(filter), store.list({}, { limit: 5 })])
        return ctx.ui.fragment(html`<p><a href="/ui/changes?window=1h"><strong id="changes-hour-count">${n}</strong> ${n === 1 ? "change" : "changes"} in the last hour</a></p>
<ul class="changes-latest">${latest.map(
          (e) =>
            html`<li>${critBadge(e.criticality)} <strong>${e.category ?? ""}</strong> ${(e.description ?? "").slice(0, 140)} <time class="muted small" datetime="${new Date(e.timestamp).toISOString()}" data-local data-relative title="${criticalityName(e.criticality)}"></time></li>`,
        )}</ul>`)
      },
      hide,
    )
    .get("/ui/changes/assets/:name", ({ params, request }) => clientAsset(params.name, request), {
      detail: { hide: true },
    })
}
