/**
 * Filters of the native API and the UI, from query-string values to a ChangeFilter: time window
 * (`since`/`until` instants or a relative `window` like `15m`, `4h`, `7d` ending at `until`),
 * criticality list or minimum, categories, services, environments, `tag=key:value`, free text.
 * Every problem is reported by parameter name.
 */
import { parseCriticality, parseInstant } from "./input"
import { type ChangeFilter, TAG_KEY } from "./service"

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/** `15m`, `1h`, `1.5h`, `7d` → milliseconds (at most 400 days). */
export function parseWindow(s: string): number | undefined {
  const m = /^(\d{1,6}(?:\.\d{1,3})?)(m|h|d)$/.exec(s.trim())
  if (!m) return undefined
  const ms = Math.round(Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS])
  return ms > 0 && ms <= 400 * UNIT_MS.d ? ms : undefined
}

export const listOf = (v: string | undefined): string[] =>
  (v ?? "")
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x !== "")

export interface FilterParams {
  since?: string
  until?: string
  window?: string
  criticality?: string
  min_criticality?: string
  category?: string
  service?: string
  environment?: string
  tag?: string | string[]
  q?: string
}

/**
 * One parameter read: its value, or what it must be (the API answers 400 with `…; got "value"`, the page
 * shows a notice naming the parameter and its value). The API and the page read their parameters here.
 */
export type Read<T> = { value: T } | { expected: string }

/** `since`/`until`: absent, empty or `-1` (changelog's "no bound") is no bound. */
export function readInstant(v: string | undefined): Read<number | undefined> {
  if (v === undefined || v === "" || v === "-1") return { value: undefined }
  const t = parseInstant(v)
  return t === undefined
    ? { expected: "must be epoch seconds, epoch milliseconds or an ISO 8601 instant" }
    : { value: t }
}

/** `window`: absent or empty is none. */
export function readWindow(v: string | undefined): Read<number | undefined> {
  if (!v) return { value: undefined }
  const ms = parseWindow(v)
  return ms === undefined
    ? { expected: "must be a number and a unit m, h or d (e.g. 15m, 4h, 7d), at most 400 days" }
    : { value: ms }
}

/** `criticality`: a comma list of 1–5 or names; empty is every criticality. */
export function readCriticalities(v: string | undefined): Read<number[]> {
  const crits = listOf(v).map(parseCriticality)
  return crits.some((c) => c === undefined)
    ? { expected: "must be a comma list of 1–5 or names (info … critical)" }
    : { value: crits as number[] }
}

export function filterFromParams(
  p: FilterParams,
  now: number,
  defaultWindowMs?: number,
): { filter: ChangeFilter; windowMs?: number } | { errors: Record<string, string> } {
  const errors: Record<string, string> = {}
  const filter: ChangeFilter = {}
  const read = <T>(name: keyof FilterParams, r: Read<T>): T | undefined => {
    if ("value" in r) return r.value
    errors[name] = `${r.expected}; got "${p[name]}"`
    return undefined
  }
  const until = read("until", readInstant(p.until))
  const since = read("since", readInstant(p.since))
  let windowMs = read("window", readWindow(p.window))
  if (!p.window && since === undefined) windowMs = defaultWindowMs
  if (until !== undefined) filter.to = until
  if (since !== undefined) filter.from = since
  else if (windowMs !== undefined) filter.from = (until ?? now) - windowMs
  const crits = read("criticality", readCriticalities(p.criticality))
  if (crits?.length) filter.criticalities = crits
  if (p.min_criticality) {
    const c = parseCriticality(p.min_criticality)
    if (c === undefined) errors.min_criticality = `must be 1–5 or a name; got "${p.min_criticality}"`
    else filter.minCriticality = c
  }
  const cats = listOf(p.category)
  if (cats.length) filter.categories = cats
  const services = listOf(p.service)
  if (services.length) filter.services = services
  const envs = listOf(p.environment)
  if (envs.length) filter.environments = envs
  const tags = p.tag === undefined ? [] : Array.isArray(p.tag) ? p.tag : [p.tag]
  const pairs: Array<[string, string]> = []
  for (const t of tags) {
    const i = t.indexOf(":")
    const k = i > 0 ? t.slice(0, i) : ""
    if (!TAG_KEY.test(k)) errors.tag = `must be key:value with a key matching ${TAG_KEY.source}; got "${t}"`
    else pairs.push([k, t.slice(i + 1)])
  }
  if (pairs.length) filter.tags = pairs
  const q = p.q?.trim()
  if (q) filter.text = q
  if (Object.keys(errors).length) return { errors }
  return { filter, windowMs }
}
