/**
 * Health pages: `/ui/health` (every check with status, message, latency sparkline, since when,
 * level/groups, recent transitions; filter by group; "run now" for admins, swapped in place by htmx)
 * and the home widget (overall status and the failing checks, refreshing itself). Rows follow new
 * results live over SSE (live.ts).
 */
import { Elysia, t } from "elysia"
import { type Html, html, unsafeRaw } from "../../views/html"
import type { Item, Viewer } from "./formats"
import { liveRows } from "./live"
import { worst } from "./runner"
import type { Health } from "./service"

const hide = { detail: { hide: true } }

/** Server-rendered SVG polyline of recent durations (ms). */
export function sparkline(durations: readonly number[], w = 120, hgt = 24): Html {
  if (durations.length < 2) return html`<span class="muted small">–</span>`
  const max = Math.max(...durations, 0.001)
  const step = w / (durations.length - 1)
  const points = durations
    .map((d, i) => `${(i * step).toFixed(1)},${(hgt - 2 - (d / max) * (hgt - 4)).toFixed(1)}`)
    .join(" ")
  const last = durations[durations.length - 1]
  // only numbers go into this markup
  return html`<svg class="sparkline" width="${w}" height="${hgt}" viewBox="0 0 ${w} ${hgt}" role="img" aria-label="latency, last ${durations.length} runs, max ${max.toFixed(1)} ms, last ${last.toFixed(1)} ms">${unsafeRaw(`<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="${points}"/>`)}</svg>`
}

const time = (ms: number) => {
  const iso = new Date(ms).toISOString()
  return html`<time datetime="${iso}" data-local data-relative>${iso}</time>`
}

/** One check's row; `oob` marks it for an out-of-band swap (the live stream replaces rows by id). */
export function row(h: Health, item: Item, v: Viewer, oob = false): Html {
  const { spec, outcome: o } = item
  const entry = h.runner.get(spec.name)
  const recent = h.state.recent(spec.name, 5)
  return html`<tr id="check-${spec.name}" data-check="${spec.name}" data-status="${o.status}"${oob ? html` hx-swap-oob="outerHTML"` : ""}>
  <td><strong>${spec.name}</strong><br><span class="muted small">${spec.source}</span></td>
  <td><span class="badge ${o.status}">${o.status}</span>${spec.critical ? "" : html` <span class="muted small">non-critical</span>`}</td>
  <td class="small">${v.details ? o.message : html`<span class="muted">hidden (sign in)</span>`}</td>
  <td class="small">${o.durationMs.toFixed(1)} ms<br>${sparkline(entry?.durations ?? [])}</td>
  <td class="small">${item.since !== undefined ? time(item.since) : "–"}</td>
  <td class="small">level ${spec.level}<br>${spec.groups.map((g) => html`<span class="chip">${g}</span> `)}</td>
  <td class="small">${
    recent.length
      ? html`<ul class="transitions" style="list-style:none;margin:0;padding:0">${recent.map((tr) => html`<li>${time(tr.at)} ${tr.from ?? "unknown"} → <span class="badge ${tr.to}">${tr.to}</span></li>`)}</ul>`
      : html`<span class="muted">none</span>`
  }</td>
  <td>${v.admin ? html`<button type="button" hx-post="/ui/health/checks/${spec.name}/run" hx-target="closest tr" hx-swap="outerHTML">Run now</button>` : ""}</td>
</tr>`
}

