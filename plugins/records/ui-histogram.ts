/**
 * Server-rendered SVG for the records UI: the level-stacked histogram of a search (bars link to the
 * zoomed window, change events drawn as markers) and the small sparkline of the home widget. Pure
 * functions of their input so they are tested without a database.
 */
import { type Html, html } from "../../views/html"

/** Python's standard levels as colour bands; custom levelnos fall into the band at or below them. */
export const LEVEL_BANDS = [
  { levelno: 50, name: "CRITICAL", cls: "c5" },
  { levelno: 40, name: "ERROR", cls: "c4" },
  { levelno: 30, name: "WARNING", cls: "c3" },
  { levelno: 20, name: "INFO", cls: "c2" },
  { levelno: 10, name: "DEBUG", cls: "c1" },
] as const

export type LevelBand = (typeof LEVEL_BANDS)[number]

export function bandOf(levelno: number): LevelBand {
  return LEVEL_BANDS.find((b) => levelno >= b.levelno) ?? LEVEL_BANDS[LEVEL_BANDS.length - 1]
}

/** Bucket sizes a person reads easily, in seconds. */
const NICE_BUCKETS = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800,
]
export const MAX_BARS = 100

/** The smallest readable bucket that keeps the window at or under MAX_BARS bars. */
export function chooseBucketSeconds(fromMs: number, toMs: number): number {
  const span = Math.max(1, (toMs - fromMs) / 1000)
  return NICE_BUCKETS.find((s) => span / s <= MAX_BARS) ?? Math.ceil(span / MAX_BARS / 86400) * 86400
}

export interface HistogramBar {
  /** Bucket start, epoch ms. */
  start: number
  /** levelno → count. */
  counts: Record<number, number>
}

export interface ChangeMarker {
  timestamp: number
  label: string
}

export interface HistogramInput {
  from: number
  to: number
  bucketSeconds: number
  bars: readonly HistogramBar[]
  changes?: readonly ChangeMarker[]
  /** URL of the search narrowed to [from, to). */
  zoomHref(from: number, to: number): string
}

const W = 1000
const H = 120
const TOP = 6

/** Counts of one bucket summed per colour band, in stacking order (most severe at the bottom). */
export function bandCounts(counts: Record<number, number>): { band: LevelBand; count: number }[] {
  const sums = new Map<LevelBand, number>()
  for (const [levelno, n] of Object.entries(counts)) {
    const band = bandOf(Number(levelno))
    sums.set(band, (sums.get(band) ?? 0) + n)
  }
  return LEVEL_BANDS.map((band) => ({ band, count: sums.get(band) ?? 0 })).filter((b) => b.count > 0)
}

const iso = (ms: number) => new Date(ms).toISOString()

/**
 * The histogram: one <a> per non-empty bucket linking to the zoomed window, holding one <rect> per level
 * band (data-level, data-count) stacked from the bottom; change markers as vertical lines with a <title>.
 * data-from / data-to on the <svg> let the brushing script turn a drag into a time range.
 */
export function histogramSvg(input: HistogramInput): Html {
  const { from, to } = input
  const span = Math.max(1, to - from)
  const bucketMs = input.bucketSeconds * 1000
  const x = (t: number) => ((Math.min(Math.max(t, from), to) - from) / span) * W
  const totals = input.bars.map((b) => bandCounts(b.counts))
  const max = Math.max(1, tallestBar(input.bars))
  const scale = (H - TOP) / max
  const bars = input.bars.map((bar, i) => {
    const bands = totals[i]
    if (bands.length === 0) return ""
    const start = Math.max(bar.start, from)
    const end = Math.min(bar.start + bucketMs, to)
    if (end <= start) return ""
    const x0 = x(start)
    const width = Math.max(0.5, x(end) - x0 - (x(end) - x0 > 3 ? 1 : 0))
    const total = bands.reduce((s, b) => s + b.count, 0)
    let y = H
    const rects = bands.map(({ band, count }) => {
      const h = count * scale
      y -= h
      return html`<rect class="lvl ${band.cls}" data-level="${band.name}" data-count="${count}" x="${x0.toFixed(2)}" y="${y.toFixed(2)}" width="${width.toFixed(2)}" height="${h.toFixed(2)}"/>`
    })
    const summary = bands.map((b) => `${b.band.name} ${b.count}`).join(", ")
    return html`<a class="bar" href="${input.zoomHref(start, end)}" data-from="${start}" data-to="${end}" data-total="${total}"><title>${iso(start)} – ${iso(end)}: ${total} (${summary})</title>${rects}</a>`
  })
  const markers = (input.changes ?? [])
    .filter((c) => c.timestamp >= from && c.timestamp <= to)
    .map((c) => {
      const cx = x(c.timestamp).toFixed(2)
      return html`<g class="change-marker" data-timestamp="${c.timestamp}"><title>${iso(c.timestamp)} ${c.label}</title><line x1="${cx}" x2="${cx}" y1="0" y2="${H}"/><rect x="${(Number(cx) - 4).toFixed(2)}" y="0" width="8" height="${H}" class="hit"/></g>`
    })
  return html`<svg class="records-histogram" viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" role="group" aria-label="Records per ${input.bucketSeconds}s by level" data-from="${from}" data-to="${to}" data-bucket-seconds="${input.bucketSeconds}">
<rect class="bg" x="0" y="0" width="${W}" height="${H}"/>
${bars}
${markers}
<rect class="brush" x="0" y="0" width="0" height="${H}"/>
</svg>`
}

