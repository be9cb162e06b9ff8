import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Elysia, t } from "elysia"
import parsePrometheusTextFormat from "parse-prometheus-text-format"
import { definePlugin } from "../../src/plugin/contract"
import { createTestApp, type TestApp } from "../../test/support"
import metrics from "./plugin"
import { MAX_DATAGRAM } from "./statsd-client"
import { readExposition, type UdpCollector, udpCollector, until } from "./testing"

const ADMIN = "admin-secret-token-for-tests"

/**
 * A tiny plugin with a templated route and one SQL statement per request, and an ingesting route: a row
 * through its ctx.writer and a helper counter through its ctx.metrics (both measured as plugin "probe").
 */
const probe = definePlugin({
  id: "probe",
  title: "Probe",
  routes: (ctx) =>
    new Elysia()
      .get("/users/:id", async ({ params }) => {
        await ctx.db.get("SELECT series, created_at FROM metrics_pins WHERE series = ?", [params.id])
        return `user ${params.id}`
      })
      .post("/users/:id", async ({ params }) => {
        await ctx.writer.insert({
          table: "metrics_pins",
          columns: ["series", "created_at"],
          rows: [[`probe-${params.id}`, ctx.now()]],
        })
        ctx.metrics.increment("users.created", { source: "api" })
        return "created"
      })
      .put("/users/:id", ({ body }) => `renamed ${body.name}`, { body: t.Object({ name: t.String() }) }),
})

/** The sum of the values of the counter lines `<key>:<n>|c<tail>` (counters are aggregated per 10 ms send). */
const total = (lines: string[], key: string, tail = "") =>
  lines.reduce((sum, l) => {
    const m =
      l.startsWith(`${key}:`) && l.endsWith(`|c${tail}`)
        ? l.slice(key.length + 1, l.length - 2 - tail.length)
        : ""
    return m !== "" && /^\d+$/.test(m) ? sum + Number(m) : sum
  }, 0)

/** Two ingesting requests of plugin "probe". */
async function probeIngests(app: TestApp) {
  for (const id of ["a", "b"])
    expect((await app.request(`/users/${id}`, { method: "POST" })).status).toBe(200)
}

async function helperCalls(app: TestApp) {
  expect(await app.host.metrics.time("jobs.wrapped", async () => "done")).toBe("done")
  app.host.metrics.timer("jobs.run", 2.5)
  app.host.metrics.increment("health_check", { name: "db", outcome: "success" })
  app.host.metrics.gauge("queue.depth", -3)
  app.host.metrics.increment("ingest", { env: "override" })
}

