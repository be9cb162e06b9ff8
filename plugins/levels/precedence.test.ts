import { describe, expect, test } from "bun:test"
import { LevelError, parseLevel } from "./levels"
import {
  effectiveAt,
  type LevelState,
  nextBoundary,
  type OverrideRow,
  type ProfileRow,
  type TriggerRow,
  triggerWindowAt,
  zonedInstant,
} from "./precedence"

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0)
const MIN = 60_000

const ov = (p: Partial<OverrideRow> & { id: number }): OverrideRow => ({
  target: "logbook",
  logger: "app.db",
  level: "debug",
  starts_at: T0,
  expires_at: T0 + 30 * MIN,
  scope: "all",
  actor: "alice",
  reason: "r",
  revoked_at: null,
  ...p,
})
const state = (
  overrides: OverrideRow[],
  triggers: TriggerRow[] = [],
  profiles: LevelState["profiles"] = [],
) => ({
  overrides,
  triggers,
  profiles,
})
const levelAt = (s: LevelState, logger: string, t: number, instance: string | null = "i1") =>
  effectiveAt(s, "logbook", instance, t).get(logger)?.level

describe("level names", () => {
  test("Python, Spring and pino spellings in any case", () => {
    expect(parseLevel("WARN")).toBe("warning")
    expect(parseLevel("warning")).toBe("warning")
    expect(parseLevel("Fatal")).toBe("critical")
    expect(parseLevel("CRITICAL")).toBe("critical")
    expect(parseLevel("silent")).toBe("off")
    expect(parseLevel("trace")).toBe("trace")
    expect(parseLevel("NOTSET")).toBe("inherit")
    expect(parseLevel(null)).toBe("inherit")
  })
  test("anything else is refused, listing the allowed values", () => {
    expect(() => parseLevel("verbose")).toThrow(LevelError)
    expect(() => parseLevel(10)).toThrow(/TRACE, DEBUG, INFO, WARN, WARNING/)
  })
})

describe("windows", () => {
  test("half-open [starts_at, expires_at); null expiry is permanent", () => {
    const s = state([ov({ id: 1 }), ov({ id: 2, logger: "x", expires_at: null })])
    expect(levelAt(s, "app.db", T0 - 1)).toBeUndefined()
    expect(levelAt(s, "app.db", T0)).toBe("debug")
    expect(levelAt(s, "app.db", T0 + 30 * MIN - 1)).toBe("debug")
    expect(levelAt(s, "app.db", T0 + 30 * MIN)).toBeUndefined()
    expect(levelAt(s, "x", T0 + 1000 * 24 * 60 * MIN)).toBe("debug")
  })
  test("revoked overrides do not count", () => {
    expect(levelAt(state([ov({ id: 1, revoked_at: T0 + 1 })]), "app.db", T0 + 2)).toBeUndefined()
  })
})

describe("precedence", () => {
  test("instance scope over all, even when the all-scoped one started later", () => {
    const s = state([
      ov({ id: 1, scope: "i1", level: "error" }),
      ov({ id: 2, scope: "all", level: "trace", starts_at: T0 + MIN }),
    ])
    expect(levelAt(s, "app.db", T0 + 2 * MIN, "i1")).toBe("error")
    expect(levelAt(s, "app.db", T0 + 2 * MIN, "i2")).toBe("trace")
    expect(levelAt(s, "app.db", T0 + 2 * MIN, null)).toBe("trace")
  })
  test("then latest start, then highest id", () => {
    const s = state([
      ov({ id: 5, level: "error", starts_at: T0 }),
      ov({ id: 3, level: "trace", starts_at: T0 + MIN }),
    ])
    expect(levelAt(s, "app.db", T0 + 30)).toBe("error")
    expect(levelAt(s, "app.db", T0 + 2 * MIN)).toBe("trace")
    // the later one ends first: the earlier one is back, without anything stored about "previous"
    const s2 = state([
      ov({ id: 5, level: "error", starts_at: T0, expires_at: T0 + 60 * MIN }),
      ov({ id: 3, level: "trace", starts_at: T0 + MIN, expires_at: T0 + 10 * MIN }),
    ])
    expect(levelAt(s2, "app.db", T0 + 10 * MIN)).toBe("error")
    const tie = state([ov({ id: 7, level: "warning" }), ov({ id: 8, level: "critical" })])
    expect(levelAt(tie, "app.db", T0)).toBe("critical")
  })
  test("the most specific logger wins through the tree: each name keeps its own winner", () => {
    const m = effectiveAt(
      state([
        ov({ id: 1, logger: "app", level: "error", starts_at: T0 + MIN }),
        ov({ id: 2, logger: "app.db" }),
      ]),
      "logbook",
      "i1",
      T0 + 2 * MIN,
    )
    expect(m.get("app")?.level).toBe("error")
    expect(m.get("app.db")?.level).toBe("debug")
  })
  test("targets are separate", () => {
    const s = state([ov({ id: 1, target: "shop" })])
    expect(levelAt(s, "app.db", T0)).toBeUndefined()
    expect(effectiveAt(s, "shop", null, T0).get("app.db")?.level).toBe("debug")
  })
})

