/**
 * A small plugin for the core's tests: native API routes with schemas (OpenAPI), a writer-backed insert,
 * routes that fail in each way the core must map, a page, a widget and a check. Not a built-in plugin.
 */
import { Elysia, t } from "elysia"
import { WriterFullError } from "../src/db/writer"
import { ApiError, errorSchema } from "../src/http/errors"
import { definePlugin } from "../src/plugin/contract"
import { html } from "../views/html"

const Note = t.Object({ id: t.Integer(), text: t.String() })
const tags = ["sample"]

export const samplePlugin = definePlugin({
  id: "sample",
  title: "Sample <plugin>",
  migrations: [
    {
      id: "sample/001_notes",
      sqlite:
        "CREATE TABLE sample_notes (id INTEGER PRIMARY KEY AUTOINCREMENT, text TEXT NOT NULL CHECK (text <> 'bad'))",
      postgres:
        "CREATE TABLE sample_notes (id BIGSERIAL PRIMARY KEY, text TEXT NOT NULL CHECK (text <> 'bad'))",
    },
  ],
  nav: [{ title: "Sample", href: "/ui/sample", order: 50 }],
  widgets: [
    { id: "sample-a", title: "Sample A", url: "/ui/sample/widget?w=a", trigger: "load, every 7s" },
    { id: "sample-b", title: "Sample B <b>", url: "/ui/sample/widget?w=b" },
  ],
  checks: () => [{ name: "sample-check", check: () => ({ healthy: true }) }],
  routes: (ctx) =>
    new Elysia()
      .post(
        "/api/v1/sample/notes",
        async ({ body, set }) => {
          const [id] = await ctx.writer.insert({
            table: "sample_notes",
            columns: ["text"],
            rows: [[body.text]],
            returning: "id",
          })
          ctx.log.info("note stored", { id })
          set.status = 201
          return { id: Number(id), text: body.text }
        },
        {
          beforeHandle: ctx.auth.need("ingest"),
          body: t.Object({ text: t.String({ minLength: 1 }) }),
          response: { 201: Note, 401: errorSchema, 403: errorSchema, 422: errorSchema, 503: errorSchema },
          detail: { summary: "Store a note", tags },
        },
      )
      .get(
        "/api/v1/sample/notes/:id",
        async ({ params }) => {
          const row = await ctx.db.get<{ id: number; text: string }>(
            "SELECT id, text FROM sample_notes WHERE id = ?",
            [params.id],
          )
          if (!row) throw new ApiError(404, "not_found", `no note ${params.id}`)
          return { id: Number(row.id), text: row.text }
        },
        {
          beforeHandle: ctx.auth.need("read"),
          params: t.Object({ id: t.Integer() }),
          response: { 200: Note, 404: errorSchema },
          detail: { summary: "Read a note", tags },
        },
      )
      .get(
        "/api/v1/sample/boom",
        () => {
          throw new Error("kaboom: secret internals")
        },
        { response: { 200: t.Object({}) }, detail: { summary: "Always fails", tags } },
      )
      .get("/api/v1/sample/wrong-shape", () => ({ id: "not a number" }) as unknown as { id: number }, {
        response: { 200: t.Object({ id: t.Integer() }) },
        detail: { summary: "Answers against its own schema", tags },
      })
      .get(
        "/api/v1/sample/full",
        () => {
          throw new WriterFullError(3)
        },
        { response: { 200: t.Object({}), 503: errorSchema }, detail: { summary: "Always overloaded", tags } },
      )
      .get(
        "/api/v1/sample/bad",
        () => {
          throw new ApiError(400, "bad_request", "that is not how it works", { hint: "x" })
        },
        { response: { 200: t.Object({}), 400: errorSchema }, detail: { summary: "Always 400", tags } },
      )
      .get(
        "/api/v1/sample/admin",
        async ({ request }) => ({ who: (await ctx.auth.principal(request)).name }),
        {
          beforeHandle: ctx.auth.need("admin"),
          response: { 200: t.Object({ who: t.String() }), 401: errorSchema, 403: errorSchema },
          detail: { summary: "Admins only", tags },
        },
      )
      .get(
        "/ui/sample",
        ({ request }) =>
          ctx.ui.page(request, {
            title: "Sample",
            body: html`<p id="sample">sample page</p>`,
            active: "/ui/sample",
          }),
        {
          beforeHandle: ctx.auth.need("read"),
          detail: { hide: true },
        },
      )
      .get(
        "/ui/sample/form",
        ({ request }) =>
          ctx.ui.page(request, {
            title: "Sample form",
            body: html`<button id="act" hx-post="/ui/sample/act" hx-vals='{"what":"htmx"}' hx-target="#out">Act</button>
<div id="out"></div>`,
          }),
        { beforeHandle: ctx.auth.need("read"), detail: { hide: true } },
      )
      .post(
        "/ui/sample/act",
        ({ body }) => ctx.ui.fragment(html`<p id="done">done ${(body as { what?: string }).what}</p>`),
        { beforeHandle: ctx.auth.need("read"), detail: { hide: true } },
      )
      .get("/ui/sample/widget", ({ query }) => ctx.ui.fragment(html`<p>widget ${query.w}</p>`), {
        detail: { hide: true },
      })
      .get(
        "/ui/sample/boom",
        () => {
          throw new Error("page kaboom")
        },
        { detail: { hide: true } },
      ),
})
