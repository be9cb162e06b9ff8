/**
 * The native change API under /api/v1/changes (documented in OpenAPI): create one event or a batch,
 * list with filters and a cursor, counts per category for a window, get by id. Creating needs the
 * `ingest` role, reading `read`.
 */
import { Type } from "@sinclair/typebox"
import { Elysia, t } from "elysia"
import { ApiError, errorSchema, unprocessable } from "../../src/http/errors"
import { jsonBodyAfter } from "../../src/http/json-body"
import { paramInteger } from "../../src/http/params"
import type { PluginContext } from "../../src/plugin/contract"
import { changesFromBody, MAX_BATCH, type Problem } from "./input"
import { filterFromParams } from "./query"
import {
  type ChangeStore,
  criticalityName,
  decodeCursor,
  encodeCursor,
  LIMITS,
  type NewChange,
  TAG_KEY,
} from "./service"

const tags = ["changes"]
const text = (max: number, description: string) => t.String({ maxLength: max, description })

const ChangeCreate = t.Object(
  {
    category: text(LIMITS.category, "free-text group, e.g. deploy, dns, flag"),
    description: text(LIMITS.description, "what changed; links (http/https) are shown clickable"),
    criticality: t.Optional(
      t.Union([Type.Integer({ minimum: 1, maximum: 5 }), t.String({ maxLength: 16 })], {
        description: "1–5 or info, notice, warning, error, critical (default 1)",
      }),
    ),
    timestamp: t.Optional(
      t.Union([t.Number(), t.String({ maxLength: 40 })], {
        description:
          "epoch seconds or milliseconds (detected: ≥ 10^11 is ms) or an ISO 8601 instant; default now",
      }),
    ),
    service: t.Optional(text(LIMITS.service, "service the change applies to")),
    environment: t.Optional(text(LIMITS.environment, "e.g. production, staging")),
    author: t.Optional(text(LIMITS.author, "who made the change")),
    url: t.Optional(text(LIMITS.url, "http(s) link: pull request, pipeline run, ticket")),
    tags: t.Optional(
      t.Record(t.String({ pattern: TAG_KEY.source }), t.String({ maxLength: LIMITS.tagValue }), {
        description: `free string → string tags (at most ${LIMITS.tags})`,
      }),
    ),
  },
  { description: "Unknown keys are ignored." },
)

const ChangeEventSchema = t.Object({
  id: Type.Integer(),
  timestamp: Type.Integer({ description: "epoch ms" }),
  criticality: t.Union([Type.Integer(), t.Null()], { description: "1–5; null = unknown (old clients)" }),
  criticality_name: t.String({ description: "info, notice, warning, error, critical, or ? when unknown" }),
  category: t.Union([t.String(), t.Null()]),
  description: t.Union([t.String(), t.Null()]),
  source: t.String({ description: '"api" for events posted over HTTP, else the recording plugin\'s id' }),
  service: t.Union([t.String(), t.Null()]),
  environment: t.Union([t.String(), t.Null()]),
  author: t.Union([t.String(), t.Null()]),
  url: t.Union([t.String(), t.Null()]),
  tags: t.Record(t.String(), t.String()),
})

const FilterQuery = {
  since: t.Optional(t.String({ description: "start (inclusive): epoch s/ms or ISO 8601" })),
  until: t.Optional(t.String({ description: "end (inclusive): epoch s/ms or ISO 8601; default now" })),
  window: t.Optional(t.String({ description: "relative window ending at until, e.g. 15m, 1h, 7d" })),
  criticality: t.Optional(t.String({ description: "comma list of 1–5 or names" })),
  min_criticality: t.Optional(t.String({ description: "only this criticality or higher" })),
  category: t.Optional(t.String({ description: "comma list of categories (exact)" })),
  service: t.Optional(t.String({ description: "comma list of services" })),
  environment: t.Optional(t.String({ description: "comma list of environments" })),
  tag: t.Optional(
    t.Union([t.String(), t.Array(t.String())], { description: "key:value, repeatable (all must match)" }),
  ),
  q: t.Optional(t.String({ maxLength: 200, description: "case-insensitive substring of the description" })),
}

const withName = <E extends { criticality: number | null }>(e: E) => ({
  ...e,
  criticality_name: criticalityName(e.criticality),
})

function filterOrThrow(q: Parameters<typeof filterFromParams>[0], now: number, defaultWindow?: number) {
  const r = filterFromParams(q, now, defaultWindow)
  if ("errors" in r) {
    const first = Object.entries(r.errors)[0]
    throw new ApiError(400, "bad_request", `${first[0]} ${first[1]}`, r.errors)
  }
  return r
}

/** Problems listed in an error's details: a batch of bad items is not echoed whole. */
const MAX_DETAILS = 100

/**
 * "description: is required; nothing was stored", "[2].criticality: must be 1–5 …; nothing was stored";
 * `details` lists the problems as `{path, message}` like the core's schema errors.
 */
