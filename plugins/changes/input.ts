/**
 * Turning a native change (API body or another plugin's `ctx.changes.record`) into a row: criticality
 * 1–5 or its name, timestamp in seconds or milliseconds (or ISO 8601), limits, http(s)-only URLs, tags.
 * Returns every problem at once, keyed by field, so the caller can name them all.
 */
import { CRITICALITY_NAMES, LIMITS, type NewChange, TAG_KEY } from "./service"

export interface ChangeBody {
  category: string
  description: string
  criticality?: number | string
  timestamp?: number | string
  service?: string
  environment?: string
  author?: string
  url?: string
  tags?: Record<string, string>
}

/** Values below 10^11 are seconds (10^11 s is the year 5138); larger ones are milliseconds. */
export const MS_THRESHOLD = 1e11
export const MAX_MS = 253_402_300_799_999 // 9999-12-31T23:59:59.999Z

export function epochMs(v: number): number | undefined {
  if (!Number.isFinite(v)) return undefined
  const ms = Math.abs(v) < MS_THRESHOLD ? Math.round(v * 1000) : Math.round(v)
  return Math.abs(ms) <= MAX_MS ? ms : undefined
}

/** 1–5, or a name (info, notice/notification, warning, error, critical), case-insensitive. */
export function parseCriticality(v: number | string): number | undefined {
  if (typeof v === "number") return Number.isInteger(v) && v >= 1 && v <= 5 ? v : undefined
  const s = v.trim().toLowerCase()
  if (/^[1-5]$/.test(s)) return Number(s)
  if (s === "notification") return 2
  const i = CRITICALITY_NAMES.indexOf(s as (typeof CRITICALITY_NAMES)[number])
  return i >= 0 ? i + 1 : undefined
}

export function parseInstant(v: number | string): number | undefined {
  if (typeof v === "number") return epochMs(v)
  const s = v.trim()
  if (/^-?\d+(\.\d+)?$/.test(s)) return epochMs(Number(s))
  // ISO 8601 / RFC 3339 with a date; Date.parse alone accepts too much ("1", "May 5")
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/i.test(s)) return undefined
  const ms = Date.parse(s)
  return Number.isNaN(ms) ? undefined : epochMs(ms)
}

export const isHttpUrl = (s: string) => {
  if (!/^https?:\/\//i.test(s)) return false
  try {
    new URL(s)
    return true
  } catch {
    return false
  }
}

export function toNewChange(
  body: ChangeBody,
  source: string,
  now: number,
): { change: NewChange } | { errors: Record<string, string> } {
  const errors: Record<string, string> = {}
  const text = (field: keyof typeof LIMITS, v: unknown, required: boolean): string | null => {
    if (v === undefined || v === null) {
      if (required) errors[field] = "is required"
      return null
    }
    if (typeof v !== "string") {
      errors[field] = "must be a string"
      return null
    }
    if (v.length > LIMITS[field]) errors[field] = `is ${v.length} characters; the maximum is ${LIMITS[field]}`
    return v
  }
  const category = text("category", body.category, true)
  const description = text("description", body.description, true)
  const service = text("service", body.service, false)
  const environment = text("environment", body.environment, false)
  const author = text("author", body.author, false)
  const url = text("url", body.url, false)
  if (url !== null && !errors.url && !isHttpUrl(url)) errors.url = "must be an http:// or https:// URL"

  let criticality = 1
  if (body.criticality !== undefined) {
    const c = parseCriticality(body.criticality)
    if (c === undefined)
      errors.criticality = `must be 1–5 or one of ${CRITICALITY_NAMES.join(", ")}; got ${JSON.stringify(body.criticality)}`
    else criticality = c
  }
  let ts = now
  if (body.timestamp !== undefined) {
    const t = parseInstant(body.timestamp)
    if (t === undefined)
      errors.timestamp = `must be epoch seconds, epoch milliseconds or an ISO 8601 instant; got ${JSON.stringify(body.timestamp)}`
    else ts = t
  }
  const tags: Record<string, string> = {}
  if (body.tags !== undefined) {
    const entries = Object.entries(body.tags ?? {})
    if (entries.length > LIMITS.tags)
      errors.tags = `has ${entries.length} tags; the maximum is ${LIMITS.tags}`
    for (const [k, v] of entries) {
      if (!TAG_KEY.test(k)) errors.tags = `tag name ${JSON.stringify(k)} must match ${TAG_KEY.source}`
      else if (typeof v !== "string") errors.tags = `tag ${k} must be a string`
      else if (v.length > LIMITS.tagValue)
        errors.tags = `tag ${k} is longer than ${LIMITS.tagValue} characters`
      else tags[k] = v
    }
  }
  if (Object.keys(errors).length) return { errors }
  return {
    change: { ts, criticality, category, description, source, service, environment, author, url, tags },
  }
}