describe("plain (c2cwsgiutils) mode", () => {
  let app: TestApp
  let udp: UdpCollector
  beforeAll(async () => {
    udp = await udpCollector()
    app = await createTestApp({
      plugins: [metrics, probe],
      env: {
        LOGBOOK_STATSD_ADDRESS: `127.0.0.1:${udp.port}`,
        LOGBOOK_STATSD_PREFIX: "ops",
        LOGBOOK_ADMIN_TOKEN: ADMIN,
      },
    })
  })
  afterAll(async () => {
    await app.close()
    udp.close()
  })

  test("exact statsd lines for routes, SQL, helpers; datagrams ≤ 1432 bytes", async () => {
    const r = await app.request("/users/7")
    expect(r.status).toBe(200)
    expect(r.headers.get("server-timing")).toMatch(/^route;desc="users_id";dur=\d+\.\d{2}$/)
    expect((await app.request("/nope")).status).toBe(404)
    await helperCalls(app)
    await until(() => udp.lines().includes("ops.ingest.override:1|c"), "the helper lines")
    const lines = udp.lines()
    expect(lines.filter((l) => /^ops\.route\.GET\.users_id\.200:[1-9]\d*\|ms$/.test(l)).length).toBe(1)
    expect(lines.filter((l) => /^ops\.route\.GET\._not_found\.404:[1-9]\d*\|ms$/.test(l)).length).toBe(1)
    expect(
      lines.some((l) => /^ops\.sql\.SELECT_FROM_metrics_pins_WHERE_series____:[1-9]\d*\|ms$/.test(l)),
    ).toBe(true)
    // helpers: timer rounded half-to-even (2.5 → 2), tags appended as parts in key order, negative gauge as 0 then -N
    expect(lines).toContain("ops.jobs.run:2|ms")
    expect(lines.filter((l) => /^ops\.jobs\.wrapped:[1-9]\d*\|ms$/.test(l)).length).toBe(1) // time(): ≥ 1 ms
    expect(lines).toContain("ops.health_check.db.success:1|c")
    const g = lines.indexOf("ops.queue.depth:0|g")
    expect(g).toBeGreaterThanOrEqual(0)
    expect(lines[g + 1]).toBe("ops.queue.depth:-3|g")
    for (const d of udp.datagrams) expect(Buffer.byteLength(d)).toBeLessThanOrEqual(MAX_DATAGRAM)
  })

  test("a plugin's ctx.metrics and committed ctx.writer rows: plain keys stay c2c's (no plugin part)", async () => {
    await probeIngests(app)
    await until(() => total(udp.lines(), "ops.users.created.api") === 2, "both counts")
    await until(() => total(udp.lines(), "ops.ingest.rows.metrics_pins") === 2, "both rows")
    const body = (await (await app.request("/c2c/stats.json")).json()) as { counters: Record<string, number> }
    expect(body.counters["users/created/api"]).toBe(2)
    expect(body.counters["ingest/rows/metrics_pins"]).toBe(2)
    // Prometheus: the plugin as a label
    const samples = readExposition(await (await app.request("/metrics")).text())
    const value = (name: string) => samples.find((x) => x.name === name)
    expect(value("logbook_users_created_total")).toEqual({
      name: "logbook_users_created_total",
      labels: { plugin: "probe", source: "api" },
      value: 2,
    })
    expect(value("logbook_ingest_rows_total")).toEqual({
      name: "logbook_ingest_rows_total",
      labels: { plugin: "probe", table: "metrics_pins" },
      value: 2,
    })
  })

  test("counters and gauges are aggregated per key until the next send: one line each", async () => {
    for (let i = 0; i < 100; i++) {
      app.host.metrics.increment("agg.hits")
      app.host.metrics.gauge("agg.level", i)
    }
    await until(() => udp.lines().includes("ops.agg.hits:100|c"), "the summed counter")
    expect(udp.lines().filter((l) => l.startsWith("ops.agg.hits:"))).toEqual(["ops.agg.hits:100|c"])
    expect(udp.lines().filter((l) => l.startsWith("ops.agg.level:"))).toEqual(["ops.agg.level:99|g"])
  })

  test("many measurements are batched into several datagrams, each ≤ 1432 bytes", async () => {
    const before = udp.datagrams.length
    for (let i = 0; i < 300; i++) app.host.metrics.increment("batch.test", { i })
    await until(() => udp.lines().includes("ops.batch.test.299:1|c"), "the last batched line")
    const sent = udp.datagrams.slice(before)
    expect(sent.length).toBeGreaterThan(1)
    expect(sent.length).toBeLessThan(300)
    for (const d of sent) expect(Buffer.byteLength(d)).toBeLessThanOrEqual(MAX_DATAGRAM)
  })

  test("/metrics: Prometheus 0.0.4 parsed by a real parser, route templates as labels", async () => {
    await app.request("/users/8")
    const r = await app.request("/metrics")
    expect(r.status).toBe(200)
    expect(r.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8")
    const text = await r.text()
    expect(text.endsWith("\n")).toBe(true)
    // the library parses the whole text (it throws on a malformed line) and gives family types;
    // labelled histograms are read with the strict 0.0.4 reader (the library flattens them)
    const families = parsePrometheusTextFormat(text)
    const byName = new Map(families.map((f) => [f.name, f]))
    expect(byName.get("logbook_http_request_duration_seconds")?.type).toBe("HISTOGRAM")
    const samples = readExposition(text)
    const find = (name: string, labels: Record<string, string>) =>
      samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    const count = find("logbook_http_request_duration_seconds_count", { route: "/users/:id", method: "GET" })
    expect(count.map((s) => [s.labels, s.value])).toEqual([
      [{ method: "GET", route: "/users/:id", status: "200" }, 2],
    ])
    expect(
      find("logbook_http_request_duration_seconds_bucket", {
        route: "/users/:id",
        method: "GET",
        le: "+Inf",
      })[0].value,
    ).toBe(2)
    expect(
      find("logbook_http_request_duration_seconds_count", { route: "_not_found", status: "404" }).length,
    ).toBe(1)
    // never the raw path
    expect(text).not.toContain("/users/7")
    expect(
      find("logbook_db_statement_duration_seconds_count", {
        statement: "SELECT FROM metrics_pins WHERE series = ?",
      })[0].value,
    ).toBe(2)
    // the helper API in all outputs
    expect(byName.get("logbook_jobs_run_seconds")?.type).toBe("HISTOGRAM")
    expect(find("logbook_jobs_wrapped_seconds_count", {})[0].value).toBe(1)
    expect(byName.get("logbook_health_check_total")?.metrics[0]).toEqual({
      labels: { name: "db", outcome: "success" },
      value: "1",
    })
    expect(byName.get("logbook_queue_depth")?.metrics[0].value).toBe("-3")
    expect(byName.get("logbook_log_level_overrides")?.metrics[0].value).toBe("0")
    expect(byName.has("logbook_writer_queue_depth")).toBe(true)
  })

  test("the format follows Accept's q-values and ignores case", async () => {
    const typeFor = async (accept: string) =>
      (await app.request("/metrics", { headers: { accept } })).headers.get("content-type") ?? ""
    for (const accept of [
      "application/openmetrics-text;q=0, text/plain",
      "text/plain;q=1, application/openmetrics-text;q=0.5",
      "*/*",
    ])
      expect(await typeFor(accept)).toStartWith("text/plain; version=0.0.4")
    for (const accept of [
      "Application/OpenMetrics-Text; version=1.0.0",
      // what Prometheus sends
      "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
    ])
      expect(await typeFor(accept)).toStartWith("application/openmetrics-text")
  })

  test("OpenMetrics by Accept, ends with # EOF; the next 0.0.4 scrape is unaffected", async () => {
    const r = await app.request("/metrics", {
      headers: { accept: "application/openmetrics-text; version=1.0.0" },
    })
    expect(r.headers.get("content-type")).toBe("application/openmetrics-text; version=1.0.0; charset=utf-8")
    const text = await r.text()
    expect(text.endsWith("# EOF\n")).toBe(true)
    // OpenMetrics HELP texts may not hold a raw double quote
    for (const help of text.split("\n").filter((l) => l.startsWith("# HELP ")))
      expect(help).not.toContain('"')
    expect(text).toContain("# TYPE logbook_health_check counter")
    expect(text).toContain('logbook_health_check_total{name="db",outcome="success"} 1')
    const again = await (await app.request("/metrics")).text()
    expect(again).toContain("# TYPE logbook_health_check_total counter")
    expect(again).not.toContain("# EOF")
  })

  test("/c2c/stats.json shape; reset=1 needs admin", async () => {
    const body = (await (await app.request("/c2c/stats.json")).json()) as {
      timers: Record<string, Record<string, number>>
      gauges: Record<string, number>
      counters: Record<string, number>
    }
    expect(Object.keys(body).sort()).toEqual(["counters", "gauges", "timers"])
    const t = body.timers["route/GET/users_id/200"]
    expect(Object.keys(t).sort()).toEqual(["avg_ms", "max_ms", "min_ms", "nb"])
    expect(t.nb).toBe(2)
    for (const v of Object.values(t)) expect(Number.isInteger(v)).toBe(true)
    expect(body.timers["jobs/run"]).toEqual({ nb: 1, avg_ms: 2, min_ms: 2, max_ms: 2 })
    expect(body.timers["jobs/wrapped"].nb).toBe(1)
    expect(body.timers["sql/SELECT FROM metrics_pins WHERE series = ?"].nb).toBe(2)
    expect(body.counters["health_check/db/success"]).toBe(1)
    expect(body.gauges["queue/depth"]).toBe(-3)

    expect((await app.request("/c2c/stats.json?reset=1")).status).toBe(401)
    const reset = await app.request("/c2c/stats.json?reset=1", {
      headers: { authorization: `Bearer ${ADMIN}` },
    })
    expect(reset.status).toBe(200)
    expect(((await reset.json()) as typeof body).counters["health_check/db/success"]).toBe(1)
    const after = (await (await app.request("/c2c/stats.json")).json()) as typeof body
    expect(after.counters["health_check/db/success"]).toBeUndefined()
    expect(after.timers["route/GET/users_id/200"]).toBeUndefined()
  })

  test("requests refused before their handler are measured under their route, not _not_found", async () => {
    const bad = (body: string) =>
      app.request("/users/9", { method: "PUT", body, headers: { "content-type": "application/json" } })
    expect((await bad('{"name": 5}')).status).toBe(422)
    expect((await bad("{nope")).status).toBe(400)
    expect((await bad('{"name": "ok"}')).status).toBe(200)
    const keys = ["422", "400", "200"].map((status) => `ops.route.PUT.users_id.${status}:`)
    await until(() => keys.every((k) => udp.lines().some((l) => l.startsWith(k))), "the PUT route lines")
    expect(udp.lines().filter((l) => l.startsWith("ops.route.PUT._not_found."))).toEqual([])
    const samples = readExposition(await (await app.request("/metrics")).text())
    const statuses = samples
      .filter((x) => x.name === "logbook_http_request_duration_seconds_count" && x.labels.method === "PUT")
      .map((x) => `${x.labels.route} ${x.labels.status}`)
      .sort()
    expect(statuses).toEqual(["/users/:id 200", "/users/:id 400", "/users/:id 422"])
  })
})

describe("tagged (DogStatsD) mode", () => {
  let app: TestApp
  let udp: UdpCollector
  beforeAll(async () => {
    udp = await udpCollector()
    process.env.LOGBOOK_STATSD_TAG_ENV = "test"
    app = await createTestApp({
      plugins: [metrics, probe],
      env: {
        LOGBOOK_STATSD_ADDRESS: `127.0.0.1:${udp.port}`,
        LOGBOOK_STATSD_PREFIX: "ops",
        LOGBOOK_STATSD_TAGS: "1",
      },
    })
    delete process.env.LOGBOOK_STATSD_TAG_ENV
  })
  afterAll(async () => {
    await app.close()
    udp.close()
  })

  test("exact tagged lines: tags sorted, global tags merged, per-metric tags win", async () => {
    await app.request("/users/7")
    await helperCalls(app)
    await until(() => udp.lines().includes("ops.ingest:1|c|#env:override"), "the helper lines")
    const lines = udp.lines()
    expect(
      lines.filter((l) =>
        /^ops\.route:[1-9]\d*\|ms\|#env:test,group:2,method:GET,route:users_id,status:200$/.test(l),
      ).length,
    ).toBe(1)
    expect(
      lines.some((l) =>
        /^ops\.sql:[1-9]\d*\|ms\|#env:test,query:SELECT FROM metrics_pins WHERE series = \?$/.test(l),
      ),
    ).toBe(true)
    expect(lines).toContain("ops.jobs.run:2|ms|#env:test")
    expect(lines).toContain("ops.health_check:1|c|#env:test,name:db,outcome:success")
  })

  test("a plugin's measurements carry its id as the plugin tag", async () => {
    await probeIngests(app)
    await until(
      () => total(udp.lines(), "ops.users.created", "|#env:test,plugin:probe,source:api") === 2,
      "the probe's tagged counts",
    )
    await until(
      () => total(udp.lines(), "ops.ingest.rows", "|#env:test,plugin:probe,table:metrics_pins") === 2,
      "the probe's tagged rows",
    )
    const body = (await (await app.request("/c2c/stats.json")).json()) as { counters: Record<string, number> }
    expect(body.counters["users/created/plugin=probe/source=api"]).toBe(2)
  })

  test("stats.json keys in tagged style", async () => {
    const body = (await (await app.request("/c2c/stats.json")).json()) as {
      timers: Record<string, unknown>
      counters: Record<string, number>
    }
    expect(body.timers["route/group=2/method=GET/route=users_id/status=200"]).toBeDefined()
    expect(body.counters["health_check/name=db/outcome=success"]).toBe(1)
  })
})

describe("without LOGBOOK_STATSD_ADDRESS", () => {
  test("nothing is pushed, pull outputs still work, a page carries render time in Server-Timing", async () => {
    const app = await createTestApp({ plugins: [metrics] })
    try {
      expect(app.host.services.get("metrics")?.statsd).toBeUndefined()
      const page = await app.request("/ui/metrics")
      expect(page.status).toBe(200)
      expect(page.headers.get("server-timing")).toMatch(
        /^route;desc="ui_metrics";dur=[\d.]+, render;dur=[\d.]+$/,
      )
      const text = await (await app.request("/metrics")).text()
      expect(text).toContain(
        'logbook_render_duration_seconds_count{method="GET",route="/ui/metrics",status="200"} 1',
      )
    } finally {
      await app.close()
    }
  })
})
