/**
 * c2cwsgiutils key construction (ops-formats §8.2) for statsd and for /c2c/stats.json. Pure functions.
 * statsd: each part's chars outside `[a-zA-Z0-9_]` → `_`, parts joined with `.`, the prefix (with a `.`
 * appended when missing, not sanitised) prepended, the whole key truncated to 450 characters. Timers
 * in ms rounded half to even then clamped to ≥ 1. DogStatsD tags sorted by key, keys sanitised like
 * parts, values with `,` `#` `|` → `_` (and line breaks, which would split the datagram's line).
 */
import type { Tags } from "../../src/plugin/contract"

export const MAX_KEY = 450

const INVALID_KEY_CHARS = /[^a-zA-Z0-9_]/g
const INVALID_TAG_VALUE_CHARS = /[,#|\r\n]/g

export const sanitiseKeyPart = (part: string | number): string => String(part).replace(INVALID_KEY_CHARS, "_")

export const sanitiseTagValue = (value: string | number): string =>
  String(value).replace(INVALID_TAG_VALUE_CHARS, "_")

export const withDot = (prefix: string): string =>
  prefix === "" || prefix.endsWith(".") ? prefix : `${prefix}.`

export function statsdKey(prefix: string, parts: ReadonlyArray<string | number>): string {
  return (withDot(prefix) + parts.map(sanitiseKeyPart).join(".")).slice(0, MAX_KEY)
}

/** Python's round(): half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x)
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r
}

export const timerValue = (ms: number): number => Math.max(1, roundHalfEven(ms))

/** Global tags under per-metric tags (per-metric win), sorted by key: `|#k:v,k2:v2`, or "" without tags. */
export function formatTags(tags: Tags | undefined, globals: Readonly<Record<string, string>> = {}): string {
  const merged: Record<string, string | number> = { ...globals, ...tags }
  const keys = Object.keys(merged)
  if (keys.length === 0) return ""
  keys.sort()
  return `|#${keys.map((k) => `${sanitiseKeyPart(k)}:${sanitiseTagValue(merged[k])}`).join(",")}`
}

/** A number as statsd prints it (no exponent for ordinary values). */
export const formatValue = (v: number): string =>
  Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(12)))

/** The lines of one measurement; a negative gauge is sent as `0` then `-N` (a bare `-N` would adjust). */
export function statsdLines(key: string, kind: "c" | "g" | "ms", value: number, tagSuffix: string): string {
  if (kind === "ms") return `${key}:${timerValue(value)}|ms${tagSuffix}`
  if (kind === "g" && value < 0) return `${key}:0|g${tagSuffix}\n${key}:${formatValue(value)}|g${tagSuffix}`
  return `${key}:${formatValue(value)}|${kind}${tagSuffix}`
}

/** /c2c/stats.json key: parts joined with `/` (a `/` inside a part → `_`), then tags as `/k=v` sorted by key. */
export function statsJsonKey(parts: ReadonlyArray<string | number>, tags?: Tags): string {
  let key = parts.map((p) => String(p).replaceAll("/", "_")).join("/")
  if (tags)
    for (const k of Object.keys(tags).sort())
      key += `/${k.replaceAll("/", "_")}=${String(tags[k]).replaceAll("/", "_")}`
  return key
}