/** A bucket size as people say it: 45 s, 5 min, 2 h, 1 d. */
export function durationLabel(seconds: number): string {
  if (seconds < 60) return `${seconds} s`
  if (seconds < 3600) return `${seconds / 60} min`
  if (seconds < 86400) return `${seconds / 3600} h`
  return `${seconds / 86400} d`
}

/** Axis steps, ms: ticks fall on multiples of one (UTC), at most AXIS_TICKS of them in a window. */
const AXIS_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080].map((m) => m * 60_000)
const AXIS_TICKS = 6

/**
 * The histogram's axes, in HTML under the (stretched) SVG: time ticks as <time data-local> (the page's
 * script shows them in the viewer's zone — hours and minutes, with the date for windows over a day)
 * placed by their share of the window, and the count the full bar height stands for.
 */
export function histogramAxis(input: Pick<HistogramInput, "from" | "to">): Html {
  const { from, to } = input
  const span = Math.max(1, to - from)
  const step =
    AXIS_STEPS.find((s) => span / s <= AXIS_TICKS) ?? Math.ceil(span / AXIS_TICKS / 86_400_000) * 86_400_000
  const format = span > 86_400_000 ? "day" : "time"
  const ticks: Html[] = []
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) {
    const share = ((t - from) / span) * 100
    // a label centred on the very edge would stick out of the chart
    if (share < 3 || share > 97) continue
    ticks.push(
      html`<time datetime="${iso(t)}" data-local="${format}" style="left:${share.toFixed(2)}%">${iso(t)}</time>`,
    )
  }
  return html`<div class="records-axis small muted" aria-hidden="true">${ticks}</div>`
}

/** Records in the tallest bar: what the full height of the histogram stands for. */
export function tallestBar(bars: readonly HistogramBar[]): number {
  return Math.max(0, ...bars.map((b) => bandCounts(b.counts).reduce((n, c) => n + c.count, 0)))
}

/** A sparkline of counts (one point per bucket) with the last value marked; styled inline because the
 * home page does not load the records stylesheet. */
export function sparklineSvg(
  values: readonly number[],
  opts: { width?: number; height?: number } = {},
): Html {
  const w = opts.width ?? 200
  const h = opts.height ?? 36
  const max = Math.max(1, ...values)
  const step = values.length > 1 ? w / (values.length - 1) : 0
  const pts = values.map((v, i) => `${(i * step).toFixed(1)},${(h - 2 - (v / max) * (h - 4)).toFixed(1)}`)
  const last = pts[pts.length - 1]?.split(",")
  return html`<svg class="records-sparkline" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${values.reduce((s, v) => s + v, 0)} records">
<polyline style="fill:none;stroke:var(--c4);stroke-width:1.5" points="${pts.join(" ")}"/>
${last ? html`<circle style="fill:var(--c4)" cx="${last[0]}" cy="${last[1]}" r="2.5"/>` : ""}
</svg>`
}

/** The colour key of the histogram, least severe first. */
export function levelLegend(): Html {
  return html`<span class="records-legend">${[...LEVEL_BANDS]
    .reverse()
    .map((b) => html`<span><i style="background:var(--${b.cls})"></i>${b.name}</span>`)}</span>`
}
