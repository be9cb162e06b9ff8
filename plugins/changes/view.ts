/**
 * The UI's view state, all of it in the query string (so every view is a permalink and Back works):
 * window (15m … 30d or custom), until (absent = now), criticality, category, service, environment, q,
 * paused, dashboard. window, until and criticality are read by the API's own readers (query.ts), so a
 * permalink means on the page what it means to GET /api/v1/changes. A value the page cannot read is
 * dropped with a problem (shown above the results), never silently. Serialised back in a fixed key order.
 */

import { MS_THRESHOLD } from "./input"
import { filterFromParams, listOf, type Read, readCriticalities, readInstant, readWindow } from "./query"
import type { ChangeFilter } from "./service"

export const PRESETS = ["15m", "1h", "4h", "24h", "7d", "30d"] as const
export const DEFAULT_WINDOW = "1h"
/** Longest search text (as the API's `q`). */
export const MAX_Q = 200
/** The API's filters this page has no control for: named in a notice rather than silently ignored. */
const API_ONLY = ["since", "min_criticality", "tag", "limit"]

export interface ViewState {
  window: string
  /** Epoch ms; undefined = now (live). In the URL as untilParam() writes it. */
  until?: number
  criticality: number[]
  category: string[]
  service: string[]
  environment: string[]
  q: string
  paused: boolean
  dashboard: boolean
  /** What the URL asked for that the page could not read, and what it shows instead. */
  problems: string[]
}

const all = (q: URLSearchParams, k: string) => listOf(q.getAll(k).join(","))

export function viewFromQuery(q: URLSearchParams): ViewState {
  const problems: string[] = []
  const ignored = (name: string, value: string, why: string) =>
    problems.push(`Ignored ${name}=${JSON.stringify(value)}: ${why}`)
  const read = <T>(name: string, value: string, r: Read<T>, instead: string): T | undefined => {
    if ("value" in r) return r.value
    ignored(name, value, `it ${r.expected}. Showing ${instead}.`)
    return undefined
  }
  const flag = (name: string) => {
    const v = q.get(name) ?? ""
    if (v !== "" && v !== "0" && v !== "1") ignored(name, v, "it must be 1 (or 0).")
    return v === "1"
  }
  const w = (q.get("window") ?? "").trim()
  const window = read("window", w, readWindow(w), `the default window, ${DEFAULT_WINDOW}`)
  const untilText = q.get("until") ?? ""
  const until = read("until", untilText, readInstant(untilText), "the window ending now")
  const crits = all(q, "criticality").join(",")
  const criticality = read("criticality", crits, readCriticalities(crits), "every criticality")
  let text = (q.get("q") ?? "").trim()
  if (text.length > MAX_Q) {
    problems.push(`Shortened q: it has ${text.length} characters; searching for its first ${MAX_Q}.`)
    text = text.slice(0, MAX_Q)
  }
  for (const name of API_ONLY)
    for (const v of q.getAll(name))
      ignored(
        name,
        v,
        "this page has no such filter (it is the API's); its filters are window, until, criticality, category, service, environment and q.",
      )
  return {
    window: window === undefined ? DEFAULT_WINDOW : w,
    until,
    criticality: criticality ?? [],
    category: all(q, "category"),
    service: all(q, "service"),
    environment: all(q, "environment"),
    q: text,
    paused: flag("paused"),
    dashboard: flag("dashboard"),
    problems,
  }
}

/**
 * `until` as the URL and the form carry it: epoch seconds (with a fraction for milliseconds), which the page
 * script reads too; ISO 8601 where seconds would be read as milliseconds (after the year 5138).
 */
export const untilParam = (ms: number): string =>
  Math.abs(ms / 1000) < MS_THRESHOLD ? String(ms / 1000) : new Date(ms).toISOString()

/** The query string of a view (without `?`), optionally changed. */
export function queryOf(v: ViewState, change: Partial<ViewState> = {}): string {
  const s = { ...v, ...change }
  const out = new URLSearchParams()
  out.set("window", s.window)
  if (s.until !== undefined) out.set("until", untilParam(s.until))
  if (s.criticality.length) out.set("criticality", s.criticality.join(","))
  if (s.category.length) out.set("category", s.category.join(","))
  if (s.service.length) out.set("service", s.service.join(","))
  if (s.environment.length) out.set("environment", s.environment.join(","))
  if (s.q) out.set("q", s.q)
  if (s.paused) out.set("paused", "1")
  if (s.dashboard) out.set("dashboard", "1")
  return out.toString()
}

/** The filter of a view, and its window bounds in epoch ms. */
export function filterOfView(
  v: ViewState,
  nowMs: number,
  opts: { withCategories?: boolean } = {},
): { filter: ChangeFilter; from: number; to: number } {
  const r = filterFromParams(
    {
      window: v.window,
      until: v.until === undefined ? undefined : untilParam(v.until),
      criticality: v.criticality.join(","),
      category: opts.withCategories === false ? "" : v.category.join(","),
      service: v.service.join(","),
      environment: v.environment.join(","),
      q: v.q,
    },
    nowMs,
  )
  // viewFromQuery only lets valid values through, so this cannot fail; keep the types honest anyway
  if ("errors" in r) throw new Error(`invalid view: ${JSON.stringify(r.errors)}`)
  const to = v.until ?? nowMs
  const from = r.filter.from ?? to - 3_600_000
  // a live window has no upper bound in the query (events a little in the future still show)
  return { filter: { ...r.filter, from }, from, to }
}
