/**
 * Turning request bodies into normalised records, shared by the Chronologer surface and the native API,
 * and counting what we refuse: HTTPHandler ignores every status code, so a rejected record is visible
 * only in our metrics (`records.rejected{reason}`) and log.
 */
import { normalise, RecordError, restoreType } from "./normalise"
import type { NormalisedRecord } from "./service"
import type { RecordsContext } from "./settings"

export type RejectReason = "auth" | "parse" | "size" | "storage"

export function countRejected(ctx: RecordsContext, reason: RejectReason, detail: string, records = 1): void {
  ctx.metrics.increment("records.rejected", { reason }, records)
  ctx.log.warning("record rejected", { reason, detail, records })
}

export const limitsOf = (ctx: RecordsContext) => ({
  maxMessageBytes: ctx.settings.maxMessageBytes,
  maxRecordBytes: ctx.settings.maxRecordBytes,
})

/** The media type of a Content-Type header, lower-case, without parameters. */
export function mediaType(request: Request): string {
  return (request.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase()
}

/** A form body or query string (HTTPHandler: `urlencode(record.__dict__)`) → a typed record dict. */
export function formFields(text: string): Record<string, unknown> {
  const fields: Record<string, unknown> = {}
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf("&", start)
    if (end < 0) end = text.length
    if (end > start) {
      let eq = text.indexOf("=", start)
      if (eq < 0 || eq > end) eq = end
      const key = recordKey(formDecode(text, start, eq))
      fields[key] = restoreType(key, eq < end ? formDecode(text, eq + 1, end) : "")
    }
    start = end + 1
  }
  return fields
}

/**
 * The same text as a string literal for a LogRecord attribute's name, else `key` itself. A name cut out of
 * the body is a fresh string that every property store and set lookup hashes again (~2 µs a record for
 * the ~24 attributes HTTPHandler sends); the literals are hashed once.
 */
function recordKey(key: string): string {
  switch (key) {
    case "name":
      return "name"
    case "msg":
      return "msg"
    case "args":
      return "args"
    case "levelname":
      return "levelname"
    case "levelno":
      return "levelno"
    case "pathname":
      return "pathname"
    case "filename":
      return "filename"
    case "module":
      return "module"
    case "exc_info":
      return "exc_info"
    case "exc_text":
      return "exc_text"
    case "stack_info":
      return "stack_info"
    case "lineno":
      return "lineno"
    case "funcName":
      return "funcName"
    case "created":
      return "created"
    case "msecs":
      return "msecs"
    case "relativeCreated":
      return "relativeCreated"
    case "thread":
      return "thread"
    case "threadName":
      return "threadName"
    case "processName":
      return "processName"
    case "process":
      return "process"
    case "taskName":
      return "taskName"
    case "message":
      return "message"
    case "asctime":
      return "asctime"
    default:
      return key
  }
}

const HEX_VALUE = new Int8Array(128).fill(-1)
for (let i = 0; i < 10; i++) HEX_VALUE[0x30 + i] = i
for (let i = 0; i < 6; i++) HEX_VALUE[0x41 + i] = HEX_VALUE[0x61 + i] = 10 + i
const hexValue = (c: number) => (c < 128 ? HEX_VALUE[c] : -1)

/** The byte of the `%XX` escape at `i`, or -1 when there is none (also past `to`). */
function escapeAt(text: string, i: number, to: number): number {
  if (i + 2 >= to || text.charCodeAt(i) !== 0x25) return -1
  const high = hexValue(text.charCodeAt(i + 1))
  const low = hexValue(text.charCodeAt(i + 2))
  return high < 0 || low < 0 ? -1 : (high << 4) | low
}

/**
 * `text[from, to)` form-decoded as URLSearchParams does it: `+` → space, each run of `%XX` escapes →
 * its bytes read as UTF-8 (invalid sequences → U+FFFD), a `%` not followed by two hex digits kept as is.
 */
function formDecode(text: string, from: number, to: number): string {
  let i = from
  while (i < to) {
    const c = text.charCodeAt(i)
    if (c === 0x25 || c === 0x2b) break
    i++
  }
  if (i === to) return text.slice(from, to)
  let out = text.slice(from, i)
  while (i < to) {
    const c = text.charCodeAt(i)
    if (c === 0x2b) {
      out += " "
      i++
    } else if (c === 0x25) {
      const byte = escapeAt(text, i, to)
      if (byte < 0) {
        out += "%"
        i++
      } else if (byte < 0x80) {
        out += String.fromCharCode(byte)
        i += 3
      } else {
        // a run of escaped bytes beyond ASCII: one UTF-8 decoding (an ASCII byte never continues a sequence)
        let n = 1
        while (escapeAt(text, i + 3 * n, to) >= 0x80) n++
        const bytes = Buffer.allocUnsafe(n)
        for (let k = 0; k < n; k++, i += 3) bytes[k] = escapeAt(text, i, to)
        out += bytes.toString("utf8")
      }
    } else {
      let j = i + 1
      while (j < to) {
        const d = text.charCodeAt(j)
        if (d === 0x25 || d === 0x2b) break
        j++
      }
      out += text.slice(i, j)
      i = j
    }
  }
  return out
}

export function normaliseOne(ctx: RecordsContext, input: unknown, raw: boolean): NormalisedRecord {
  if (input === null || typeof input !== "object" || Array.isArray(input))
    throw new RecordError(400, "a record must be a JSON object")
  return normalise(input as Record<string, unknown>, { raw, nowMs: ctx.now(), limits: limitsOf(ctx) })
}

/** NDJSON lines → records; a bad line throws RecordError naming its 1-based line number. */
export function ndjsonRecords(
  ctx: RecordsContext,
  text: string,
  raw: boolean,
): Array<{ line: number; record?: NormalisedRecord; error?: RecordError }> {
  const out: Array<{ line: number; record?: NormalisedRecord; error?: RecordError }> = []
  const lines = text.split("\n")
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim()
    if (line === "") continue
    let doc: unknown
    try {
      doc = JSON.parse(line)
    } catch {
      out.push({
        line: i + 1,
        error: new RecordError(400, `Invalid JSON document on line ${i + 1}`, "ValueError"),
      })
      continue
    }
    try {
      out.push({ line: i + 1, record: normaliseOne(ctx, doc, raw) })
    } catch (e) {
      if (!(e instanceof RecordError)) throw e
      out.push({ line: i + 1, error: new RecordError(e.status, `line ${i + 1}: ${e.message}`, e.type) })
    }
  }
  return out
}
