/**
 * From what a sender posted (a LogRecord's `__dict__`: form values as `str()` text, or JSON values) to a
 * stored record, splitting fields the way Chronologer does — minus its defects (chronologer-api.md §13):
 * text attributes stay text, the message is interpolated, exception info is kept whenever present, the
 * meta key list is fixed, `levelno` is validated, `ts` is computed once as integer microseconds.
 */

import { levelNumber } from "./levels"
import { type PyValue, parsePythonLiteral } from "./literal"
import { FormatError, percentFormat, pyStr } from "./pyformat"
import type { Logrec, NormalisedRecord } from "./service"

/** LogRecord attributes filed under `logrec.meta` (independent of any Python version). */
export const META_KEYS: ReadonlySet<string> = new Set([
  "msg",
  "args",
  "pathname",
  "filename",
  "module",
  "stack_info",
  "lineno",
  "funcName",
  "msecs",
  "relativeCreated",
  "thread",
  "threadName",
  "processName",
  "process",
  "taskName",
  "origname",
])

/** Attributes that are text in a LogRecord: never type-restored (a message "123" stays text). */
const TEXT_FIELDS = new Set([
  "name",
  "msg",
  "message",
  "levelname",
  "exc_text",
  "stack_info",
  "asctime",
  "pathname",
  "filename",
  "module",
  "funcName",
  "threadName",
  "processName",
  "taskName",
])

/** Text fields whose `None` is the sender's str(None) rather than text (they are Optional in Python). */
const ALWAYS_TEXT = new Set(["name", "msg", "message"])

/** Dropped: derived from fields we keep. */
const DROPPED = new Set(["levelname", "asctime"])

export type RejectReason = "parse" | "size"

/** A record we refuse: 400 (bad input) or 413 (over a size limit); `type` is Chronologer's error type. */
export class RecordError extends Error {
  constructor(
    readonly status: 400 | 413,
    message: string,
    readonly type = status === 413 ? "RecordTooLarge" : "ModelError",
  ) {
    super(message)
  }
  get reason(): RejectReason {
    return this.status === 413 ? "size" : "parse"
  }
}

export interface Limits {
  maxMessageBytes: number
  maxRecordBytes: number
}

/** A form value (text) → its typed value, except for the text attributes. */
export function restoreType(key: string, text: string): unknown {
  if (TEXT_FIELDS.has(key)) return !ALWAYS_TEXT.has(key) && text === "None" ? null : text
  const v = parsePythonLiteral(text)
  return v === undefined ? text : v
}

/** Form values (all text) → typed values, except the text attributes. */
export function restoreTypes(fields: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const keys = Object.keys(fields)
  for (let i = 0; i < keys.length; i++) out[keys[i]] = restoreType(keys[i], fields[keys[i]])
  return out
}

const roundHalfEven = (x: number): number => {
  const r = Math.round(x)
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r
}

/**
 * Epoch seconds (float) → integer microseconds, as Python's datetime.fromtimestamp does it (whole
 * seconds, then the fraction rounded half-even), so the value equals what a Python reader would see.
 */
export function secondsToMicros(seconds: number): number {
  const whole = Math.floor(seconds)
  const us = roundHalfEven((seconds - whole) * 1e6)
  return whole * 1_000_000 + us
}

function timestamp(value: unknown): number {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value
  if (typeof n !== "number" || !Number.isFinite(n))
    throw new RecordError(400, `"created" must be epoch seconds (a number), got ${JSON.stringify(value)}`)
  // year 1 .. 9999: what Python's datetime (and our rendering) can represent
  if (n < -62135596800 || n > 253402300799) throw new RecordError(400, `"created" is out of range: ${n}`)
  return secondsToMicros(n)
}

function level(value: unknown): number {
  if (typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 255) return value
  if (typeof value === "string") {
    const t = value.trim()
    if (/^\d{1,3}$/.test(t) && Number(t) <= 255) return Number(t)
    const named = levelNumber(t)
    if (named !== undefined) return named
  }
  throw new RecordError(
    400,
    `"levelno" must be an integer 0–255 or a level name, got ${JSON.stringify(value ?? null)}`,
  )
}

const asPy = (v: unknown): PyValue => v as PyValue

/** `message` if sent, else `msg % args` (only when args are non-empty, as LogRecord.getMessage). */
function buildMessage(input: Record<string, unknown>): string {
  const message = input.message
  if (message !== undefined && message !== null) return pyStr(asPy(message))
  const msg = input.msg
  const text = typeof msg === "string" ? msg : pyStr(asPy(msg ?? null))
  const args = input.args
  const empty =
    args === undefined ||
    args === null ||
    args === "" ||
    (Array.isArray(args) && args.length === 0) ||
    (typeof args === "object" && !Array.isArray(args) && Object.keys(args as object).length === 0)
  if (empty) return text
  try {
    return percentFormat(text, asPy(args))
  } catch (e) {
    if (e instanceof FormatError) return text
    throw e
  }
}

/** JSON text of each logrec checked here, reused when it is stored (one stringify per record). */
const jsonCache = new WeakMap<Logrec, string>()

export function logrecJson(logrec: Logrec): string {
  let json = jsonCache.get(logrec)
  if (json === undefined) {
    json = JSON.stringify(logrec)
    jsonCache.set(logrec, json)
  }
  return json
}

/** UTF-8 bytes of `s`, computed only when they might exceed `limit` (a UTF-16 unit is at most 3 bytes). */
const bytesBeyond = (s: string, limit: number): number | undefined => {
  if (s.length * 3 <= limit) return undefined
  const bytes = Buffer.byteLength(s)
  return bytes > limit ? bytes : undefined
}

