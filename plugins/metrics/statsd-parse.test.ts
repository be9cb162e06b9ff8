import { describe, expect, test } from "bun:test"
import { type ParseCounts, parseDatagram } from "./statsd-parse"

type Row = [string, string, number, number, boolean, string, string | undefined]

function parse(text: string): { rows: Row[]; counts: ParseCounts } {
  const rows: Row[] = []
  const counts = { lines: 0, malformed: 0, skipped: 0 }
  parseDatagram(text, (...r) => rows.push(r), counts)
  return { rows, counts }
}

describe("statsd / DogStatsD line parser", () => {
  test("every metric type", () => {
    const { rows, counts } = parse(
      [
        "shop.checkout.count:3|c",
        "queue.depth:42|g",
        "queue.depth:+5|g",
        "queue.depth:-2|g",
        "db.query:12.5|ms",
        "payload.size:512|h",
        "latency:0.25|d",
        "users.unique:alice|s",
      ].join("\n"),
    )
    expect(counts).toEqual({ lines: 8, malformed: 0, skipped: 0 })
    expect(rows).toEqual([
      ["shop.checkout.count", "c", 3, 1, false, "", undefined],
      ["queue.depth", "g", 42, 1, false, "", undefined],
      ["queue.depth", "g", 5, 1, true, "", undefined],
      ["queue.depth", "g", -2, 1, true, "", undefined],
      ["db.query", "ms", 12.5, 1, false, "", undefined],
      ["payload.size", "ms", 512, 1, false, "", undefined],
      ["latency", "ms", 0.25, 1, false, "", undefined],
      ["users.unique", "s", 0, 1, false, "", "alice"],
    ])
  })

  test("sample rates, tags, container and timestamp fields, Telegraf tags, CRLF", () => {
    const { rows, counts } = parse(
      "hits:1|c|@0.1|#env:prod,region:eu,canary\r\n" +
        "page.load:230|ms|#route:home|c:abc123|T1656581400\n" +
        "requests,host=a,dc=x:2|c\n" +
        "temp:-3|g|@1",
    )
    expect(counts).toEqual({ lines: 4, malformed: 0, skipped: 0 })
    expect(rows).toEqual([
      ["hits", "c", 1, 0.1, false, "env:prod,region:eu,canary", undefined],
      ["page.load", "ms", 230, 1, false, "route:home", undefined],
      ["requests", "c", 2, 1, false, "host:a,dc:x", undefined],
      ["temp", "g", -3, 1, true, "", undefined],
    ])
  })

  test("service checks and events are skipped, not malformed; empty lines ignored", () => {
    const { rows, counts } = parse(
      "_sc|redis|0|d:1656581400|h:web1|#env:prod|m:ok\n\n_e{5,4}:title|text|p:low|t:info\nok:1|c\n",
    )
    expect(rows.length).toBe(1)
    expect(counts).toEqual({ lines: 3, malformed: 0, skipped: 2 })
  })

  test("malformed lines are counted and skipped, the good ones around them kept", () => {
    const bad = [
      "no-colon|c",
      ":1|c",
      "name:1",
      "name:1|x",
      "name:1|msx",
      "name:abc|c",
      "name:|c",
      "name:1|c|@0",
      "name:1|c|@1.5",
      "name:1|c|@abc",
      "name:1|c|zzz",
      "name:0x10|g",
      "name:Infinity|g",
      "name:-5|ms",
      "name:|s",
      ",k=v:1|c",
      "name:1::2|c",
      "name:1:|c",
      "name:1:x|ms",
      "name:3:-1|ms",
    ]
    const { rows, counts } = parse(["good.a:1|c", ...bad, "good.b:2|g"].join("\n"))
    expect(rows.map((r) => r[0])).toEqual(["good.a", "good.b"])
    expect(counts).toEqual({ lines: bad.length + 2, malformed: bad.length, skipped: 0 })
  })

  test("DogStatsD 1.1 packed values: one measurement each, sharing type, rate and tags; not for sets", () => {
    const { rows, counts } = parse(
      "page.views:1:2:3|c|#env:prod\nlatency:1.5:20:30|h|@0.5|#tag1,tag2\ndepth:10:+2:-1|g\nusers:a:b|s",
    )
    expect(counts).toEqual({ lines: 4, malformed: 0, skipped: 0 })
    expect(rows).toEqual([
      ["page.views", "c", 1, 1, false, "env:prod", undefined],
      ["page.views", "c", 2, 1, false, "env:prod", undefined],
      ["page.views", "c", 3, 1, false, "env:prod", undefined],
      ["latency", "ms", 1.5, 0.5, false, "tag1,tag2", undefined],
      ["latency", "ms", 20, 0.5, false, "tag1,tag2", undefined],
      ["latency", "ms", 30, 0.5, false, "tag1,tag2", undefined],
      ["depth", "g", 10, 1, false, "", undefined],
      ["depth", "g", 2, 1, true, "", undefined],
      ["depth", "g", -1, 1, true, "", undefined],
      // a set member may hold a colon: the whole value is one member
      ["users", "s", 0, 1, false, "", "a:b"],
    ])
  })

  test("numbers: integers, decimals, exponents, signs", () => {
    const { rows } = parse("a:10|c\na:1.5e3|ms\na:-0.5|c\na:+7|c\na:1234567890123456|c")
    expect(rows.map((r) => r[2])).toEqual([10, 1500, -0.5, 7, 1234567890123456])
  })
})
