/**
 * The native records API under /api/v1/records (OpenAPI): ingestion of single records, JSON arrays and
 * NDJSON with a per-item report, search with the query language, histogram, record, around, loggers.
 * Times in responses are integer microseconds (`ts`) plus an ISO 8601 string (`time`).
 */
import { Type } from "@sinclair/typebox"
import { Elysia, t } from "elysia"
import type { OpenAPIV3 } from "openapi-types"
import { ApiError, errorSchema } from "../../src/http/errors"
import { paramInteger } from "../../src/http/params"
import { countRejected, mediaType, ndjsonRecords, normaliseOne } from "./ingest"
import { levelName, parseLevel } from "./levels"
import { RecordError } from "./normalise"
import { SearchError } from "./query"
import {
  around,
  getRecord,
  histogram,
  ingest,
  loggers,
  type NormalisedRecord,
  type RecordRow,
  search,
} from "./service"
import type { RecordsContext } from "./settings"
import { parseInstant } from "./timeline"

const RecordJson = t.Object({
  id: Type.Integer(),
  ts: Type.Integer({ description: "microseconds since the epoch, UTC" }),
  time: t.String({ description: "ISO 8601, UTC, microsecond precision" }),
  level: Type.Integer(),
  levelName: t.String(),
  name: t.String(),
  message: t.String(),
  logrec: t.Record(t.String(), t.Unknown(), {
    description: "data (extra), meta (LogRecord attributes), error",
  }),
})

const IngestReport = t.Object({
  ids: t.Array(Type.Integer(), { description: "ids of the stored records, in input order" }),
  stored: Type.Integer(),
  errors: t.Array(
    t.Object({
      index: Type.Integer({ description: "0-based position in a JSON array, or 1-based NDJSON line number" }),
      status: Type.Integer(),
      message: t.String(),
    }),
  ),
})

/** The core's error body. */
const Err = errorSchema
/** What a read route answers besides its own: no or an unknown credential, no read role, a bad parameter. */
const readErrors = { 401: Err, 403: Err, 422: Err }

/**
 * A record as POST /api/v1/records reads it, for the document only: the route parses its body itself
 * (`parse: "none"`), so its 400s keep their words. Without `?raw=1`, name, created, levelno and msg or
 * message are required.
 */
const RecordIn: OpenAPIV3.SchemaObject = {
  type: "object",
  description:
    "A Python LogRecord dictionary. Other keys are kept (extra data, LogRecord attributes). With `?raw=1` nothing is required: the dictionary is stored as it is, at level INFO.",
  required: ["name", "created", "levelno"],
  anyOf: [{ required: ["msg"] }, { required: ["message"] }],
  properties: {
    name: { type: "string", description: "logger name" },
    created: {
      anyOf: [{ type: "number" }, { type: "string" }],
      description: "epoch seconds (a number, or a string of one), year 1 to 9999",
    },
    levelno: {
      anyOf: [{ type: "integer", minimum: 0, maximum: 255 }, { type: "string" }],
      description: "0–255, or a level name (`WARNING`)",
    },
    msg: { description: "the format string (any JSON value), formatted with `args`" },
    args: { description: "arguments of `msg`: an array or an object" },
    message: { type: "string", description: "the formatted message (instead of msg and args)" },
  },
  additionalProperties: true,
}

