/**
 * Server-rendered SVG charts: several series on one time axis (counters as rates per second, timers as
 * p50/p90/p99 lines, gauges as values) with change events as vertical markers (hover: SVG <title>),
 * and small sparklines for the home widget. Everything interpolated goes through `html` (escaped).
 */
import type { ChangeEvent } from "../../src/plugin/contract"
import { type Html, html } from "../../views/html"
import type { Point, SeriesType } from "./series"

export interface ChartSeries {
  label: string
  type: SeriesType
  points: Point[]
}

interface Line {
  label: string
  values: Array<[number, number]>
}

const W = 800
const H = 260
const PAD = { l: 56, r: 12, t: 12, b: 40 }

export function linesOf(s: ChartSeries): Line[] {
  if (s.type !== "ms")
    return [{ label: `${s.label}${s.type === "c" ? " (/s)" : ""}`, values: s.points.map((p) => [p.t, p.v]) }]
  return (["p50", "p90", "p99"] as const).map((q) => ({
    label: `${s.label} ${q} (ms)`,
    values: s.points.filter((p) => p[q] !== undefined).map((p) => [p.t, p[q] as number] as [number, number]),
  }))
}

const colour = (i: number) => `hsl(${(i * 67 + 210) % 360} 70% 45%)`
const fmt = (v: number) =>
  Math.abs(v) >= 1000 ? v.toExponential(2) : Math.abs(v) >= 10 ? v.toFixed(0) : v.toFixed(2)
/**
 * The x-axis tick labels in UTC (the page's script rewrites them in the viewer's zone from `data-t`):
 * HH:MM, with MM-DD when a tick is on another day than the one before it.
 */
export function utcTicks(times: number[]): string[] {
  const day = (t: number) => new Date(t).toISOString().slice(5, 10)
  return times.map((t, i) => {
    const hm = new Date(t).toISOString().slice(11, 16)
    return i > 0 && day(times[i - 1]) !== day(t) ? `${day(t)} ${hm}` : hm
  })
}

export function chart(series: ChartSeries[], from: number, to: number, changes: ChangeEvent[]): Html {
  const lines = series.flatMap(linesOf)
  let max = 0
  for (const l of lines) for (const [, v] of l.values) if (v > max) max = v
  if (max === 0) max = 1
  const x = (t: number) => PAD.l + ((t - from) / (to - from)) * (W - PAD.l - PAD.r)
  const y = (v: number) => H - PAD.b - (v / max) * (H - PAD.t - PAD.b)
  const ticks = [0, 0.25, 0.5, 0.75, 1]
  const times = ticks.map((f) => from + (to - from) * f)
  const timeLabels = utcTicks(times)
  return html`<svg class="metrics-chart" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="metrics chart" xmlns="http://www.w3.org/2000/svg">
<rect x="${PAD.l}" y="${PAD.t}" width="${W - PAD.l - PAD.r}" height="${H - PAD.t - PAD.b}" fill="none" stroke="currentColor" stroke-opacity="0.2"/>
${ticks.map(
  (f) =>
    html`<text x="${PAD.l - 4}" y="${y(max * f) + 4}" text-anchor="end" font-size="10" fill="currentColor">${fmt(max * f)}</text>`,
)}
${ticks.map(
  (f, i) =>
    html`<text class="x-tick" data-t="${times[i]}" x="${x(times[i])}" y="${H - PAD.b + 14}" text-anchor="${f === 0 ? "start" : f === 1 ? "end" : "middle"}" font-size="10" fill="currentColor">${timeLabels[i]}</text>`,
)}
<text class="x-zone" x="${(PAD.l + W - PAD.r) / 2}" y="${H - 4}" text-anchor="middle" font-size="10" fill="currentColor" fill-opacity="0.7">time (UTC)</text>
${changes
  .filter((c) => c.timestamp >= from && c.timestamp <= to)
  .map(
    (
      c,
    ) => html`<g class="change-marker" data-change-id="${c.id}" data-t="${c.timestamp}"><title>${new Date(c.timestamp).toISOString()} ${c.category ?? ""}: ${c.description ?? ""}${c.service ? ` (${c.service})` : ""}</title>
<line x1="${x(c.timestamp)}" x2="${x(c.timestamp)}" y1="${PAD.t}" y2="${H - PAD.b}" stroke="#d97706" stroke-dasharray="4 3"/>
<rect class="hit" x="${x(c.timestamp) - 5}" y="${PAD.t}" width="10" height="${H - PAD.t - PAD.b}" fill="transparent"/>
</g>`,
  )}
${lines.map(
  (l, i) =>
    html`<path class="series-line" data-series="${l.label}" fill="none" stroke="${colour(i)}" stroke-width="1.5" d="${path(l.values, x, y)}"><title>${l.label}</title></path>`,
)}
</svg>
<ul class="row small chart-legend">${lines.map(
    (l, i) =>
      html`<li><span class="swatch" style="color:${colour(i)}">■</span> <span>${l.label}${l.values.length ? ` — last ${fmt(l.values[l.values.length - 1][1])}` : " — no data"}</span></li>`,
  )}</ul>`
}

function path(values: Array<[number, number]>, x: (t: number) => number, y: (v: number) => number): string {
  return values.map(([t, v], i) => `${i === 0 ? "M" : "L"}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" ")
}

export function sparkline(s: ChartSeries, from: number, to: number): Html {
  // timers: the p90 line
  const values = linesOf(s)[s.type === "ms" ? 1 : 0].values
  let max = 0
  for (const [, v] of values) if (v > max) max = v
  if (max === 0) max = 1
  const x = (t: number) => ((t - from) / (to - from)) * 160
  const y = (v: number) => 30 - (v / max) * 28
  return html`<svg class="sparkline" viewBox="0 0 160 32" width="160" height="32" role="img" aria-label="${s.label}" xmlns="http://www.w3.org/2000/svg"><path fill="none" stroke="currentColor" stroke-width="1.2" d="${path(values, x, y)}"/></svg>`
}