const trig = (p: Partial<TriggerRow> & { id: number }): TriggerRow => ({
  profile: "nightly",
  target: "logbook",
  scope: "all",
  starts_at: null,
  ends_at: null,
  recurrence: null,
  mode: "overlay",
  active: true,
  ...p,
})

describe("profiles and triggers", () => {
  const profiles: ProfileRow[] = [
    { name: "nightly", levels: { import: "debug", "import.http": "trace" } },
    { name: "quiet", levels: { import: "error" } },
  ]
  test("a profile overlays: other overrides stay", () => {
    const s = state(
      [ov({ id: 1, logger: "web", level: "warning", starts_at: T0 - MIN })],
      [trig({ id: 1, starts_at: T0, ends_at: T0 + 60 * MIN })],
      profiles,
    )
    const m = effectiveAt(s, "logbook", "i1", T0 + MIN)
    expect(m.get("import")?.level).toBe("debug")
    expect(m.get("import")?.source).toBe("profile")
    expect(m.get("web")?.level).toBe("warning")
    expect(effectiveAt(s, "logbook", "i1", T0 + 60 * MIN).get("import")).toBeUndefined()
  })
  test("replace mode drops what ranks below it, keeps what ranks above", () => {
    const s = state(
      [
        ov({ id: 1, logger: "web", level: "warning", starts_at: T0 - MIN }),
        ov({ id: 2, logger: "mail", level: "trace", starts_at: T0 + 5 * MIN }),
      ],
      [trig({ id: 1, profile: "quiet", starts_at: T0, ends_at: T0 + 60 * MIN, mode: "replace" })],
      profiles,
    )
    const m = effectiveAt(s, "logbook", "i1", T0 + 10 * MIN)
    expect(m.get("web")).toBeUndefined()
    expect(m.get("import")?.level).toBe("error")
    expect(m.get("mail")?.level).toBe("trace")
  })
  test("daily 22:00–06:00 in a time zone, across midnight and DST", () => {
    const tr = trig({
      id: 1,
      recurrence: { every: "daily", from: "22:00", to: "06:00", tz: "Europe/Zurich" },
    })
    // 22 Nov 2026: Zurich is UTC+1
    const start = zonedInstant(2026, 11, 22, 22, 0, "Europe/Zurich")
    expect(start).toBe(Date.UTC(2026, 10, 22, 21, 0))
    expect(triggerWindowAt(tr, start - 1)).toBeNull()
    expect(triggerWindowAt(tr, start)).toEqual([start, Date.UTC(2026, 10, 23, 5, 0)])
    expect(triggerWindowAt(tr, Date.UTC(2026, 10, 23, 4, 59))).toEqual([start, Date.UTC(2026, 10, 23, 5, 0)])
    expect(triggerWindowAt(tr, Date.UTC(2026, 10, 23, 5, 0))).toBeNull()
    // night of 28→29 March 2026 (DST starts 29 March 02:00 → 03:00): 22:00 CET → 06:00 CEST = 7 h
    const w = triggerWindowAt(tr, Date.UTC(2026, 2, 29, 0, 0))
    expect(w).toEqual([Date.UTC(2026, 2, 28, 21, 0), Date.UTC(2026, 2, 29, 4, 0)])
    expect(nextBoundary(state([], [tr], profiles), T0)).toBe(start)
    expect(nextBoundary(state([], [tr], profiles), start)).toBe(Date.UTC(2026, 10, 23, 5, 0))
  })
  test("weekday filter and the trigger's period bound the recurrence", () => {
    const tr = trig({
      id: 1,
      starts_at: Date.UTC(2026, 10, 23),
      ends_at: Date.UTC(2026, 10, 25),
      recurrence: { every: "daily", from: "09:00", to: "10:00", tz: "UTC", days: [1] },
    })
    expect(triggerWindowAt(tr, Date.UTC(2026, 10, 23, 9, 30))).not.toBeNull() // Monday
    expect(triggerWindowAt(tr, Date.UTC(2026, 10, 24, 9, 30))).toBeNull() // Tuesday
    expect(nextBoundary(state([], [tr]), Date.UTC(2026, 10, 23, 10, 0))).toBeNull()
    expect(triggerWindowAt({ ...tr, active: false }, Date.UTC(2026, 10, 23, 9, 30))).toBeNull()
  })
})

describe("nextBoundary", () => {
  test("the next start or end after t, ignoring revoked rows", () => {
    const s = state([
      ov({ id: 1, starts_at: T0, expires_at: T0 + 30 * MIN }),
      ov({ id: 2, starts_at: T0 + 10 * MIN, expires_at: null }),
      ov({ id: 3, starts_at: T0 + 5 * MIN, expires_at: T0 + 6 * MIN, revoked_at: T0 }),
    ])
    expect(nextBoundary(s, T0 - 1)).toBe(T0)
    expect(nextBoundary(s, T0)).toBe(T0 + 10 * MIN)
    expect(nextBoundary(s, T0 + 10 * MIN)).toBe(T0 + 30 * MIN)
    expect(nextBoundary(s, T0 + 30 * MIN)).toBeNull()
  })
})
