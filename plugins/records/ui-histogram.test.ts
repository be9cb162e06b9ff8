import { describe, expect, test } from "bun:test"
import {
  bandCounts,
  chooseBucketSeconds,
  durationLabel,
  histogramAxis,
  histogramSvg,
  MAX_BARS,
  sparklineSvg,
  tallestBar,
} from "./ui-histogram"
import { parseBars } from "./ui-test-support"

const T0 = Date.UTC(2026, 10, 22, 9, 0, 0)
const MIN = 60_000

describe("chooseBucketSeconds", () => {
  test("each preset window gets a readable bucket and at most MAX_BARS bars", () => {
    const cases: [number, number][] = [
      [15 * MIN, 10],
      [60 * MIN, 60],
      [4 * 60 * MIN, 300],
      [24 * 60 * MIN, 900],
      [7 * 24 * 60 * MIN, 7200],
    ]
    for (const [span, expected] of cases) {
      const s = chooseBucketSeconds(T0, T0 + span)
      expect(s).toBe(expected)
      expect(span / 1000 / s).toBeLessThanOrEqual(MAX_BARS)
    }
  })
  test("tiny and huge windows stay bounded", () => {
    expect(chooseBucketSeconds(T0, T0 + 1)).toBe(1)
    const year = 366 * 24 * 60 * MIN
    expect(year / 1000 / chooseBucketSeconds(T0, T0 + year)).toBeLessThanOrEqual(MAX_BARS)
  })
})

describe("histogramSvg", () => {
  const zoomHref = (f: number, t: number) => `/ui/records?window=custom&from=${f}&to=${t}&q=a%20b`

  test("stacks one rect per level band with the bucket's counts, most severe at the bottom", () => {
    const svg = histogramSvg({
      from: T0,
      to: T0 + 3 * MIN,
      bucketSeconds: 60,
      bars: [
        { start: T0, counts: { 20: 3, 40: 1 } },
        { start: T0 + MIN, counts: {} },
        { start: T0 + 2 * MIN, counts: { 10: 2, 25: 1, 50: 4, 30: 2 } },
      ],
      zoomHref,
    }).value
    const bars = parseBars(svg)
    expect(bars.map((b) => b.total)).toEqual([4, 9])
    expect(bars[0].rects.map((r) => [r.level, r.count, r.cls])).toEqual([
      ["ERROR", 1, "c4"],
      ["INFO", 3, "c2"],
    ])
    // levelno 25 (a custom level) counts as INFO
    expect(bars[1].rects.map((r) => [r.level, r.count])).toEqual([
      ["CRITICAL", 4],
      ["WARNING", 2],
      ["INFO", 1],
      ["DEBUG", 2],
    ])
    // stacked: each rect sits on the one below it, heights proportional to counts, tallest bar fills the plot
    const b = bars[1].rects
    for (let i = 1; i < b.length; i++) expect(b[i].y + b[i].height).toBeCloseTo(b[i - 1].y, 1)
    expect(b[0].y + b[0].height).toBeCloseTo(120, 1)
    expect(b[0].height / b[2].height).toBeCloseTo(4, 1)
    expect(120 - b[b.length - 1].y).toBeCloseTo(114, 1)
  })

  test("each bar links to its own bucket as the narrowed window", () => {
    const svg = histogramSvg({
      from: T0 + 30_000,
      to: T0 + 3 * MIN,
      bucketSeconds: 60,
      bars: [
        { start: T0, counts: { 20: 1 } },
        { start: T0 + 2 * MIN, counts: { 20: 1 } },
      ],
      zoomHref,
    }).value
    const bars = parseBars(svg)
    // the first bucket starts before the window: its zoom is clamped to the window
    expect(bars[0]).toMatchObject({ from: T0 + 30_000, to: T0 + MIN })
    expect(bars[0].href).toBe(`/ui/records?window=custom&from=${T0 + 30_000}&to=${T0 + MIN}&q=a%20b`)
    expect(bars[1]).toMatchObject({ from: T0 + 2 * MIN, to: T0 + 3 * MIN })
  })

  test("change markers are drawn inside the window with an escaped <title>", () => {
    const svg = histogramSvg({
      from: T0,
      to: T0 + 10 * MIN,
      bucketSeconds: 60,
      bars: [],
      changes: [
        { timestamp: T0 + 5 * MIN, label: 'deploy <script>alert("x")</script>' },
        { timestamp: T0 + 20 * MIN, label: "outside" },
      ],
      zoomHref,
    }).value
    expect(svg).not.toContain("<script>")
    expect(svg).toContain("deploy &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;")
    expect(svg).not.toContain("outside")
    expect(svg).toMatch(
      /<g class="change-marker" data-timestamp="\d+"><title>[^<]*<\/title><line x1="500\.00"/,
    )
  })
})

describe("bandCounts and sparkline", () => {
  test("bandCounts drops empty bands and sums custom levels into their band", () => {
    expect(bandCounts({ 45: 2, 40: 1, 5: 1 }).map((b) => [b.band.name, b.count])).toEqual([
      ["ERROR", 3],
      ["DEBUG", 1],
    ])
  })
  test("sparkline has one point per value, the peak at the top", () => {
    const svg = sparklineSvg([0, 5, 10, 0], { width: 30, height: 24 }).value
    const points = svg.match(/points="([^"]*)"/)?.[1].split(" ") ?? []
    expect(points).toEqual(["0.0,22.0", "10.0,12.0", "20.0,2.0", "30.0,22.0"])
    expect(svg).toContain('aria-label="15 records"')
  })
})

describe("histogram axes", () => {
  const ticks = (from: number, to: number) =>
    [
      ...histogramAxis({ from, to }).value.matchAll(
        /<time datetime="([^"]+)" data-local="(\w+)" style="left:([\d.]+)%">/g,
      ),
    ].map((m) => [m[1], m[2], Number(m[3])])
  test("time ticks on whole steps, at most six, none on the edges; the date for windows over a day", () => {
    const t0 = Date.UTC(2026, 10, 22, 9, 0, 0)
    expect(ticks(t0, t0 + 3_600_000)).toEqual([
      ["2026-11-22T09:10:00.000Z", "time", 16.67],
      ["2026-11-22T09:20:00.000Z", "time", 33.33],
      ["2026-11-22T09:30:00.000Z", "time", 50],
      ["2026-11-22T09:40:00.000Z", "time", 66.67],
      ["2026-11-22T09:50:00.000Z", "time", 83.33],
    ])
    const week = ticks(t0 + 7 * 60_000, t0 + 7 * 86_400_000 + 7 * 60_000)
    expect(week.length).toBeLessThanOrEqual(6)
    expect(week.every(([iso, format]) => String(iso).endsWith("T00:00:00.000Z") && format === "day")).toBe(
      true,
    )
  })
  test("bucket sizes read as people say them; the tallest bar counts every level", () => {
    expect([30, 60, 300, 3600, 86400].map(durationLabel)).toEqual(["30 s", "1 min", "5 min", "1 h", "1 d"])
    expect(
      tallestBar([
        { start: 0, counts: { 20: 3, 40: 2 } },
        { start: 1, counts: { 10: 4 } },
      ]),
    ).toBe(5)
  })
})
