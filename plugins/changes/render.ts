/**
 * HTML pieces of the changes UI (no routes here): event rows, description text with safe links, the
 * timeline strip (server-rendered SVG), category chips. Everything from users goes through `html`,
 * which escapes; links are only ever http(s) URLs, written as escaped attributes.
 */

import type { ChangeEvent } from "../../src/plugin/contract"
import { type Html, html } from "../../views/html"
import { criticalityName } from "./service"

const iso = (ms: number) => new Date(ms).toISOString()

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

/** Stacked bars per bucket and criticality across [from, to]; data-* lets the page script brush it. */
export function timelineSvg(
  bins: Array<{ bucket: number; criticality: number | null; count: number }>,
  buckets: number,
  from: number,
  to: number,
): Html {
  const W = 1000
  const H = 56
  const totals = new Array(buckets).fill(0)
  for (const b of bins) totals[b.bucket] += b.count
  const max = Math.max(1, ...totals)
  const bw = W / buckets
  const stacked = new Array(buckets).fill(0)
  const sorted = [...bins].sort((a, b) => (a.criticality ?? 0) - (b.criticality ?? 0))
  const rects = sorted.map((b) => {
    const h = (b.count / max) * (H - 2)
    const y = H - stacked[b.bucket] - h
    stacked[b.bucket] += h
    const c = b.criticality !== null && b.criticality >= 1 && b.criticality <= 5 ? b.criticality : 0
    return html`<rect x="${(b.bucket * bw).toFixed(2)}" y="${y.toFixed(2)}" width="${Math.max(1, bw - 1).toFixed(2)}" height="${Math.max(1, h).toFixed(2)}" fill="${COLORS[c]}"><title>${b.count} × ${criticalityName(b.criticality)}</title></rect>`
  })
  return html`<svg id="changes-timeline" class="timeline" viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" role="img"
 aria-label="events across the window; drag or click to narrow it" data-from="${from}" data-to="${to}" data-buckets="${buckets}">
<rect class="bg" x="0" y="0" width="${W}" height="${H}" fill="transparent"/>
${rects}
<rect class="brush" x="0" y="0" width="0" height="${H}" fill="var(--accent)" opacity="0.2"/>
</svg>
<div class="row small muted timeline-axis"><time datetime="${iso(from)}" data-local>${iso(from)}</time><span style="flex:1"></span><time datetime="${iso(to)}" data-local>${iso(to)}</time></div>`
}