export function isoMicros(ts: number): string {
  const seconds = Math.floor(ts / 1_000_000)
  const micros = ts - seconds * 1_000_000
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${String(micros).padStart(6, "0")}Z`
}

export function recordJson(r: RecordRow) {
  return {
    id: r.id,
    ts: r.ts,
    time: isoMicros(r.ts),
    level: r.level,
    levelName: levelName(r.level),
    name: r.name,
    message: r.message,
    logrec: r.logrec,
  }
}

const badQuery = (e: SearchError) =>
  new ApiError(400, "bad_query", e.message, e.position === undefined ? undefined : { position: e.position })

function instant(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined
  const us = parseInstant(value)
  if (us === undefined)
    throw new ApiError(400, "bad_request", `${name}: expected RFC 3339 or epoch seconds, got '${value}'`)
  return us
}

function levelParam(value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined
  const n = parseLevel(value)
  if (n === undefined)
    throw new ApiError(400, "bad_request", `level: expected 0–255 or a level name, got '${value}'`)
  return n
}

export function recordsApi(ctx: RecordsContext) {
  const db = ctx.db
  const tags = ["records"]
  const read = ctx.auth.need("read")
  const needIngest = ctx.auth.need("ingest")
  const ingestGate = async (c: { request: Request }) => {
    try {
      await needIngest(c)
    } catch (e) {
      countRejected(ctx, "auth", "native API ingest without the ingest role")
      throw e
    }
  }

  /** Parse every item; store the good ones in one transaction; report the bad ones. */
  async function ingestBody(request: Request, raw: boolean) {
    const type = mediaType(request)
    const text = await request.text()
    const items: Array<{ index: number; record?: NormalisedRecord; error?: RecordError }> = []
    let single = false
    if (type === "application/x-ndjson") {
      for (const l of ndjsonRecords(ctx, text, raw))
        items.push({ index: l.line, record: l.record, error: l.error })
    } else if (type === "application/json" || type === "") {
      let doc: unknown
      try {
        doc = JSON.parse(text)
      } catch {
        countRejected(ctx, "parse", "invalid JSON body")
        throw new ApiError(400, "bad_request", "the body is not valid JSON")
      }
      single = !Array.isArray(doc)
      const docs = Array.isArray(doc) ? doc : [doc]
      docs.forEach((d, index) => {
        try {
          items.push({ index, record: normaliseOne(ctx, d, raw) })
        } catch (e) {
          if (!(e instanceof RecordError)) throw e
          items.push({
            index,
            error: new RecordError(e.status, single ? e.message : `item ${index}: ${e.message}`, e.type),
          })
        }
      })
    } else {
      countRejected(ctx, "parse", `unsupported content type '${type}'`)
      throw new ApiError(
        415,
        "unsupported_media_type",
        "send application/json (object or array) or application/x-ndjson",
      )
    }
    const errors = items.filter((i) => i.error)
    for (const e of errors)
      countRejected(ctx, (e.error as RecordError).reason, (e.error as RecordError).message)
    if (single && errors.length) {
      const e = errors[0].error as RecordError
      throw new ApiError(e.status, e.status === 413 ? "payload_too_large" : "bad_record", e.message)
    }
    const good = items.filter((i) => i.record).map((i) => i.record as NormalisedRecord)
    if (good.length === 0 && errors.length) {
      const status = errors.every((e) => e.error?.status === 413) ? 413 : 400
      throw new ApiError(
        status,
        status === 413 ? "payload_too_large" : "bad_record",
        "no record could be stored",
        errors.map((e) => ({ index: e.index, status: e.error?.status, message: e.error?.message })),
      )
    }
    const ids = await ingest(ctx, good)
    return {
      status: errors.length ? 207 : 201,
      body: {
        ids,
        stored: ids.length,
        errors: errors.map((e) => ({
          index: e.index,
          status: (e.error as RecordError).status,
          message: (e.error as RecordError).message,
        })),
      },
    }
  }

  return new Elysia()
    .post(
      "/api/v1/records",
      async ({ request, query, set }) => {
        const r = await ingestBody(request, query.raw === "1" || query.raw === "true")
        set.status = r.status
        return r.body
      },
      {
        parse: "none",
        beforeHandle: ingestGate,
        query: t.Object({
          raw: t.Optional(t.String({ description: "1: store the dict as is (Chronologer raw mode)" })),
        }),
        response: {
          201: IngestReport,
          207: IngestReport,
          400: Err,
          401: Err,
          403: Err,
          413: Err,
          415: Err,
          503: Err,
        },
        detail: {
          summary: "Ingest records: one JSON object, a JSON array, or NDJSON (one record per line)",
          description:
            "Each record is a Python LogRecord dictionary (name, created, levelno, msg/args or message, extra keys…). Valid items are stored together (nothing half-stored within an item); invalid ones are reported in `errors` (207). A single invalid object gives 400/413.",
          tags,
          requestBody: {
            content: {
              "application/json": {
                schema: { oneOf: [RecordIn, { type: "array", items: RecordIn }] },
              },
              "application/x-ndjson": { schema: { type: "string" } },
            },
          },
        },
      },
    )
    .get(
      "/api/v1/records",
      async ({ query }) => {
        try {
          const page = await search(db, {
            query: query.q,
            from: instant("from", query.from),
            to: instant("to", query.to),
            levelMin: levelParam(query.level),
            cursor: query.cursor,
            limit: query.limit ?? 100,
          })
          return {
            items: page.items.map(recordJson),
            ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
          }
        } catch (e) {
          if (e instanceof SearchError) throw badQuery(e)
          throw e
        }
      },
      {
        beforeHandle: read,
        query: t.Object({
          q: t.Optional(
            t.String({ description: "query language, e.g. `timeout level>=warning logger:app.db*`" }),
          ),
          from: t.Optional(t.String({ description: "inclusive; RFC 3339 or epoch seconds" })),
          to: t.Optional(t.String({ description: "exclusive; RFC 3339 or epoch seconds" })),
          level: t.Optional(t.String({ description: "minimum level: number or name" })),
          cursor: t.Optional(t.String()),
          limit: t.Optional(paramInteger({ minimum: 1, maximum: 1000 })),
        }),
        response: {
          200: t.Object({ items: t.Array(RecordJson), nextCursor: t.Optional(t.String()) }),
          400: Err,
          ...readErrors,
        },
        detail: { summary: "Search records, newest first, with cursor pagination", tags },
      },
    )
    .get(
      "/api/v1/records/histogram",
      async ({ query }) => {
        const to = instant("to", query.to) ?? ctx.now() * 1000
        const from = instant("from", query.from) ?? to - 86_400_000_000
        const bucket = query.bucket ?? Math.max(1, Math.ceil((to - from) / 1_000_000 / 60))
        if (to <= from) throw new ApiError(400, "bad_request", "to must be after from")
        if ((to - from) / 1_000_000 / bucket > 10_000)
          throw new ApiError(400, "bad_request", "too many buckets (at most 10000): use a larger bucket")
        try {
          const buckets = await histogram(db, { query: query.q, from, to, bucketSeconds: bucket })
          return { from, to, bucketSeconds: bucket, buckets }
        } catch (e) {
          if (e instanceof SearchError) throw badQuery(e)
          throw e
        }
      },
      {
        beforeHandle: read,
        query: t.Object({
          q: t.Optional(t.String()),
          from: t.Optional(t.String({ description: "default: 24 hours before `to`" })),
          to: t.Optional(t.String({ description: "default: now" })),
          bucket: t.Optional(
            paramInteger({ minimum: 1, description: "bucket size in seconds (default: 60 buckets)" }),
          ),
        }),
        response: {
          200: t.Object({
            from: Type.Integer({ description: "microseconds since the epoch" }),
            to: Type.Integer({ description: "microseconds since the epoch" }),
            bucketSeconds: Type.Integer(),
            buckets: t.Array(
              t.Object({ start: Type.Integer(), counts: t.Record(t.String(), Type.Integer()) }),
            ),
          }),
          400: Err,
          ...readErrors,
        },
        detail: { summary: "Record counts by level band per time bucket", tags },
      },
    )
    .get(
      "/api/v1/records/loggers",
      ({ query }) => loggers(db, { prefix: query.prefix, limit: query.limit ?? 50 }),
      {
        beforeHandle: read,
        query: t.Object({
          prefix: t.Optional(t.String()),
          limit: t.Optional(paramInteger({ minimum: 1, maximum: 1000 })),
        }),
        response: { 200: t.Array(t.Object({ name: t.String(), count: Type.Integer() })), ...readErrors },
        detail: { summary: "Distinct logger names with record counts (autocomplete)", tags },
      },
    )
    .get(
      "/api/v1/records/:id",
      async ({ params }) => {
        const r = await getRecord(db, params.id)
        if (!r) throw new ApiError(404, "not_found", `no record ${params.id}`)
        return recordJson(r)
      },
      {
        beforeHandle: read,
        params: t.Object({ id: paramInteger({ minimum: 1 }) }),
        response: { 200: RecordJson, 404: Err, ...readErrors },
        detail: { summary: "One record", tags },
      },
    )
    .get(
      "/api/v1/records/:id/around",
      async ({ params, query }) => {
        const r = await around(db, params.id, {
          before: query.before ?? 20,
          after: query.after ?? 20,
          sameLogger: query.sameLogger === "1" || query.sameLogger === "true",
          sameProcess: query.sameProcess === "1" || query.sameProcess === "true",
        })
        if (!r) throw new ApiError(404, "not_found", `no record ${params.id}`)
        return {
          record: recordJson(r.record),
          before: r.before.map(recordJson),
          after: r.after.map(recordJson),
        }
      },
      {
        beforeHandle: read,
        params: t.Object({ id: paramInteger({ minimum: 1 }) }),
        query: t.Object({
          before: t.Optional(paramInteger({ minimum: 0, maximum: 1000 })),
          after: t.Optional(paramInteger({ minimum: 0, maximum: 1000 })),
          sameLogger: t.Optional(t.String()),
          sameProcess: t.Optional(t.String()),
        }),
        response: {
          200: t.Object({ record: RecordJson, before: t.Array(RecordJson), after: t.Array(RecordJson) }),
          404: Err,
          ...readErrors,
        },
        detail: { summary: "The records just before and after one record (both lists newest first)", tags },
      },
    )
}
