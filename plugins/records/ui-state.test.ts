import { describe, expect, test } from "bun:test"
import { parseInstant, parseState, stateQuery } from "./ui-state"

const NOW = Date.UTC(2026, 10, 22, 10, 0, 0)

describe("records UI state in the query string", () => {
  test("presets are relative to now; defaults to the last hour and any level", () => {
    const s = parseState(new URLSearchParams(""), NOW)
    expect(s).toMatchObject({
      q: "",
      level: "",
      levelMin: undefined,
      window: "1h",
      from: NOW - 3_600_000,
      to: NOW,
    })
    const d = parseState(new URLSearchParams("window=7d&level=WARNING&q=x&logger=app.db"), NOW)
    expect(d).toMatchObject({ window: "7d", level: "warning", levelMin: 30, q: "x", logger: "app.db" })
    expect(d.to - d.from).toBe(7 * 86_400_000)
  })

  test("a custom range round-trips through stateQuery as ISO instants", () => {
    const s = parseState(
      new URLSearchParams("window=custom&from=2026-11-22T09:00:00Z&to=2026-11-22T09:30:00%2B00:00&q=a b"),
      NOW,
    )
    expect(s).toMatchObject({ window: "custom", from: NOW - 3_600_000, to: NOW - 1_800_000, problems: [] })
    const again = parseState(new URLSearchParams(stateQuery(s)), NOW + 99_999)
    expect(again).toMatchObject({ window: "custom", from: s.from, to: s.to, q: "a b" })
    const zoom = new URLSearchParams(
      stateQuery(s, { window: "custom", from: NOW - 3_000_000, to: NOW - 2_940_000 }),
    )
    expect(zoom.get("from")).toBe("2026-11-22T09:10:00.000Z")
    expect(zoom.get("to")).toBe("2026-11-22T09:11:00.000Z")
    expect(zoom.get("q")).toBe("a b")
  })

  test("bad ranges and levels are reported, not guessed", () => {
    const backwards = parseState(
      new URLSearchParams("window=custom&from=2026-11-22T09:00:00Z&to=2026-11-22T08:00:00Z"),
      NOW,
    )
    expect(backwards.problems).toEqual(["The custom range must start before it ends."])
    expect(backwards).toMatchObject({ window: "1h", from: NOW - 3_600_000 })
    expect(parseState(new URLSearchParams("window=custom&from=yesterday"), NOW).problems[0]).toContain(
      "needs a start",
    )
    // a bad end is reported, not replaced by now; an empty end is now
    const badEnd = parseState(new URLSearchParams("window=custom&from=2026-11-22T09:00:00Z&to=garbage"), NOW)
    expect(badEnd.problems).toEqual([
      'The custom range\'s end "garbage" is not a time: ISO 8601 with a zone (…Z) or epoch ms, or empty for now.',
    ])
    expect(badEnd).toMatchObject({ window: "1h", from: NOW - 3_600_000, to: NOW })
    expect(parseState(new URLSearchParams("window=custom&from=2026-11-22T09:00:00Z&to="), NOW)).toMatchObject(
      {
        window: "custom",
        from: NOW - 3_600_000,
        to: NOW,
        problems: [],
      },
    )
    expect(parseState(new URLSearchParams("level=loud"), NOW).problems[0]).toContain('Unknown level "loud"')
    // a zone-less time would be read in the server's zone: refused
    expect(parseInstant("2026-11-22T09:00:00")).toBeUndefined()
    expect(parseInstant("1700000000000")).toBe(1_700_000_000_000)
  })
})
