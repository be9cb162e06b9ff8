// plugins.d/deploys.ts
import { definePlugin, Elysia, html, t } from "logbook"

export default definePlugin({
  id: "deploys",
  title: "Deploy counter",
  migrations: [
    {
      id: "deploys/001_counts",
      sqlite: "CREATE TABLE deploys_counts (service TEXT PRIMARY KEY, n INTEGER NOT NULL)",
      postgres: "CREATE TABLE deploys_counts (service TEXT PRIMARY KEY, n BIGINT NOT NULL)",
    },
  ],
  nav: [{ title: "Deploys", href: "/ui/deploys" }],
  widgets: [{ id: "deploys", title: "Deploys", url: "/ui/deploys/widget", trigger: "load, every 60s" }],
  checks: (ctx) => [
    {
      name: "deploys-table",
      async check() {
        const row = await ctx.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM deploys_counts")
        return { healthy: true, observedValue: Number(row?.n ?? 0), observedUnit: "services" }
      },
    },
  ],
  routes: (ctx) =>
    new Elysia()
      .post(
        "/api/v1/deploys/:service",
        // logbook.d.ts types Elysia loosely (a drop-in has no node_modules): annotate what a handler takes
        async ({ params }: { params: { service: string } }) => {
          // through the group-commit writer: answered only after commit, 503 + Retry-After when overloaded
          await ctx.writer.run((tx) =>
            tx.run(
              "INSERT INTO deploys_counts (service, n) VALUES (?, 1) ON CONFLICT (service) DO UPDATE SET n = deploys_counts.n + 1",
              [params.service],
            ),
          )
          await ctx.changes.record({ category: "deploy", description: `${params.service} deployed` })
          return { service: params.service }
        },
        {
          beforeHandle: ctx.auth.need("ingest"),
          params: t.Object({ service: t.String({ pattern: "^[a-z0-9-]{1,64}$" }) }),
          response: { 200: t.Object({ service: t.String() }) },
          detail: { summary: "Count a deploy of a service", tags: ["deploys"] },
        },
      )
      .get(
        "/ui/deploys",
        async ({ request }: { request: Request }) => {
          const rows = await ctx.db.all<{ service: string; n: number }>(
            "SELECT service, n FROM deploys_counts ORDER BY n DESC",
          )
          // html`` escapes every interpolated value
          const body = html`<h1>Deploys</h1>
<table class="responsive">${rows.map((r) => html`<tr><td>${r.service}</td><td>${r.n}</td></tr>`)}</table>`
          return ctx.ui.page(request, { title: "Deploys", body, active: "/ui/deploys" })
        },
        { beforeHandle: ctx.auth.need("read"), detail: { hide: true } },
      )
      .get(
        "/ui/deploys/widget",
        async () => {
          const row = await ctx.db.get<{ n: number }>("SELECT COALESCE(SUM(n), 0) AS n FROM deploys_counts")
          return ctx.ui.fragment(html`<p><strong>${Number(row?.n ?? 0)}</strong> deploys counted</p>`)
        },
        { beforeHandle: ctx.auth.need("read"), detail: { hide: true } },
      ),
})
