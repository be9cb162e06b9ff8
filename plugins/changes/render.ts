/**
 * HTML pieces of the changes UI (no routes here): event rows, description text with safe links, the
 * timeline strip (server-rendered SVG), category chips. Everything from users goes through `html`,
 * which escapes; links are only ever http(s) URLs, written as escaped attributes.
 */

import type { ChangeEvent } from "../../src/plugin/contract"
import { type Html, html } from "../../views/html"
import { bucketWidth, criticalityName } from "./service"

const iso = (ms: number) => new Date(ms).toISOString()
/** `["2026-11-22", "09:58:30"]` in UTC. */
const utcParts = (ms: number) => iso(ms).slice(0, 19).split("T")

// an http(s) URL, or an <a href="http(s)://…">text</a> the old clients liked to post
const LINK =
  /<a\s[^>]*?href\s*=\s*["'](https?:\/\/[^"'\s]+)["'][^>]*>([\s\S]*?)<\/a\s*>|https?:\/\/[^\s<>"']+/gi

/** Escaped text with http(s) URLs (and existing `<a href>` anchors to them) as links. */
export function linkify(text: string): Html {
  const parts: Html[] = []
  let last = 0
  for (const m of text.matchAll(LINK)) {
    let url = m[1] ?? m[0]
    let label = m[1] ? m[2].replace(/<[^>]*>/g, "").trim() || url : url
    let end = (m.index ?? 0) + m[0].length
    if (!m[1]) {
      // trailing punctuation belongs to the sentence, not the URL
      const trail = /[.,;:!?)\]]+$/.exec(url)?.[0] ?? ""
      url = url.slice(0, url.length - trail.length)
      label = url
      end -= trail.length
    }
    parts.push(
      html`${text.slice(last, m.index)}<a href="${url}" rel="noopener noreferrer nofollow" target="_blank">${label}</a>`,
    )
    last = end
  }
  parts.push(html`${text.slice(last)}`)
  return html`${parts}`
}

export function critBadge(c: number | null): Html {
  const cls = c !== null && c >= 1 && c <= 5 ? `c${c}` : ""
  return html`<span class="badge ${cls}" title="criticality ${c ?? "unknown"}">${c ?? "?"} ${criticalityName(c)}</span>`
}

export function eventRow(e: ChangeEvent): Html {
  const extras = [
    e.service ? html`<span class="chip" title="service">${e.service}</span>` : "",
    e.environment ? html`<span class="chip" title="environment">${e.environment}</span>` : "",
    ...Object.entries(e.tags).map(([k, v]) => html`<span class="chip" title="tag">${k}=${v}</span>`),
    e.author ? html`<span class="muted small">by ${e.author}</span>` : "",
    e.url
      ? html`<a class="small" href="${e.url}" rel="noopener noreferrer nofollow" target="_blank">link</a>`
      : "",
    e.source !== "api" ? html`<span class="muted small">via ${e.source}</span>` : "",
  ]
  return html`<tr class="change" data-id="${e.id}">
<td class="when"><time datetime="${iso(e.timestamp)}" data-local data-relative>${iso(e.timestamp)}</time><br><time class="muted small" datetime="${iso(e.timestamp)}" data-local>${iso(e.timestamp)}</time></td>
<td>${critBadge(e.criticality)}</td>
<td class="cat">${e.category ?? html`<span class="muted">none</span>`}</td>
<td class="desc">${e.description === null ? "" : linkify(e.description)}<div class="row extras">${extras}</div></td>
</tr>`
}

const COLORS = ["var(--muted)", "var(--c1)", "var(--c2)", "var(--c3)", "var(--c4)", "var(--c5)"]
const LEVEL_NAMES = ["unknown", "info", "notice", "warning", "error", "critical"]

/**
 * Stacked bars per bucket and criticality across [from, to]: one path per criticality (small markup even
 * for a busy window) and one transparent hit box per non-empty bucket carrying its tooltip. data-*
 * attributes let the page script turn a drag or click into a narrower window.
 */
export function timelineSvg(
  bins: Array<{ bucket: number; criticality: number | null; count: number }>,
  buckets: number,
  from: number,
  to: number,
): Html {
  const W = 1000
  const H = 56
  const level = (c: number | null) => (c !== null && c >= 1 && c <= 5 ? c : 0)
  const per: number[][] = Array.from({ length: buckets }, () => [0, 0, 0, 0, 0, 0])
  for (const b of bins) per[b.bucket][level(b.criticality)] += b.count
  const totals = per.map((p) => p.reduce((a, n) => a + n, 0))
  const max = Math.max(1, ...totals)
  const bw = W / buckets
  const paths = ["", "", "", "", "", ""]
  per.forEach((counts, i) => {
    let y = H
    // most critical at the bottom, where the eye starts
    for (let c = 5; c >= 0; c--) {
      if (!counts[c]) continue
      const h = Math.max(1, (counts[c] / max) * (H - 2))
      y -= h
      paths[c] +=
        `M${(i * bw).toFixed(1)} ${y.toFixed(1)}h${Math.max(1, bw - 1).toFixed(1)}v${h.toFixed(1)}h-${Math.max(1, bw - 1).toFixed(1)}z`
    }
  })
  // a bucket's tooltip states its real range, in UTC here; the page script rewrites it in the viewer's time
  // zone from the data-* attributes, as app.js does for the axis and the rows' <time data-local>
  const width = bucketWidth(from, to, buckets)
  const tip = (i: number) => {
    const start = from + i * width
    const end = i === buckets - 1 ? to : Math.min(to, start + width)
    const what = `${totals[i]} ${totals[i] === 1 ? "change" : "changes"}`
    const counts = per[i]
      .map((n, c) => (n ? `${n} ${LEVEL_NAMES[c]}` : ""))
      .filter(Boolean)
      .join(", ")
    const [d1, t1] = utcParts(start)
    const [d2, t2] = utcParts(end)
    return html`<title data-start="${start}" data-end="${end}" data-what="${what}" data-counts="${counts}">${what} from ${d1} ${t1} to ${d1 === d2 ? t2 : `${d2} ${t2}`} UTC: ${counts}</title>`
  }
  return html`<svg id="changes-timeline" class="timeline" viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" role="img"
 aria-label="events across the window; drag or click to narrow it" data-from="${from}" data-to="${to}" data-buckets="${buckets}">
<rect class="bg" x="0" y="0" width="${W}" height="${H}" fill="transparent"/>
${paths.map((d, c) => (d ? html`<path d="${d}" fill="${COLORS[c]}"/>` : ""))}
${totals.map((n, i) => (n ? html`<rect x="${(i * bw).toFixed(1)}" y="0" width="${bw.toFixed(1)}" height="${H}" fill="transparent">${tip(i)}</rect>` : ""))}
<rect class="brush" x="0" y="0" width="0" height="${H}" fill="var(--accent)" opacity="0.2"/>
</svg>
<div class="row small muted timeline-axis"><time datetime="${iso(from)}" data-local>${iso(from)}</time><span style="flex:1"></span><time datetime="${iso(to)}" data-local>${iso(to)}</time></div>`
}
