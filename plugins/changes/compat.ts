/**
 * The prezi/changelog wire surface (reference: shared/reference/changelog-api.md): `POST/GET
 * /api/events`, Grafana's `/annotations` and `/query`, and `/healthcheck`. Responses keep the original
 * shapes (`201 "OK"`, `400 {"message": …}`) and drop its defects (reference §7). Kept apart from the
 * native API; every body is read raw so that any Content-Type, Latin-1 bodies and the bash client's
 * unescaped quotes can be handled here rather than by a framework parser.
 */
import { Elysia } from "elysia"
import type { PluginContext, Role } from "../../src/plugin/contract"
import { createResponseCache } from "./cache"
import { gzipFast } from "./gzip"
import { MAX_MS, MS_THRESHOLD } from "./input"
import { isPyInt, pyFloat, pyInt, pyStr } from "./pyvalues"
import { type ChangeFilter, type ChangeStore, LIMITS, type NewChange } from "./service"

const JSON_TYPE = "application/json"
const NOT_UNDERSTOOD = "The browser (or proxy) sent a request that this server could not understand."
const MISSING_BODY = "Missing required parameter in the JSON body"

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(`${JSON.stringify(body)}\n`, { status, headers: { "content-type": JSON_TYPE, ...headers } })

const message = (status: number, m: string | Record<string, string>, headers?: Record<string, string>) =>
  json(status, { message: m }, headers)

/** A body over LOGBOOK_MAX_BODY_BYTES, in the changelog error shape (the core answers it before any route reads it). */
export const bodyTooLarge = (limitBytes: number) =>
  message(413, `The body is larger than ${limitBytes} bytes.`)

/** A full write queue, in the changelog error shape (the core answers it, with Retry-After). */
export const overloaded = (retryAfterSeconds: number) =>
  message(503, `The write queue is full; retry in ${retryAfterSeconds} s.`, {
    "retry-after": String(retryAfterSeconds),
  })

/** Refuses callers without `role` in the changelog error shape (null = allowed). */
async function refuse(ctx: PluginContext, request: Request, role: Role): Promise<Response | null> {
  // when anonymous callers have the role, credentials are not needed and any Authorization is ignored
  if ((ctx.config.anonymous as readonly string[]).includes(role)) return null
  const p = await ctx.auth.principal(request)
  if (p.roles.has(role)) return null
  if (p.via === "anonymous")
    return message(
      401,
      `This needs credentials with the ${role} role (HTTP Basic with a token as password, or Bearer).`,
      {
        "www-authenticate": 'Basic realm="logbook"',
      },
    )
  return message(403, `${p.name} does not have the ${role} role.`)
}

/** UTF-8 when valid, else ISO-8859-1 (the java client sends Latin-1 bytes), BOM dropped. */
export function decodeBody(bytes: Uint8Array): string {
  let text: string
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes)
  } catch {
    text = Buffer.from(bytes).toString("latin1")
  }
  return text
}

// What the bash client sends when the description holds `"` or `\` (it does no escaping at all).
const BASH_SHAPE =
  /^\{"criticality": "([^"\\]*)", "unix_timestamp": "([^"\\]*)", "category": "([^"\\]*)", "description": "([\s\S]*)"\}\s*$/

export function parseEventBody(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    const m = BASH_SHAPE.exec(text)
    if (!m) return undefined
    return { criticality: m[1], unix_timestamp: m[2], category: m[3], description: m[4] }
  }
}

/** The four fields of an event body → a row, or the field errors (all of them, original texts). */
export function eventFromBody(
  body: unknown,
  nowMs: number,
): { change: NewChange } | { errors: Record<string, string> } {
  const o = body && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>) : {}
  const errors: Record<string, string> = {}
  for (const f of ["criticality", "unix_timestamp", "category", "description"])
    if (!(f in o)) errors[f] = MISSING_BODY
  let criticality: number | null = null
  if ("criticality" in o) {
    const r = pyInt(o.criticality)
    if ("error" in r) errors.criticality = r.error
    else if (r.value !== null && Math.abs(r.value) > 2 ** 31 - 1)
      errors.criticality = `${r.value} is out of range`
    else criticality = r.value
  }
  let ts = nowMs
  if ("unix_timestamp" in o) {
    const r = pyInt(o.unix_timestamp)
    if ("error" in r) errors.unix_timestamp = r.error
    else if (r.value !== null) {
      // ≥ 10^11 can only be milliseconds; null means "now" (the original stored it and never showed it)
      const ms = Math.abs(r.value) >= MS_THRESHOLD ? r.value : r.value * 1000
      if (Math.abs(ms) > MAX_MS) errors.unix_timestamp = `${r.value} is out of range`
      else ts = ms
    }
  }
  const category = pyStr(o.category)
  if (category !== null && category.length > LIMITS.category)
    errors.category = `Longer than the maximum of ${LIMITS.category} characters (got ${category.length})`
  const description = pyStr(o.description)
  if (description !== null && description.length > LIMITS.description)
    errors.description = `Longer than the maximum of ${LIMITS.description} characters (got ${description.length})`
  if (Object.keys(errors).length) return { errors }
  return { change: { ts, criticality, category, description, source: "api" } }
}

