/**
 * The Chronologer 0.4.7 record API (reference/chronologer-api.md), kept apart from the native API and
 * answering in Chronologer's exact shapes: `POST /api/v1/record` (form from an unmodified HTTPHandler,
 * JSON, NDJSON, `raw=1`), `HEAD` count and timeline, `GET ?left=&right=`, `GET /api/v1/record/{id}`.
 * Its defects are not copied (§13): 400s instead of 500s, parameterised `query`, `ts DESC, id DESC`,
 * DST-correct timeline, 403 (not 401) for failed authentication as Chronologer did.
 * GET-mode HTTPHandler ingestion has its own path, `/api/v1/record/ingest?<record>`.
 */
import { brotliCompressSync, gzipSync, constants as zlib } from "node:zlib"
import { Elysia } from "elysia"
import type { Db } from "../../src/db/database"
import type { Role } from "../../src/plugin/contract"
import { compileChronologerQuery } from "./compat-query"
import { countRejected, formFields, mediaType, ndjsonRecords, normaliseOne } from "./ingest"
import { parseLevel } from "./levels"
import { logrecJson, RecordError } from "./normalise"
import { type Probe, SearchError } from "./query"
import {
  accessPath,
  getRecord,
  ingest,
  prefixUpperBound,
  type RecordRow,
  slotCounts,
  toRecord,
} from "./service"
import type { RecordsContext } from "./settings"
import { groupSlots, isKnownZone, parseInstant, SLOT_SECONDS } from "./timeline"

const PATH = "/api/v1/record"
const SUPPORTED =
  "Supported content types: application/x-www-form-urlencoded, application/json, application/x-ndjson"

// ---- JSON as Chronologer (Python's json.dumps) writes it -----------------------------------------

const HEX = "0123456789abcdef"

/**
 * Compact JSON (as JSON.stringify writes it) → json.dumps' default form, as the ASCII bytes of the answer:
 * ", " and ": " between items, every UTF-16 unit beyond ASCII (and DEL) as \\uXXXX. One pass over the
 * text instead of a walk over the value, and no string to encode afterwards.
 */
export function pythonJsonBytes(json: string): Uint8Array<ArrayBuffer> {
  let out = new Uint8Array(json.length + (json.length >> 2) + 64)
  let n = 0
  let inString = false
  for (let i = 0; i < json.length; i++) {
    if (n + 8 > out.length) {
      const bigger = new Uint8Array(out.length * 2)
      bigger.set(out)
      out = bigger
    }
    const c = json.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) {
        // an escape (ASCII from JSON.stringify): its next character never ends the string
        out[n++] = c
        out[n++] = json.charCodeAt(++i)
        continue
      }
      if (c > 0x7e) {
        out[n++] = 0x5c // \\u and four lower-case hex digits, as Python writes them
        out[n++] = 0x75
        out[n++] = HEX.charCodeAt(c >> 12)
        out[n++] = HEX.charCodeAt((c >> 8) & 15)
        out[n++] = HEX.charCodeAt((c >> 4) & 15)
        out[n++] = HEX.charCodeAt(c & 15)
        continue
      }
      if (c === 0x22) inString = false
      out[n++] = c
    } else {
      out[n++] = c
      if (c === 0x22) inString = true
      else if (c === 0x2c || c === 0x3a) out[n++] = 0x20
    }
  }
  return out.subarray(0, n)
}

/** The answer bytes of `value` as json.dumps (default separators, ensure_ascii) writes it. */
const pyJsonBytes = (value: unknown): Uint8Array<ArrayBuffer> =>
  pythonJsonBytes(JSON.stringify(value) ?? "null")

/** json.dumps defaults: ", " and ": " separators, non-ASCII as \\uXXXX (UTF-16 units). */
export function pyJson(value: unknown): string {
  return Buffer.from(pyJsonBytes(value)).toString("latin1")
}

