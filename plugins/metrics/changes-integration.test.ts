/**
 * With the real changes plugin: a change posted by a changelog client (`POST /api/events`) becomes a
 * marker on the metrics chart of that window, and the changes POST itself is measured per route.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { createTestApp, type TestApp } from "../../test/support"
import changes from "../changes/plugin"
import metrics from "./plugin"

let app: TestApp
// explicit timeouts: Bun's default is 5 s for every test and hook (bunfig.toml cannot change it), and an app
// on PostgreSQL takes seconds to build and to drop on a loaded machine
beforeAll(async () => {
  app = await createTestApp({ plugins: [changes, metrics] })
}, 30_000)
afterAll(() => app.close(), 30_000)

test("a posted change is a marker on the chart; the POST is in /metrics by route template", async () => {
  const svc = app.host.services.get("metrics")
  if (!svc) throw new Error("no metrics service")
  for (let i = 0; i < 6; i++) {
    svc.receiver.ingest(`checkout.errors:${i}|c`)
    app.clock.advance(10_000)
    svc.tick(app.clock.now())
  }
  const r = await app.request("/api/events", {
    method: "POST",
    json: {
      criticality: 3,
      unix_timestamp: Math.floor(app.clock.now() / 1000) - 30,
      category: "deploy",
      description: "checkout v7 <rollout>",
    },
  })
  expect(r.status).toBe(201)
  const page = await (
    await app.request(`/ui/metrics?w=15m&s=${encodeURIComponent("checkout.errors|c")}`)
  ).text()
  expect(page.match(/class="change-marker"/g)?.length).toBe(1)
  expect(page).toContain("deploy: checkout v7 &lt;rollout&gt;</title>")
  const text = await (await app.request("/metrics")).text()
  expect(text).toMatch(
    /logbook_http_request_duration_seconds_count\{method="POST",route="\/api\/events",status="201"\} 1/,
  )
}, 30_000)
