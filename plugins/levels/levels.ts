/**
 * Level names: what people type (Python, Spring and pino spellings, any case) → Logbook's canonical
 * names (src/log.ts), and back to each system's spelling. NOTSET / null mean "inherit" (no level of its
 * own), which is a reset, not a level. Anything else is refused with the list of accepted values.
 */
import { LEVEL_NAMES, LEVELS, type LevelName } from "../../src/log"

export type { LevelName }
export const INHERIT = "inherit" as const
export type ParsedLevel = LevelName | typeof INHERIT

const SPELLINGS: Record<string, ParsedLevel> = {
  trace: "trace",
  debug: "debug",
  info: "info",
  warn: "warning",
  warning: "warning",
  error: "error",
  fatal: "critical",
  critical: "critical",
  off: "off",
  silent: "off",
  notset: INHERIT,
  null: INHERIT,
}

/** Accepted spellings, as shown in error messages. */
export const ACCEPTED_LEVELS = [
  "TRACE",
  "DEBUG",
  "INFO",
  "WARN",
  "WARNING",
  "ERROR",
  "FATAL",
  "CRITICAL",
  "OFF",
  "silent",
  "NOTSET",
  "null",
] as const

export class LevelError extends Error {
  readonly allowed = ACCEPTED_LEVELS
  constructor(readonly given: unknown) {
    super(
      `invalid level ${JSON.stringify(given)}: use one of ${ACCEPTED_LEVELS.join(", ")} (case-insensitive; NOTSET/null = inherit)`,
    )
  }
}

/** A level as typed by a person or client → canonical; JSON null → inherit. Throws LevelError. */
export function parseLevel(input: unknown): ParsedLevel {
  if (input === null) return INHERIT
  if (typeof input !== "string") throw new LevelError(input)
  const level = SPELLINGS[input.trim().toLowerCase()]
  if (!level) throw new LevelError(input)
  return level
}

/** Like parseLevel, but a real level is required (overrides and profiles store levels, not resets). */
export function parseConcreteLevel(input: unknown): LevelName {
  const l = parseLevel(input)
  if (l === INHERIT) throw new LevelError(input)
  return l
}

/** Python's spelling (upper case; OFF and TRACE are not Python names but are what c2c would print). */
export const pythonName = (l: LevelName): string => l.toUpperCase()

/** Python's numeric level: TRACE is the common custom 5; OFF is above CRITICAL so nothing passes. */
export const pythonLevelNo = (l: LevelName): number => (l === "off" ? 100 : LEVELS[l])

const SPRING: Record<LevelName, string> = {
  trace: "TRACE",
  debug: "DEBUG",
  info: "INFO",
  warning: "WARN",
  error: "ERROR",
  critical: "FATAL",
  off: "OFF",
}
export const springName = (l: LevelName): string => SPRING[l]
/** Spring's `levels` list, most severe first. */
export const SPRING_LEVELS = ["OFF", "FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"]

export const isLevelName = (s: string): s is LevelName => (LEVEL_NAMES as string[]).includes(s)

/** Dotted logger names: segments of letters, digits, `_`, `-`; "root" / "" is the root logger. */
export const LOGGER_NAME = /^(root|[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*)$/
export const isLoggerName = (s: string): boolean => s.length <= 200 && LOGGER_NAME.test(s)
/** "ROOT" (Spring), "" and "root" all name the root logger; stored as "root". */
export const normaliseLogger = (s: string): string => (s === "" || s.toLowerCase() === "root" ? "root" : s)

/**
 * A duration as Spring-style clients send it: ISO-8601 (`PT30M`, `PT1H30M`, `P1D`, `PT90S`) or a number
 * of seconds (number or digit string). Returns ms, or null when it is not a duration.
 */
export function parseDuration(input: unknown): number | null {
  if (typeof input === "number") return Number.isFinite(input) && input > 0 ? Math.round(input * 1000) : null
  if (typeof input !== "string") return null
  const s = input.trim()
  if (/^\d+(\.\d+)?$/.test(s)) return parseDuration(Number(s))
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(s)
  if (!m || s.toUpperCase() === "P" || s.toUpperCase().endsWith("T")) return null
  const [d, h, min, sec] = [m[1], m[2], m[3], m[4]].map((x) => Number(x ?? 0))
  const ms = Math.round((((d * 24 + h) * 60 + min) * 60 + sec) * 1000)
  return ms > 0 ? ms : null
}

/** 1800000 → "30m", 5400000 → "1h30m", 90000 → "1m30s". */
export function formatDuration(ms: number): string {
  let s = Math.round(ms / 1000)
  const parts: string[] = []
  for (const [unit, size] of [
    ["d", 86400],
    ["h", 3600],
    ["m", 60],
    ["s", 1],
  ] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`)
      s %= size
    }
  }
  return parts.join("") || "0s"
}
