/**
 * The records page keeps all its state in the query string (every view is a permalink, the back button
 * works): q (query language), level (minimum level name), logger (prefix), window (a preset or
 * "custom"), from/to (ISO 8601 or epoch ms, only for "custom") and live=1 (the live tail is open; not part
 * of `stateQuery`, which links searches and time ranges). This file turns a URL into that state
 * and back, without touching the database.
 */

const MIN = 60_000
export const WINDOW_PRESETS = {
  "15m": 15 * MIN,
  "1h": 60 * MIN,
  "4h": 240 * MIN,
  "24h": 1440 * MIN,
  "7d": 10080 * MIN,
}
export type WindowPreset = keyof typeof WINDOW_PRESETS
export const DEFAULT_WINDOW: WindowPreset = "1h"

export const LEVEL_CHOICES = [
  { value: "", label: "any level", levelno: undefined },
  { value: "debug", label: "≥ DEBUG", levelno: 10 },
  { value: "info", label: "≥ INFO", levelno: 20 },
  { value: "warning", label: "≥ WARNING", levelno: 30 },
  { value: "error", label: "≥ ERROR", levelno: 40 },
  { value: "critical", label: "CRITICAL", levelno: 50 },
] as const

export interface SearchState {
  q: string
  level: string
  levelMin: number | undefined
  logger: string
  window: WindowPreset | "custom"
  /** Epoch ms, inclusive. */
  from: number
  /** Epoch ms, exclusive. */
  to: number
  /** Problems with the time parameters (shown next to the form; the query itself is checked by query.ts). */
  problems: string[]
  /** The live tail of this search is open (live=1): a bookmark reopens it. */
  live: boolean
}

/** ISO 8601 with an explicit zone, or epoch milliseconds. */
export function parseInstant(text: string): number | undefined {
  const s = text.trim()
  if (s === "") return undefined
  if (/^\d{1,16}$/.test(s)) return Number(s)
  if (!/(Z|[+-]\d\d:?\d\d)$/i.test(s)) return undefined
  const ms = Date.parse(s)
  return Number.isFinite(ms) ? ms : undefined
}

export function parseState(params: URLSearchParams, now: number): SearchState {
  const problems: string[] = []
  const q = (params.get("q") ?? "").slice(0, 4000)
  const levelParam = (params.get("level") ?? "").toLowerCase()
  const level = LEVEL_CHOICES.find((l) => l.value === levelParam)
  if (!level)
    problems.push(`Unknown level "${levelParam}": choose one of debug, info, warning, error, critical.`)
  const logger = (params.get("logger") ?? "").trim().slice(0, 500)
  const w = params.get("window") ?? ""
  let window: SearchState["window"] =
    w === "custom" ? "custom" : w in WINDOW_PRESETS ? (w as WindowPreset) : DEFAULT_WINDOW
  let from = now - WINDOW_PRESETS[window === "custom" ? DEFAULT_WINDOW : window]
  let to = now
  if (window === "custom") {
    const f = parseInstant(params.get("from") ?? "")
    // an empty end is "now"; an end that is not a time is a problem, never silently "now"
    const toText = (params.get("to") ?? "").trim()
    const t = toText === "" ? now : parseInstant(toText)
    if (f === undefined)
      problems.push("The custom range needs a start: ISO 8601 with a zone (…Z) or epoch ms.")
    if (t === undefined)
      problems.push(
        `The custom range's end "${toText.slice(0, 100)}" is not a time: ISO 8601 with a zone (…Z) or epoch ms, or empty for now.`,
      )
    if (f !== undefined && t !== undefined) {
      if (f >= t) problems.push("The custom range must start before it ends.")
      else {
        from = f
        to = t
      }
    }
    if (problems.length) window = DEFAULT_WINDOW
  }
  const live = params.get("live") === "1"
  return { q, level: level?.value ?? "", levelMin: level?.levelno, logger, window, from, to, problems, live }
}

/** The query string of a state, with overrides (a zoom sets window=custom and from/to). */
export function stateQuery(
  s: SearchState,
  over: Partial<Pick<SearchState, "from" | "to" | "window">> = {},
): string {
  const p = new URLSearchParams()
  if (s.q) p.set("q", s.q)
  if (s.level) p.set("level", s.level)
  if (s.logger) p.set("logger", s.logger)
  const window = over.window ?? s.window
  p.set("window", window)
  if (window === "custom") {
    p.set("from", new Date(over.from ?? s.from).toISOString())
    p.set("to", new Date(over.to ?? s.to).toISOString())
  }
  return p.toString()
}