function invalidBody(problems: Problem[]): ApiError {
  const [first] = problems
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more, see details)` : ""
  return unprocessable(
    `${first.path}: ${first.message}${more}; nothing was stored`,
    problems.slice(0, MAX_DETAILS),
  )
}

export function apiRoutes(ctx: PluginContext, store: ChangeStore) {
  const read = ctx.auth.need("read")
  const ingest = ctx.auth.need("ingest")
  // The body schema below is a union (object or array), whose own error names no field ("(root) Value
  // should be one of 'object', 'array'"). So the role and then the body are checked first, in `transform`
  // (it runs before validation), by the same function that turns the body into rows; the rows wait here for
  // the handler. JSON only, the role before the body: the core's jsonBodyAfter (415 for a form or text).
  const checked = new WeakMap<Request, NewChange[]>()
  const json = jsonBodyAfter(ingest)
  const rowsOf = (body: unknown): NewChange[] => {
    const r = changesFromBody(body, "api", ctx.now())
    if ("problems" in r) throw invalidBody(r.problems)
    return r.changes
  }
  return new Elysia({ name: "changes.api" })
    .post(
      "/api/v1/changes",
      async ({ body, request, set }) => {
        const ids = await store.recordMany(checked.get(request) ?? rowsOf(body))
        set.status = 201
        if (!Array.isArray(body)) set.headers.location = `/api/v1/changes/${ids[0]}`
        return { ids }
      },
      {
        parse: json.parse,
        async transform(c) {
          await json.transform(c)
          checked.set(c.request, rowsOf(c.body))
        },
        body: t.Union([ChangeCreate, t.Array(ChangeCreate, { minItems: 1, maxItems: MAX_BATCH })], {
          description: `one change, or an array of 1 to ${MAX_BATCH} (all or nothing)`,
        }),
        response: {
          201: t.Object({
            ids: t.Array(Type.Integer(), { description: "ids of the stored events, in order" }),
          }),
          400: errorSchema,
          401: errorSchema,
          403: errorSchema,
          413: errorSchema,
          415: errorSchema,
          422: errorSchema,
          503: errorSchema,
        },
        detail: {
          summary: "Record one change event, or an array of up to 1000 (all or nothing)",
          description: "Answered after commit. Duplicates are allowed: the change log is append-only.",
          tags,
        },
      },
    )
    .get(
      "/api/v1/changes",
      async ({ query }) => {
        const { filter } = filterOrThrow(query, ctx.now())
        let cursor: { ts: number; id: number } | undefined
        if (query.cursor) {
          cursor = decodeCursor(query.cursor)
          if (!cursor) throw new ApiError(400, "bad_request", "cursor is not one this API returned")
        }
        const limit = query.limit ?? 100
        const rows = await store.list(filter, { limit: limit + 1, cursor })
        const page = rows.slice(0, limit)
        const last = page[page.length - 1]
        return {
          items: page.map(withName),
          next_cursor: rows.length > limit && last ? encodeCursor({ ts: last.timestamp, id: last.id }) : null,
        }
      },
      {
        beforeHandle: read,
        query: t.Object({
          ...FilterQuery,
          limit: t.Optional(paramInteger({ minimum: 1, maximum: 1000, default: 100 })),
          cursor: t.Optional(t.String({ maxLength: 64, description: "next_cursor of the previous page" })),
        }),
        response: {
          200: t.Object({
            items: t.Array(ChangeEventSchema),
            next_cursor: t.Union([t.String(), t.Null()], { description: "pass as cursor for the next page" }),
          }),
          400: errorSchema,
          401: errorSchema,
          403: errorSchema,
          422: errorSchema,
        },
        detail: { summary: "List change events, newest first, with filters and cursor pagination", tags },
      },
    )
    .get(
      "/api/v1/changes/counts",
      async ({ query }) => {
        const now = ctx.now()
        const { filter } = filterOrThrow(query, now, 3_600_000)
        const categories = await store.countByCategory(filter)
        return {
          from: filter.from ?? null,
          until: filter.to ?? now,
          total: categories.reduce((n, c) => n + c.count, 0),
          categories,
        }
      },
      {
        beforeHandle: read,
        query: t.Object(FilterQuery),
        response: {
          200: t.Object({
            from: t.Union([Type.Integer(), t.Null()], { description: "epoch ms" }),
            until: Type.Integer({ description: "epoch ms" }),
            total: Type.Integer(),
            categories: t.Array(
              t.Object({ category: t.Union([t.String(), t.Null()]), count: Type.Integer() }),
            ),
          }),
          400: errorSchema,
          401: errorSchema,
          403: errorSchema,
          422: errorSchema,
        },
        detail: { summary: "Count change events per category in a window (default the last hour)", tags },
      },
    )
    .get(
      "/api/v1/changes/:id",
      async ({ params }) => {
        const e = await store.get(params.id)
        if (!e) throw new ApiError(404, "not_found", `no change event ${params.id}`)
        return withName(e)
      },
      {
        beforeHandle: read,
        params: t.Object({ id: paramInteger({ minimum: 1 }) }),
        response: {
          200: ChangeEventSchema,
          401: errorSchema,
          403: errorSchema,
          404: errorSchema,
          422: errorSchema,
        },
        detail: { summary: "One change event by id", tags },
      },
    )
}
