/**
 * Server-rendered SVG charts: several series on one time axis (counters as rates per second, timers as
 * p50/p90/p99 lines, gauges as values) with change events as vertical markers (hover: SVG <title>),
 * and small sparklines for the home widget. Series of different units never share a y scale: each unit
 * has its own axis, titled with the unit (as Grafana does): the first on the left, the second on the
 * right, more alternate outward. Everything interpolated goes through `html` (escaped).
 */
import type { ChangeEvent } from "../../src/plugin/contract"
import { type Html, html } from "../../views/html"
import type { Point, SeriesType } from "./series"

export interface ChartSeries {
  label: string
  type: SeriesType
  points: Point[]
}

/** What a series type's values measure: one y axis each. Gauges have no declared unit: one axis for all. */
export const UNITS: Record<SeriesType, { id: string; title: string }> = {
  c: { id: "/s", title: "rate (/s)" },
  ms: { id: "ms", title: "duration (ms)" },
  g: { id: "value", title: "gauge value" },
  s: { id: "unique", title: "unique members" },
}

interface Line {
  label: string
  unit: SeriesType
  values: Array<[number, number]>
}

const W = 800
const H = 260
const PAD = { t: 12, b: 40 }
/** Width of one y axis (tick values and the axis title), and the right margin without one. */
const AXIS_W = 60
const MARGIN = 12

export function linesOf(s: ChartSeries): Line[] {
  if (s.type !== "ms")
    return [
      {
        label: `${s.label}${s.type === "c" ? " (/s)" : ""}`,
        unit: s.type,
        values: s.points.map((p) => [p.t, p.v]),
      },
    ]
  return (["p50", "p90", "p99"] as const).map((q) => ({
    label: `${s.label} ${q} (ms)`,
    unit: s.type,
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

interface Axis {
  unit: SeriesType
  side: "left" | "right"
  /** 0 = next to the plot, 1 = outside that one… */
  slot: number
  max: number
}

/** One axis per unit in order of first appearance: left, right, left (outside), right (outside). */
function axesOf(lines: Line[]): Axis[] {
  const axes: Axis[] = []
  for (const l of lines) {
    let a = axes.find((x) => x.unit === l.unit)
    if (!a) {
      a = {
        unit: l.unit,
        side: axes.length % 2 ? "right" : "left",
        slot: Math.floor(axes.length / 2),
        max: 0,
      }
      axes.push(a)
    }
    for (const [, v] of l.values) if (v > a.max) a.max = v
  }
  for (const a of axes) a.max = niceMax(a.max)
  return axes
}

/** The axis top for values up to `v`: four equal steps of 1, 2, 2.5 or 5 × 10^k (1 for nothing to show). */
export function niceMax(v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) return 1
  const step = v / 4
  const p = 10 ** Math.floor(Math.log10(step))
  const m = [1, 2, 2.5, 5, 10].find((k) => k * p >= step * (1 - 1e-9)) ?? 10
  return Number((4 * m * p).toPrecision(12))
}

export function chart(series: ChartSeries[], from: number, to: number, changes: ChangeEvent[]): Html {
  const lines = series.flatMap(linesOf)
  const axes = axesOf(lines)
  const left = Math.max(1, axes.filter((a) => a.side === "left").length) * AXIS_W
  const rightAxes = axes.filter((a) => a.side === "right").length
  const right = rightAxes ? rightAxes * AXIS_W : MARGIN
  const bottom = H - PAD.b
  const x = (t: number) => left + ((t - from) / (to - from)) * (W - left - right)
  const scale = (a: Axis) => (v: number) => bottom - (v / a.max) * (bottom - PAD.t)
  const axisOf = (l: Line) => axes.find((a) => a.unit === l.unit) as Axis
  const ticks = [0, 0.25, 0.5, 0.75, 1]
  const times = ticks.map((f) => from + (to - from) * f)
  const timeLabels = utcTicks(times)
  const several = axes.length > 1
  return html`<svg class="metrics-chart" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="metrics chart" xmlns="http://www.w3.org/2000/svg">
<rect x="${left}" y="${PAD.t}" width="${W - left - right}" height="${bottom - PAD.t}" fill="none" stroke="currentColor" stroke-opacity="0.2"/>
${axes.map((a) => {
  const y = scale(a)
  const onLeft = a.side === "left"
  // tick values against the plot (or against the axis inside this one), the title outside them
  const edge = onLeft ? left - a.slot * AXIS_W : W - right + a.slot * AXIS_W
  const tickX = onLeft ? edge - 4 : edge + 4
  const titleX = onLeft ? edge - AXIS_W + 10 : edge + AXIS_W - 10
  const middle = (PAD.t + bottom) / 2
  return html`<g class="y-axis" data-unit="${UNITS[a.unit].id}" data-side="${a.side}">
${ticks.map(
  (f) =>
    html`<text x="${tickX}" y="${y(a.max * f) + 4}" text-anchor="${onLeft ? "end" : "start"}" font-size="10" fill="currentColor">${fmt(a.max * f)}</text>`,
)}
<text class="y-title" x="${titleX}" y="${middle}" transform="rotate(${onLeft ? -90 : 90} ${titleX} ${middle})" text-anchor="middle" font-size="10" fill="currentColor" fill-opacity="0.7">${UNITS[a.unit].title}</text>
</g>`
})}
${ticks.map(
  (f, i) =>
    html`<text class="x-tick" data-t="${times[i]}" x="${x(times[i])}" y="${bottom + 14}" text-anchor="${f === 0 ? "start" : f === 1 ? "end" : "middle"}" font-size="10" fill="currentColor">${timeLabels[i]}</text>`,
)}
<text class="x-zone" x="${(left + W - right) / 2}" y="${H - 4}" text-anchor="middle" font-size="10" fill="currentColor" fill-opacity="0.7">time (UTC)</text>
${changes
  .filter((c) => c.timestamp >= from && c.timestamp <= to)
  .map(
    (
      c,
    ) => html`<g class="change-marker" data-change-id="${c.id}" data-t="${c.timestamp}"><title>${new Date(c.timestamp).toISOString()} ${c.category ?? ""}: ${c.description ?? ""}${c.service ? ` (${c.service})` : ""}</title>
<line x1="${x(c.timestamp)}" x2="${x(c.timestamp)}" y1="${PAD.t}" y2="${bottom}" stroke="#d97706" stroke-dasharray="4 3"/>
<rect class="hit" x="${x(c.timestamp) - 5}" y="${PAD.t}" width="10" height="${bottom - PAD.t}" fill="transparent"/>
</g>`,
  )}
${lines.map(
  (l, i) =>
    html`<path class="series-line" data-series="${l.label}" data-unit="${UNITS[l.unit].id}" fill="none" stroke="${colour(i)}" stroke-width="1.5" d="${path(l.values, x, scale(axisOf(l)))}"><title>${l.label}</title></path>`,
)}
</svg>
<ul class="row small chart-legend">${lines.map(
    (l, i) =>
      html`<li><span class="swatch" style="color:${colour(i)}">■</span> <span>${l.label}${l.values.length ? ` — last ${fmt(l.values[l.values.length - 1][1])}` : " — no data"}${several ? html` <span class="muted">· ${axisOf(l).side}: ${UNITS[l.unit].title}</span>` : ""}</span></li>`,
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