type Query = { filter: ChangeFilter; empty: boolean; limit?: number } | { errors: Record<string, string> }

/** `hours_ago`, `until`, `criticality`, `category`, `description`, `limit` (reference §4.1 and §7). */
export function parseEventsQuery(q: URLSearchParams, nowMs: number): Query {
  const errors: Record<string, string> = {}
  const hoursRaw = q.get("hours_ago")
  let hours = 0
  if (hoursRaw === null) errors.hours_ago = "Missing required parameter in the query string"
  else {
    const r = pyFloat(hoursRaw)
    if ("error" in r) errors.hours_ago = r.error
    else hours = r.value
  }
  const untilRaw = q.get("until") ?? "-1"
  let until = -1
  const u = pyInt(untilRaw)
  if ("error" in u) errors.until = u.error
  else until = u.value ?? -1
  const criticalities: number[] = []
  for (const item of (q.get("criticality") ?? "").split(",")) {
    if (item.trim() === "") continue
    if (!isPyInt(item)) errors.criticality = `invalid literal for int() with base 10: '${item}'`
    else criticalities.push(Number(item.trim()))
  }
  const categories = (q.get("category") ?? "").split(",").filter((c) => c !== "")
  const text = q.get("description") ?? ""
  let limit: number | undefined
  const limitRaw = q.get("limit")
  if (limitRaw !== null && limitRaw !== "") {
    if (!/^\d{1,9}$/.test(limitRaw)) errors.limit = `must be a positive integer; got '${limitRaw}'`
    else limit = Number(limitRaw)
  }
  if (Object.keys(errors).length) return { errors }

  const filter: ChangeFilter = { criticalities, categories, text: text || undefined }
  if (Number.isNaN(hours) || hours < 0) return { filter, empty: true }
  // seconds, as the original: an integer timestamp t matches when lower ≤ t (≤ until)
  const end = until === -1 ? nowMs / 1000 : until
  const lower = end - hours * 3600
  if (Number.isFinite(lower)) filter.from = Math.ceil(lower) * 1000
  if (until !== -1) filter.to = until * 1000 + 999
  return { filter, empty: false, limit }
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i

interface CachedList {
  body: Uint8Array<ArrayBuffer>
  gzip?: Uint8Array<ArrayBuffer>
}

/**
 * `POST /api/events`: `201 "OK"` once the event is committed. The plugin also answers it as a fast route
 * (before the router), so the same function serves both ways in.
 */
export function eventPoster(ctx: PluginContext, store: ChangeStore): (request: Request) => Promise<Response> {
  return async (request) => {
    const refused = await refuse(ctx, request, "ingest")
    if (refused) return refused
    const bytes = new Uint8Array(await request.arrayBuffer())
    if (bytes.length > ctx.config.maxBodyBytes) return bodyTooLarge(ctx.config.maxBodyBytes)
    const body = bytes.length ? parseEventBody(decodeBody(bytes)) : undefined
    if (body === undefined) return message(400, NOT_UNDERSTOOD)
    const r = eventFromBody(body, ctx.now())
    if ("errors" in r) return message(400, r.errors)
    await store.record(r.change)
    return new Response('"OK"\n', { status: 201, headers: { "content-type": JSON_TYPE } })
  }
}

export function compatRoutes(
  ctx: PluginContext,
  store: ChangeStore,
  opts: { readCache: boolean; post: (request: Request) => Promise<Response> },
) {
  const { post } = opts
  const cache = createResponseCache<CachedList>(opts.readCache)
  const hide = { detail: { hide: true } }
  const notAllowed = () =>
    message(405, "The method is not allowed for the requested URL.", { allow: "HEAD, GET, POST, OPTIONS" })

  const postEvent = ({ request }: { request: Request }) => post(request)

  async function listEvents({ request }: { request: Request }) {
    const refused = await refuse(ctx, request, "read")
    if (refused) return refused
    const url = new URL(request.url)
    const now = ctx.now()
    const gzipOk = /\bgzip\b/i.test(request.headers.get("accept-encoding") ?? "")
    const q = parseEventsQuery(url.searchParams, now)
    if ("errors" in q) return message(400, q.errors)
    const entry = await cache.get(url.search, store.generation(), now, async () => {
      const events = q.empty ? [] : await store.listBrief(q.filter, { limit: q.limit })
      const text = JSON.stringify(
        events.map((e) => ({
          criticality: e.criticality,
          unix_timestamp: Math.floor(e.timestamp / 1000),
          category: e.category,
          description: e.description,
        })),
      )
      return { body: new TextEncoder().encode(text) } as CachedList
    })
    const headers: Record<string, string> = { "content-type": JSON_TYPE, vary: "Accept-Encoding" }
    let payload = entry.body
    if (gzipOk && payload.length >= 500) {
      entry.gzip ??= gzipFast(payload)
      payload = entry.gzip
      headers["content-encoding"] = "gzip"
    }
    if (request.method === "HEAD") {
      headers["content-length"] = String(payload.length)
      return new Response(null, { status: 200, headers })
    }
    return new Response(payload, { status: 200, headers })
  }

  async function annotations({ request }: { request: Request }) {
    const refused = await refuse(ctx, request, "read")
    if (refused) return refused
    const body = parseJsonObject(decodeBody(new Uint8Array(await request.arrayBuffer())))
    if (!body) return message(400, NOT_UNDERSTOOD)
    const errors: Record<string, string> = {}
    for (const k of ["range", "rangeRaw", "annotation"]) if (!(k in body)) errors[k] = MISSING_BODY
    if (Object.keys(errors).length) return message(400, errors)
    const range = (body.range ?? {}) as Record<string, unknown>
    const bound = (v: unknown) =>
      typeof v === "string" && ISO_INSTANT.test(v.trim()) ? Date.parse(v.trim()) : Number.NaN
    const from = bound(range.from)
    const to = bound(range.to)
    if (Number.isNaN(from) || Number.isNaN(to))
      return message(400, {
        range: "range.from and range.to must be ISO 8601 / RFC 3339 instants, e.g. 2026-11-21T05:22:24.000Z",
      })
    const annotation = body.annotation
    const query =
      annotation && typeof annotation === "object" ? (annotation as Record<string, unknown>).query : undefined
    const categories = typeof query === "string" ? query.split(",").filter((c) => c !== "") : []
    if (!categories.length) return json(200, [])
    const events = await store.listBrief({ from, to, categories })
    return json(
      200,
      events.map((e) => ({
        annotation,
        time: e.timestamp,
        title: e.description,
        tags: [`criticality:${e.criticality ?? "None"}`, `category:${e.category ?? "None"}`],
      })),
    )
  }

  async function healthcheck() {
    const text = (status: number, body: string) =>
      new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } })
    try {
      return (await store.any())
        ? text(200, "0 OK: There is at least one record in the database.")
        : text(200, "1 FAIL: No record is found in the database.")
    } catch (e) {
      return text(503, `1 FAIL: Some exception occured:\n ${(e as Error)?.message ?? String(e)}`)
    }
  }

  const options = () => new Response(null, { status: 200, headers: { allow: "HEAD, GET, POST, OPTIONS" } })
  const app = new Elysia({ name: "changes.compat", strictPath: true })
  for (const path of ["/api/events", "/api/events/"])
    app
      .post(path, postEvent, { parse: "none", ...hide })
      .get(path, listEvents, hide)
      .head(path, listEvents, hide)
      .put(path, notAllowed, { parse: "none", ...hide })
      .patch(path, notAllowed, { parse: "none", ...hide })
      .delete(path, notAllowed, { parse: "none", ...hide })
      .options(path, options, hide)
  return app
    .post("/annotations", annotations, { parse: "none", ...hide })
    .post("/query", () => json(200, []), { parse: "none", ...hide })
    .get("/healthcheck", healthcheck, hide)
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text)
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}