export function healthUi(h: Health) {
  const { runner, ctx } = h
  const read = { beforeHandle: ctx.auth.need("read"), ...hide }
  return new Elysia({ name: "health.ui", strictPath: true })
    .get(
      "/ui/health",
      async ({ request, query }) => {
        const viewer = await h.viewer(request)
        const groups = [...new Set(runner.entries().flatMap((e) => e.spec.groups))].sort()
        const group = query.group && groups.includes(query.group) ? query.group : undefined
        const items = await h.items(runner.select({ group }))
        const overall = worst(items.map((i) => i.outcome.status))
        const problems = [
          ...ctx
            .plugins()
            .filter((p) => p.status === "failed")
            .map((p) => `${p.source}: ${(p.error ?? "failed").split("\n")[0]}`),
          ...h.problems,
        ]
        const body = html`<h1>Health <span class="badge ${overall}" id="health-overall">${overall}</span></h1>
<p class="muted small">Instance <code>${ctx.instanceId}</code> · phase ${runner.phase()} ·
  formats: <a href="/health">/health</a> · <a href="/readyz?verbose">/readyz</a> · <a href="/livez?verbose">/livez</a> ·
  <a href="/healthcheck/">/healthcheck/</a> · <a href="/c2c/health_check?max_level=100">/c2c/health_check</a> ·
  <a href="/actuator/health">/actuator/health</a></p>
${problems.length ? html`<div class="notice error" id="health-problems"><strong>Problems</strong><ul>${problems.map((p) => html`<li>${p}</li>`)}</ul></div>` : ""}
<nav class="row" aria-label="Filter by group" id="health-groups">
  <a class="chip ${group ? "" : "on"}" href="/ui/health">all</a>
  ${groups.map((g) => html`<a class="chip ${g === group ? "on" : ""}" href="/ui/health?group=${encodeURIComponent(g)}">${g}</a>`)}
</nav>
<div id="health-live" hx-sse:connect="/ui/health/stream${group ? `?group=${encodeURIComponent(group)}` : ""}" hx-swap="none" hidden></div>
<table class="responsive" id="health-checks">
<thead><tr><th>Check</th><th>Status</th><th>Message</th><th>Latency</th><th>Since</th><th>Level / groups</th><th>Recent transitions</th><th></th></tr></thead>
<tbody>
${items.map((i) => row(h, i, viewer))}
</tbody></table>
${items.length ? "" : html`<p class="muted">No check in this group.</p>`}`
        return ctx.ui.page(request, { title: "Health", body, active: "/ui/health" })
      },
      { ...read, query: t.Object({ group: t.Optional(t.String()) }) },
    )
    .get(
      "/ui/health/stream",
      async ({ request, query }) => {
        const viewer = await h.viewer(request)
        return liveRows(h, request, { group: query.group, render: (item) => row(h, item, viewer, true) })
      },
      { ...read, query: t.Object({ group: t.Optional(t.String()) }) },
    )
    .post(
      "/ui/health/checks/:name/run",
      async ({ request, params }) => {
        const entry = runner.get(params.name)
        if (!entry)
          return ctx.ui.fragment(html`<tr><td colspan="8">no check ${params.name}</td></tr>`, { status: 404 })
        const [item] = await h.items([entry], { force: true })
        return ctx.ui.fragment(row(h, item, await h.viewer(request)))
      },
      { ...hide, beforeHandle: ctx.auth.need("admin"), params: t.Object({ name: t.String() }) },
    )
    .get(
      "/ui/health/widget",
      async ({ request }) => {
        const viewer = await h.viewer(request)
        const items = await h.items(runner.entries())
        const overall = worst(items.map((i) => i.outcome.status))
        const bad = items.filter((i) => i.outcome.status !== "pass")
        return ctx.ui.fragment(html`<div id="health-widget" data-status="${overall}">
<p><span class="badge ${overall}">${overall}</span> ${items.length - bad.length} of ${items.length} checks pass</p>
${
  bad.length
    ? html`<ul>${bad.map((i) => html`<li><span class="badge ${i.outcome.status}">${i.outcome.status}</span> <strong>${i.spec.name}</strong>${viewer.details && i.outcome.message ? html` <span class="small">${i.outcome.message}</span>` : ""}</li>`)}</ul>`
    : ""
}
<p class="small"><a href="/ui/health">All checks →</a></p>
</div>`)
      },
      read,
    )
}