/** Python str(datetime) of a UTC instant: `2026-11-22 10:39:19.566877+00:00`, no fraction when zero. */
export function pyDatetime(tsMicros: number): string {
  const seconds = Math.floor(tsMicros / 1_000_000)
  const micros = tsMicros - seconds * 1_000_000
  const iso = new Date(seconds * 1000).toISOString() // YYYY-MM-DDTHH:MM:SS.000Z
  const base = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`
  return `${base}${micros ? `.${String(micros).padStart(6, "0")}` : ""}+00:00`
}

/** A record in Chronologer's key order: name, ts, level, message, logrec, id. */
export function chronologerRecord(r: RecordRow) {
  return {
    name: r.name,
    ts: pyDatetime(r.ts),
    level: r.level,
    message: r.message,
    logrec: r.logrec,
    id: r.id,
  }
}

/** A record as `pyJson(chronologerRecord(r))` writes it, reusing the logrec JSON made when it was checked. */
function chronologerRecordBytes(r: RecordRow): Uint8Array<ArrayBuffer> {
  const head = JSON.stringify({ name: r.name, ts: pyDatetime(r.ts), level: r.level, message: r.message })
  return pythonJsonBytes(`${head.slice(0, -1)},"logrec":${logrecJson(r.logrec)},"id":${r.id}}`)
}

function jsonResponse(request: Request, status: number, body: unknown, headers: Record<string, string> = {}) {
  return jsonBytesResponse(request, status, pyJsonBytes(body), headers)
}

/** JSON (ASCII bytes) as the answer, compressed when the client accepts it. */
function jsonBytesResponse(
  request: Request,
  status: number,
  text: Uint8Array<ArrayBuffer>,
  headers: Record<string, string>,
) {
  const h: Record<string, string> = {
    "content-type": "application/json",
    vary: "Accept-Encoding",
    ...headers,
  }
  const accept = (request.headers.get("accept-encoding") ?? "").toLowerCase()
  const accepts = (coding: string) =>
    accept.includes(coding) &&
    accept.split(",").some((part) => {
      const [name, ...params] = part.trim().split(";")
      const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="))
      return name.trim() === coding && (!q || Number(q.slice(2)) > 0)
    })
  if (accepts("br"))
    return new Response(brotliCompressSync(text, { params: { [zlib.BROTLI_PARAM_QUALITY]: 4 } }), {
      status,
      headers: { ...h, "content-encoding": "br" },
    })
  if (accepts("gzip"))
    return new Response(gzipSync(text, { level: 6 }), {
      status,
      headers: { ...h, "content-encoding": "gzip" },
    })
  return new Response(text, { status, headers: h })
}

const errorBody = (type: string, message: string) => ({ error: { type, message } })

function errorResponse(request: Request, status: number, type: string, message: string, headers = {}) {
  return jsonResponse(request, status, errorBody(type, message), headers)
}

/**
 * A body over LOGBOOK_MAX_BODY_BYTES, in Chronologer's error shape (the core answers it before any route
 * reads the body). HTTPHandler ignores the status: the core's request metrics count it under the route.
 */
export const bodyTooLarge = (limitBytes: number) =>
  new Response(
    pyJsonBytes(
      errorBody(
        "RecordTooLarge",
        `the request body is larger than ${limitBytes} bytes (LOGBOOK_MAX_BODY_BYTES)`,
      ),
    ),
    {
      status: 413,
      headers: { "content-type": "application/json" },
    },
  )

/** A full write queue, in Chronologer's error shape (the core answers it, with Retry-After). */
export const overloaded = (retryAfterSeconds: number) =>
  new Response(pyJsonBytes(errorBody("ServiceUnavailable", "the write queue is full; retry shortly")), {
    status: 503,
    headers: { "content-type": "application/json", "retry-after": String(retryAfterSeconds) },
  })

/** HEAD answers carry errors in headers (no body). */
function headError(status: number, type: string, message: string) {
  return new Response(null, {
    status,
    headers: {
      "x-error-type": type,
      "x-error-message": message.replace(/[^\x20-\x7e]/g, "?"),
      "cache-control": "no-cache",
    },
  })
}

// ---- authentication ------------------------------------------------------------------------------

/**
 * Chronologer-style credentials (LOGBOOK_RECORDS_BASIC_USERS, e.g. `logger:`) or Logbook's own (tokens,
 * sessions, anonymous roles). Failures answer 403, as Chronologer did; a malformed Basic header 400.
 */
async function allowed(
  ctx: RecordsContext,
  request: Request,
  role: Role,
): Promise<"ok" | "forbidden" | "malformed"> {
  const authz = request.headers.get("authorization")
  if (authz) {
    // Chronologer: a bad scheme or bad base64 is a 400
    const m = /^(basic|bearer)\s+(\S+)\s*$/i.exec(authz)
    if (!m) return "malformed"
    if (m[1].toLowerCase() === "basic") {
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(m[2])) return "malformed"
      const decoded = Buffer.from(m[2], "base64").toString("utf8")
      if (!decoded.includes(":")) return "malformed"
      if (ctx.settings.basicUsers.includes(decoded) && (role === "read" || role === "ingest")) return "ok"
    }
  }
  const principal = await ctx.auth.principal(request)
  return principal.roles.has(role) ? "ok" : "forbidden"
}

// ---- filters (§4) --------------------------------------------------------------------------------

interface Filter {
  where: string
  params: unknown[]
  /** Only time and level filters (the timeline can then read the per-minute rollup). */
  simple?: { after?: number; before?: number; level?: number }
  /** Index-driven conditions for the access-path choice of newest-first reads (service.accessPath). */
  probes: Probe[]
}

/** The §4 filters → a WHERE clause; throws FilterError (400) naming the bad parameter. */
class FilterError extends Error {
  constructor(
    message: string,
    readonly type = "ValueError",
  ) {
    super(message)
  }
}

function filterOf(db: Db, q: URLSearchParams): Filter {
  const clauses: string[] = []
  const params: unknown[] = []
  const probes: Probe[] = []
  const simple: NonNullable<Filter["simple"]> = {}
  for (const [key, op] of [
    ["after", ">="],
    ["before", "<="],
  ] as const) {
    const v = q.get(key)
    if (!v) continue
    const us = parseInstant(v)
    if (us === undefined)
      throw new FilterError(`time data '${v}' is not supported (use RFC 3339 or epoch seconds)`)
    clauses.push(`ts ${op} ?`)
    params.push(us)
    simple[key] = us
  }
  const level = q.get("level")
  if (level) {
    const n = parseLevel(level)
    if (n === undefined) throw new FilterError(`level '${level}' is not a number 0-255 or a level name`)
    clauses.push("level >= ?")
    params.push(n)
    simple.level = n
    probes.push({ index: "level", sql: "SELECT id FROM records_records WHERE level >= ?", params: [n] })
  }
  const name = q.get("name")
  if (name) {
    const prefixes = name
      .split(",")
      .map((p) => p.trim())
      .filter((p) => p !== "")
    if (prefixes.length) {
      const cond = `(${prefixes.map(() => "(name >= ? AND name < ?)").join(" OR ")})`
      const ranges = prefixes.flatMap((p) => [p, prefixUpperBound(p)])
      clauses.push(cond)
      params.push(...ranges)
      probes.push({ index: "name", sql: `SELECT id FROM records_records WHERE ${cond}`, params: ranges })
    }
  }
  const query = q.get("query")
  if (query) {
    try {
      const c = compileChronologerQuery(query, db.dialect)
      if (c.sql) {
        clauses.push(`(${c.sql})`)
        params.push(...c.params)
      }
    } catch (e) {
      if (e instanceof SearchError) throw new FilterError(`query: ${e.message}`, "QueryError")
      throw e
    }
  }
  const where = clauses.length ? `WHERE ${clauses.join(" AND ")}` : ""
  const onlyTimeAndLevel = !q.get("name")?.trim() && !q.get("query")
  return { where, params, probes, ...(onlyTimeAndLevel ? { simple } : {}) }
}

// ---- routes --------------------------------------------------------------------------------------

/**
 * `POST /api/v1/record` (and the GET-mode ingestion path, with the record in the query string):
 * authentication first (as Chronologer), then the content type, then the body. The plugin also answers
 * the plain case of the POST before the router (fastRoutes), with the same function.
 */
function recordPost(ctx: RecordsContext) {
  async function store(request: Request, body: string, type: string, raw: boolean): Promise<Response> {
    if (type === "application/x-ndjson") {
      // a streamed (chunked) body has no length; in-process requests carry neither header
      if (request.headers.get("content-length") === null && request.headers.has("transfer-encoding"))
        return errorResponse(request, 411, "HTTPError", "Content-Length is required for application/x-ndjson")
      const lines = ndjsonRecords(ctx, body, raw)
      const bad = lines.find((l) => l.error)
      if (bad?.error) {
        countRejected(ctx, bad.error.reason, bad.error.message, lines.length)
        return errorResponse(request, bad.error.status, bad.error.type, bad.error.message)
      }
      const ids = await ingest(
        ctx,
        lines.map((l) => l.record).filter((r) => r !== undefined),
      )
      return jsonBytesResponse(request, 201, new TextEncoder().encode(`[${ids.join(", ")}]`), {})
    }
    let input: unknown
    if (type === "application/json") {
      try {
        input = JSON.parse(body)
      } catch {
        countRejected(ctx, "parse", "invalid JSON")
        return errorResponse(request, 400, "ValueError", "Invalid JSON document")
      }
    } else input = formFields(body)
    const record = normaliseOne(ctx, input, raw)
    const [id] = await ingest(ctx, [record])
    return jsonBytesResponse(request, 201, chronologerRecordBytes({ id, ...record }), {})
  }

  return async function post(
    request: Request,
    body: () => string | Promise<string>,
    type: string,
    raw: boolean,
  ): Promise<Response> {
    const auth = await allowed(ctx, request, "ingest")
    if (auth !== "ok") {
      countRejected(ctx, "auth", `${request.method} ${new URL(request.url).pathname}`)
      return auth === "malformed"
        ? errorResponse(request, 400, "HTTPError", "Malformed Authorization header")
        : errorResponse(request, 403, "HTTPError", "Forbidden")
    }
    if (
      type !== "application/x-www-form-urlencoded" &&
      type !== "application/json" &&
      type !== "application/x-ndjson"
    ) {
      countRejected(ctx, "parse", `unsupported content type '${type}'`)
      return errorResponse(request, 415, "HTTPError", SUPPORTED)
    }
    try {
      return await store(request, await body(), type, raw)
    } catch (e) {
      if (e instanceof RecordError) {
        countRejected(ctx, e.reason, e.message)
        return errorResponse(request, e.status, e.type, e.message)
      }
      if ((e as { name?: string })?.name === "WriterFullError") {
        countRejected(ctx, "storage", "write queue full")
        return errorResponse(request, 503, "ServiceUnavailable", (e as Error).message, { "retry-after": "1" })
      }
      countRejected(ctx, "storage", (e as Error)?.message ?? String(e))
      throw e
    }
  }
}

const isRaw = (url: string) => {
  const q = url.indexOf("?")
  return (
    q >= 0 &&
    ["1", "true", "yes"].includes((new URLSearchParams(url.slice(q)).get("raw") ?? "").toLowerCase())
  )
}

/** The POST handler for both ways in: the fast route and the router. */
export function recordPoster(ctx: RecordsContext): (request: Request) => Promise<Response> {
  const post = recordPost(ctx)
  return (request) => post(request, () => request.text(), mediaType(request), isRaw(request.url))
}

export function compatRoutes(ctx: RecordsContext) {
  const db = ctx.db
  const post = recordPost(ctx)
  const poster = recordPoster(ctx)

  /** Reads need the read role (Chronologer's basic-reader; `query` needed query-reader, here the same). */
  async function readGate(request: Request, head: boolean): Promise<Response | undefined> {
    const auth = await allowed(ctx, request, "read")
    if (auth === "ok") return undefined
    const [status, message] =
      auth === "malformed" ? [400, "Malformed Authorization header"] : [403, "Forbidden"]
    return head
      ? headError(status, "HTTPError", message)
      : errorResponse(request, status, "HTTPError", message)
  }

  async function head(request: Request): Promise<Response> {
    const q = new URL(request.url).searchParams
    const denied = await readGate(request, true)
    if (denied) return denied
    let f: Filter
    try {
      f = filterOf(db, q)
    } catch (e) {
      if (e instanceof FilterError) return headError(400, e.type, e.message)
      throw e
    }
    const group = q.get("group")
    // only time and level filters: the per-minute rollup answers (partial minutes counted from the records)
    const rollup = (s: NonNullable<Filter["simple"]>) =>
      slotCounts(db, {
        from: s.after,
        to: s.before === undefined ? undefined : s.before + 1, // before is inclusive
        levelMin: s.level,
        slotSeconds: SLOT_SECONDS,
      })
    if (!group) {
      const n = f.simple
        ? (await rollup(f.simple)).reduce((sum, slot) => sum + slot.count, 0)
        : Number(
            (await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM records_records ${f.where}`, f.params))
              ?.n ?? 0,
          )
      return new Response(null, {
        status: 200,
        headers: { "x-record-count": String(n), "cache-control": "no-cache" },
      })
    }
    if (group !== "hour" && group !== "day")
      return headError(400, "ValueError", `group must be hour or day, not '${group}'`)
    const zone = q.get("timezone") || "UTC"
    if (!isKnownZone(zone)) return headError(400, "ValueError", `unknown time zone '${zone}'`)
    let slots: Array<{ slot: number; count: number }>
    if (f.simple) slots = await rollup(f.simple)
    else {
      const slot = SLOT_SECONDS * 1_000_000
      // floor division that also holds for negative timestamps
      const slotExpr = "((ts - (((ts % ?) + ?) % ?)) / ?)"
      const rows = await db.all<{ slot: number; n: number }>(
        `SELECT ${slotExpr} AS slot, COUNT(*) AS n FROM records_records ${f.where} GROUP BY 1 ORDER BY 1`,
        [slot, slot, slot, slot, ...f.params],
      )
      slots = rows.map((r) => ({ slot: Number(r.slot), count: Number(r.n) }))
    }
    const buckets = groupSlots(slots, group, zone)
    return new Response(null, {
      status: 200,
      headers: {
        "x-record-group": buckets.map((b) => b[0]).join(","),
        "x-record-count": buckets.map((b) => b[1]).join(","),
        "cache-control": "no-cache",
      },
    })
  }

  async function range(request: Request): Promise<Response> {
    const q = new URL(request.url).searchParams
    const denied = await readGate(request, false)
    if (denied) return denied
    const bound = (key: string) => {
      const v = q.get(key)
      return v !== null && /^\d{1,15}$/.test(v.trim()) ? Number(v) : undefined
    }
    const left = bound("left")
    const right = bound("right")
    if (left === undefined || right === undefined)
      return errorResponse(request, 400, "ValueError", "left and right are required non-negative integers")
    let f: Filter
    try {
      f = filterOf(db, q)
    } catch (e) {
      if (e instanceof FilterError) return errorResponse(request, 400, e.type, e.message)
      throw e
    }
    if (right < left) return jsonResponse(request, 200, [], { "cache-control": "no-cache" })
    if (right - left >= 10_000)
      return errorResponse(
        request,
        400,
        "ValueError",
        "at most 10000 records per request (right - left < 10000)",
      )
    const hint = await accessPath(db, f.probes)
    const rows = await db.all<Parameters<typeof toRecord>[0]>(
      `SELECT id, ts, level, name, message, logrec FROM records_records ${hint} ${f.where} ORDER BY ts DESC, id DESC LIMIT ? OFFSET ?`,
      [...f.params, right - left + 1, left],
    )
    return jsonResponse(
      request,
      200,
      rows.map((r) => chronologerRecord(toRecord(r))),
      { "cache-control": "no-cache" },
    )
  }

  async function one(request: Request, idText: string): Promise<Response> {
    const denied = await readGate(request, false)
    if (denied) return denied
    const record = /^\d{1,15}$/.test(idText) ? await getRecord(db, Number(idText)) : undefined
    if (!record) return errorResponse(request, 404, "HTTPError", "Nothing matches the given URI")
    return jsonResponse(request, 200, chronologerRecord(record), { "cache-control": "max-age=2600000" })
  }

  const notAllowed = () =>
    new Response(pyJsonBytes(errorBody("HTTPError", "Method not allowed")), {
      status: 405,
      headers: { allow: "GET, HEAD, POST", "content-type": "application/json" },
    })

  const hidden = { detail: { hide: true } }

  return new Elysia()
    .post(PATH, ({ request }) => poster(request), { parse: "none", ...hidden })
    .head(PATH, ({ request }) => head(request), hidden)
    .get(PATH, ({ request }) => range(request), hidden)
    .get(
      `${PATH}/ingest`,
      async ({ request }) => {
        // HTTPHandler(method="GET"): the record is the query string
        const url = new URL(request.url)
        return post(request, () => url.search.slice(1), "application/x-www-form-urlencoded", false)
      },
      hidden,
    )
    .get(`${PATH}/:id`, ({ request, params }) => one(request, params.id), hidden)
    .put(PATH, notAllowed, hidden)
    .patch(PATH, notAllowed, hidden)
    .delete(PATH, notAllowed, hidden)
}
