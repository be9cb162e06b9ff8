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
      const eq = text.indexOf("=", start)
      const key = formDecode(text.slice(start, eq < 0 || eq > end ? end : eq))
      fields[key] = restoreType(key, eq < 0 || eq > end ? "" : formDecode(text.slice(eq + 1, end)))
    }
    start = end + 1
  }
  return fields
}

/** `+` → space, UTF-8 percent-decoding; malformed escapes decoded leniently as URLSearchParams does. */
function formDecode(s: string): string {
  if (!s.includes("%") && !s.includes("+")) return s
  const spaced = s.replaceAll("+", " ")
  try {
    return decodeURIComponent(spaced)
  } catch {
    return new URLSearchParams(`x=${s}`).get("x") ?? spaced
  }
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
