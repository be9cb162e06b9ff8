import { describe, expect, test } from "bun:test"
import { createPromSide, promLabel, promName } from "./prometheus"
import { createSeriesStore } from "./series"
import { readExposition } from "./testing"

const side = (maxSeries: number) =>
  createPromSide({
    maxSeries,
    queueDepth: () => 7,
    overrides: () => 2,
    received: createSeriesStore({ maxSeries, flushSeconds: 10, retentionMinutes: 1 }),
    counters: () => ({ received_lines: 5 }),
  })

describe("Prometheus side", () => {
  test("statsd_exporter-style names and label names", () => {
    expect(promName("shop.checkout.count")).toBe("shop_checkout_count")
    expect(promName("9lives-x")).toBe("_9lives_x")
    expect(promLabel("k8s.pod")).toBe("k8s_pod")
    expect(promLabel("__reserved")).toBe("_reserved")
  })

  test("series per metric are capped: new label sets fold into _overflow and are counted", async () => {
    const p = side(2)
    for (const q of ["SELECT FROM a", "SELECT FROM b", "SELECT FROM c", "SELECT FROM d"]) p.statement(q)(1)
    const samples = readExposition((await p.expose(null)).body)
    const counts = samples.filter((s) => s.name === "logbook_db_statement_duration_seconds_count")
    expect(counts.map((s) => [s.labels.statement, s.value])).toEqual([
      ["SELECT FROM a", 1],
      ["SELECT FROM b", 1],
      ["_overflow", 2],
    ])
    expect(
      samples.find(
        (s) =>
          s.name === "logbook_metrics_series_overflow_total" &&
          s.labels.metric === "logbook_db_statement_duration_seconds",
      )?.value,
    ).toBe(2)
  })

  test("gauges read at scrape time; each registry is its own (no global default registry)", async () => {
    const a = side(10)
    const b = side(10)
    a.request("GET", "/x", 200)(5)
    const sa = readExposition((await a.expose(null)).body)
    const sb = readExposition((await b.expose(null)).body)
    expect(sa.find((s) => s.name === "logbook_writer_queue_depth")?.value).toBe(7)
    expect(sa.find((s) => s.name === "logbook_log_level_overrides")?.value).toBe(2)
    expect(sa.some((s) => s.name === "logbook_http_request_duration_seconds_count")).toBe(true)
    expect(sb.some((s) => s.name === "logbook_http_request_duration_seconds_count")).toBe(false)
  })
})
