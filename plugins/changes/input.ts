/**
 * Turning a native change (API body or another plugin's `ctx.changes.record`) into a row: criticality
 * 1–5 or its name, timestamp in seconds or milliseconds (or ISO 8601), limits, http(s)-only URLs, tags.
 * Returns every problem at once, keyed by field, so the caller can name them all. `changesFromBody` does the
 * same for a whole POST /api/v1/changes body (one object or an array), naming each problem by its path.
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

/** Longest timestamp string accepted (the API schema's maxLength). */
const MAX_TIMESTAMP_TEXT = 40
const CRITICALITY_EXPECTED = `must be 1–5 or one of ${CRITICALITY_NAMES.join(", ")}`
const TIMESTAMP_EXPECTED = "must be epoch seconds, epoch milliseconds or an ISO 8601 instant"

const NOT_NULL = "must not be null (leave the field out)"

/**
 * Values arrive from JSON, so every field is checked for its type as well as its value: a wrong type is an
 * error naming the field, never an exception. A null field counts as left out, unless `nulls: "refused"`
 * (the native API, whose schema has no nulls).
 */
export function toNewChange(
  body: ChangeBody,
  source: string,
  now: number,
  opts: { nulls?: "absent" | "refused" } = {},
): { change: NewChange } | { errors: Record<string, string> } {
  const errors: Record<string, string> = {}
  const refused = (field: string, v: unknown) => {
    if (v !== null || opts.nulls !== "refused") return false
    errors[field] = NOT_NULL
    return true
  }
  const text = (field: keyof typeof LIMITS, v: unknown, required: boolean): string | null => {
    if (refused(field, v)) return null
    if (v === undefined || v === null) {
      if (required) errors[field] = "is required"
      return null
    }
    if (typeof v !== "string") {
      errors[field] = `must be a string; got ${shown(v)}`
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
  const crit: unknown = body.criticality
  if (crit !== undefined && !refused("criticality", crit)) {
    const c = typeof crit === "number" || typeof crit === "string" ? parseCriticality(crit) : undefined
    if (c === undefined) errors.criticality = `${CRITICALITY_EXPECTED}; got ${shown(crit)}`
    else criticality = c
  }
  let ts = now
  const stamp: unknown = body.timestamp
  if (stamp !== undefined && !refused("timestamp", stamp)) {
    const t =
      typeof stamp === "number" || (typeof stamp === "string" && stamp.length <= MAX_TIMESTAMP_TEXT)
        ? parseInstant(stamp)
        : undefined
    if (t === undefined) errors.timestamp = `${TIMESTAMP_EXPECTED}; got ${shown(stamp)}`
    else ts = t
  }
  const tags: Record<string, string> = {}
  const given: unknown = body.tags
  if (given !== undefined && !refused("tags", given) && given !== null) {
    if (typeof given !== "object" || Array.isArray(given))
      errors.tags = `must be an object of tag name → string; got ${shown(given)}`
    else {
      const entries = Object.entries(given)
      if (entries.length > LIMITS.tags)
        errors.tags = `has ${entries.length} tags; the maximum is ${LIMITS.tags}`
      for (const [k, v] of entries) {
        if (!TAG_KEY.test(k)) errors.tags = `tag name ${JSON.stringify(k)} must match ${TAG_KEY.source}`
        else if (typeof v !== "string") errors[`tags.${k}`] = `must be a string; got ${shown(v)}`
        else if (v.length > LIMITS.tagValue)
          errors[`tags.${k}`] = `is ${v.length} characters; the maximum is ${LIMITS.tagValue}`
        else tags[k] = v
      }
    }
  }
  if (Object.keys(errors).length) return { errors }
  return {
    change: { ts, criticality, category, description, source, service, environment, author, url, tags },
  }
}

/** A value quoted in an error message, cut short. */
function shown(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v)
  return text.length > 40 ? `${text.slice(0, 37)}...` : text
}

/** At most this many changes per POST /api/v1/changes. */
export const MAX_BATCH = 1000

/** One problem of a body: `path` names the item and field (`description`, `[2].criticality`, `(root)`). */
export interface Problem {
  path: string
  message: string
}

/**
 * A POST /api/v1/changes body — one change object, or an array of 1 to MAX_BATCH — into rows, or every
 * problem found, each named by its path: `description` for a single object,
 * `[2].criticality` for the third item of an array. The API's fields are optional or strings, never null.
 */
export function changesFromBody(
  body: unknown,
  source: string,
  now: number,
): { changes: NewChange[] } | { problems: Problem[] } {
  const batch = Array.isArray(body)
  if (batch && body.length === 0)
    return {
      problems: [
        { path: "(root)", message: `empty array: send a change object or an array of 1 to ${MAX_BATCH}` },
      ],
    }
  if (batch && body.length > MAX_BATCH)
    return {
      problems: [
        { path: "(root)", message: `${body.length} changes in one array; the maximum is ${MAX_BATCH}` },
      ],
    }
  const items: unknown[] = batch ? body : [body]
  const changes: NewChange[] = []
  const problems: Problem[] = []
  items.forEach((item, index) => {
    const at = (field: string) => (batch ? `[${index}]${field ? `.${field}` : ""}` : field || "(root)")
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      problems.push({
        path: at(""),
        message: batch
          ? `must be a change object; got ${shown(item)}`
          : item === undefined
            ? `no body: send a change object or an array of 1 to ${MAX_BATCH} as JSON`
            : `must be a change object or an array of 1 to ${MAX_BATCH}; got ${shown(item)}`,
      })
      return
    }
    const r = toNewChange(item as ChangeBody, source, now, { nulls: "refused" })
    if ("errors" in r)
      for (const [field, message] of Object.entries(r.errors)) problems.push({ path: at(field), message })
    else changes.push(r.change)
  })
  return problems.length ? { problems } : { changes }
}
