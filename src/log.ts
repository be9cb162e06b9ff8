/**
 * Logbook's own logging: hierarchical dotted logger names (`logbook.http`, `logbook.plugin.records`),
 * levels that can be changed at run time per name (the levels plugin drives `setOverrides`), JSON lines
 * in production and readable lines in development, and the request id of the current request in every
 * line (AsyncLocalStorage).
 *
 * A thin layer rather than LogTape/pino: the levels plugin needs a synchronous, per-name level tree that
 * can be replaced atomically many times a day, and the level check must cost nothing on the hot path.
 * Here `isEnabled` is one integer comparison against a value cached per logger and invalidated by a
 * generation counter; LogTape reconfigures asynchronously as a whole and pino child loggers do not
 * inherit level changes from their parents.
 */
import { AsyncLocalStorage } from "node:async_hooks"

export const LEVELS = {
  trace: 5,
  debug: 10,
  info: 20,
  warning: 30,
  error: 40,
  critical: 50,
  off: 100,
} as const
export type LevelName = keyof typeof LEVELS
export const LEVEL_NAMES = Object.keys(LEVELS) as LevelName[]

export interface RequestScope {
  requestId: string
  /** Layout render time of this request (set by ui.page; read for Server-Timing and metrics). */
  renderMs?: number
}
export const requestScope = new AsyncLocalStorage<RequestScope>()

export type LogFields = Record<string, unknown>
export interface LogLine {
  time: number
  level: LevelName
  logger: string
  msg: string
  requestId?: string
  fields?: LogFields
}
export type LogSink = (line: LogLine) => void

export interface Logger {
  readonly name: string
  isEnabled(level: LevelName): boolean
  trace(msg: string, fields?: LogFields): void
  debug(msg: string, fields?: LogFields): void
  info(msg: string, fields?: LogFields): void
  warning(msg: string, fields?: LogFields): void
  error(msg: string, fields?: LogFields): void
  critical(msg: string, fields?: LogFields): void
}

export interface LogLevels {
  /** Level configured for exactly this name (config or override), or null when inherited. */
  configured(name: string): LevelName | null
  /** Level that applies to this name: its own, else the nearest ancestor's, else the root's. */
  effective(name: string): LevelName
  /** Replace the whole set of run-time overrides at once (name → level; "" or "root" = root). */
  setOverrides(overrides: ReadonlyMap<string, LevelName>): void
  overrides(): ReadonlyMap<string, LevelName>
  /** Names of every logger created so far, sorted. */
  known(): string[]
  /** Called after every change of the overrides. */
  onChange(listener: () => void): void
}

export interface Logging {
  logger(name: string): Logger
  levels: LogLevels
  addSink(sink: LogSink): () => void
}

const ROOT = ""
const normalise = (name: string) => (name === "root" || name === "ROOT" ? ROOT : name)

function parentOf(name: string): string | null {
  if (name === ROOT) return null
  const i = name.lastIndexOf(".")
  return i < 0 ? ROOT : name.slice(0, i)
}

export function jsonLine(line: LogLine): string {
  const out: Record<string, unknown> = {
    time: new Date(line.time).toISOString(),
    level: line.level,
    logger: line.logger,
    msg: line.msg,
  }
  if (line.requestId) out.request_id = line.requestId
  if (line.fields) for (const [k, v] of Object.entries(line.fields)) if (!(k in out)) out[k] = serialisable(v)
  return JSON.stringify(out)
}

function serialisable(v: unknown): unknown {
  if (v instanceof Error) return { name: v.name, message: v.message, stack: v.stack }
  if (typeof v === "bigint") return v.toString()
  return v
}

export function prettyLine(line: LogLine): string {
  const t = new Date(line.time).toISOString().slice(11, 23)
  const fields = line.fields
    ? Object.entries(line.fields)
        .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(serialisable(v))}`)
        .join(" ")
    : ""
  const req = line.requestId ? ` [${line.requestId}]` : ""
  return `${t} ${line.level.toUpperCase().padEnd(8)} ${line.logger}${req} ${line.msg}${fields ? ` ${fields}` : ""}`
}

export function createLogging(opts: {
  rootLevel: LevelName
  format: "json" | "pretty"
  write?: (text: string) => void
  now?: () => number
}): Logging {
  const configuredLevels = new Map<string, LevelName>([[ROOT, opts.rootLevel]])
  let overrides: ReadonlyMap<string, LevelName> = new Map()
  let generation = 0
  const listeners: Array<() => void> = []
  const names = new Set<string>()
  const sinks: LogSink[] = []
  const write = opts.write ?? ((text: string) => process.stdout.write(`${text}\n`))
  const format = opts.format === "json" ? jsonLine : prettyLine
  const now = opts.now ?? Date.now

  const configured = (name: string): LevelName | null =>
    overrides.get(name) ?? configuredLevels.get(name) ?? null

  const effective = (name: string): LevelName => {
    let n: string | null = normalise(name)
    while (n !== null) {
      const l = configured(n)
      if (l) return l
      n = parentOf(n)
    }
    return opts.rootLevel
  }

  const emit = (line: LogLine) => {
    write(format(line))
    for (const s of sinks) s(line)
  }

  const logger = (name: string): Logger => {
    names.add(name)
    let cachedGen = -1
    let threshold = 0
    const isEnabledN = (n: number) => {
      if (cachedGen !== generation) {
        threshold = LEVELS[effective(name)]
        cachedGen = generation
      }
      return n >= threshold
    }
    const at =
      (level: LevelName) =>
      (msg: string, fields?: LogFields): void => {
        if (!isEnabledN(LEVELS[level])) return
        emit({ time: now(), level, logger: name, msg, requestId: requestScope.getStore()?.requestId, fields })
      }
    return {
      name,
      isEnabled: (level) => isEnabledN(LEVELS[level]),
      trace: at("trace"),
      debug: at("debug"),
      info: at("info"),
      warning: at("warning"),
      error: at("error"),
      critical: at("critical"),
    }
  }

  return {
    logger,
    addSink(sink) {
      sinks.push(sink)
      return () => {
        const i = sinks.indexOf(sink)
        if (i >= 0) sinks.splice(i, 1)
      }
    },
    levels: {
      configured: (name) => configured(normalise(name)),
      effective,
      setOverrides(next) {
        overrides = new Map([...next].map(([k, v]) => [normalise(k), v]))
        generation++
        for (const l of listeners) l()
      },
      overrides: () => overrides,
      known: () => [...names].sort(),
      onChange: (l) => {
        listeners.push(l)
      },
    },
  }
}
