/**
 * The UI's view state, all of it in the query string (so every view is a permalink and Back works):
 * window (15m … 30d or custom), until (epoch seconds; absent = now), criticality, category, service,
 * environment, q, paused, dashboard. Parsed once into a filter; serialised back in a fixed key order.
 */

import { filterFromParams, listOf, parseWindow } from "./query"
import type { ChangeFilter } from "./service"

export const PRESETS = ["15m", "1h", "4h", "24h", "7d", "30d"] as const
export const DEFAULT_WINDOW = "1h"

export interface ViewState {
  window: string
  /** Epoch seconds; undefined = now (live). */
  until?: number
  criticality: number[]
  category: string[]
  service: string[]
  environment: string[]
  q: string
  paused: boolean
  dashboard: boolean
}

const all = (q: URLSearchParams, k: string) => listOf(q.getAll(k).join(","))

export function viewFromQuery(q: URLSearchParams): ViewState {
  const w = q.get("window") ?? ""
  const until = Number(q.get("until"))
  return {
    window: parseWindow(w) !== undefined ? w : DEFAULT_WINDOW,
    until: /^\d{1,12}$/.test(q.get("until") ?? "") && until > 0 ? until : undefined,
    criticality: all(q, "criticality")
      .map(Number)
      .filter((c) => Number.isInteger(c) && c >= 1 && c <= 5),
    category: all(q, "category"),
    service: all(q, "service"),
    environment: all(q, "environment"),
    q: (q.get("q") ?? "").trim().slice(0, 200),
    paused: q.get("paused") === "1",
    dashboard: q.get("dashboard") === "1",
  }
}

/** The query string of a view (without `?`), optionally changed. */
export function queryOf(v: ViewState, change: Partial<ViewState> = {}): string {
  const s = { ...v, ...change }
  const out = new URLSearchParams()
  out.set("window", s.window)
  if (s.until !== undefined) out.set("until", String(s.until))
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
      until: v.until === undefined ? undefined : String(v.until),
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
  const to = v.until === undefined ? nowMs : v.until * 1000
  const from = r.filter.from ?? to - 3_600_000
  // a live window has no upper bound in the query (events a little in the future still show)
  return { filter: { ...r.filter, from }, from, to }
}