/** `\u0000` escapes of a JSON text (not an escaped backslash followed by "u0000") as `\ufffd`. */
const JSON_NUL = /(?<!\\)((?:\\\\)*)\\u0000/g

/**
 * PostgreSQL text and jsonb cannot hold U+0000, so it is stored as U+FFFD (�) on both dialects: a
 * record is never refused for it (HTTPHandler ignores the answer; the record would be lost). The details'
 * JSON text is replaced in the cache, so that is what is stored and answered.
 */
function withoutNul(logrec: Logrec): void {
  const json = logrecJson(logrec)
  if (json.includes("\\u0000")) jsonCache.set(logrec, json.replace(JSON_NUL, "$1\\ufffd"))
}
const textWithoutNul = (s: string) => (s.includes("\0") ? s.replaceAll("\0", "\ufffd") : s)

function checkSize(message: string, logrec: Logrec, name: string, limits: Limits) {
  const messageBytes = bytesBeyond(message, limits.maxMessageBytes)
  if (messageBytes !== undefined)
    throw new RecordError(
      413,
      `the message is ${messageBytes} bytes; the limit is ${limits.maxMessageBytes} (LOGBOOK_RECORDS_MAX_MESSAGE_BYTES)`,
    )
  const json = logrecJson(logrec)
  const total = message.length + name.length + json.length
  if (total * 3 <= limits.maxRecordBytes) return
  const recordBytes = Buffer.byteLength(message) + Buffer.byteLength(name) + Buffer.byteLength(json)
  if (recordBytes > limits.maxRecordBytes)
    throw new RecordError(
      413,
      `the record is ${recordBytes} bytes; the limit is ${limits.maxRecordBytes} (LOGBOOK_RECORDS_MAX_RECORD_BYTES)`,
    )
}

const present = (v: unknown) => v !== undefined && v !== null

const TRACEBACK = "Traceback (most recent call last):\n"
const STACK = "\nStack (most recent call last):\n"

/**
 * The traceback a formatter appended to the message, up to a stack_info section: what arrives from a
 * QueueHandler, which sends the formatted text with exc_info and exc_text set to None. The message itself
 * is stored as sent.
 */
function tracebackIn(message: string): string | undefined {
  let at = message.indexOf(TRACEBACK)
  // only where a line starts
  while (at > 0 && message.charCodeAt(at - 1) !== 0x0a) at = message.indexOf(TRACEBACK, at + 1)
  if (at < 0) return undefined
  const text = message.slice(at)
  const stack = text.indexOf(STACK)
  return stack < 0 ? text : text.slice(0, stack)
}

/**
 * One record dictionary → a record to store. `raw`: Chronologer's raw mode (no LogRecord reading: the
 * whole dict is `logrec`, level INFO). `nowMs` gives the receipt time for raw records without `created`.
 */
export function normalise(
  input: Record<string, unknown>,
  opts: { raw?: boolean; nowMs: number; limits: Limits },
): NormalisedRecord {
  if (input === null || typeof input !== "object" || Array.isArray(input))
    throw new RecordError(400, "a record must be a JSON object")
  if (opts.raw) {
    const name = present(input.name) ? pyStr(asPy(input.name)) : ""
    const message = present(input.message) ? pyStr(asPy(input.message)) : ""
    const ts = present(input.created) ? timestamp(input.created) : opts.nowMs * 1000
    const logrec = input as Logrec
    withoutNul(logrec)
    checkSize(message, logrec, name, opts.limits)
    return { ts, level: 20, name: textWithoutNul(name), message: textWithoutNul(message), logrec }
  }
  for (const key of ["name", "created", "levelno"])
    if (!present(input[key])) throw new RecordError(400, `Key "${key}" is missing`)
  if (!present(input.message) && input.msg === undefined) throw new RecordError(400, 'Key "msg" is missing')

  const name = pyStr(asPy(input.name))
  const ts = timestamp(input.created)
  const lvl = level(input.levelno)
  const message = buildMessage(input)

  const meta: Record<string, unknown> = {}
  const data: Record<string, unknown> = {}
  const hasError = present(input.exc_info) || (present(input.exc_text) && input.exc_text !== "")
  let hasMeta = false
  let hasData = false
  // Object.keys and an index loop: Object.entries costs ~8× as much on this hot path
  const keys = Object.keys(input)
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]
    if (key === "name" || key === "created" || key === "levelno" || key === "message" || DROPPED.has(key))
      continue
    if (key === "exc_info" || key === "exc_text") {
      if (!hasError) {
        meta[key] = input[key]
        hasMeta = true
      }
      continue
    }
    if (META_KEYS.has(key)) {
      meta[key] = input[key]
      hasMeta = true
    } else {
      data[key] = input[key]
      hasData = true
    }
  }
  const logrec: Logrec = {}
  if (hasData) logrec.data = data
  if (hasMeta) logrec.meta = meta
  if (hasError) {
    const error: Logrec["error"] = {}
    if (present(input.exc_info)) error.exc_info = input.exc_info
    if (present(input.exc_text) && input.exc_text !== "") error.exc_text = input.exc_text
    logrec.error = error
  } else {
    const traceback = tracebackIn(message)
    if (traceback !== undefined) logrec.error = { exc_text: traceback }
  }
  withoutNul(logrec)
  checkSize(message, logrec, name, opts.limits)
  return { ts, level: lvl, name: textWithoutNul(name), message: textWithoutNul(message), logrec }
}
