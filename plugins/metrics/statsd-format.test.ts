import { describe, expect, test } from "bun:test"
import { formatTags, roundHalfEven, statsdKey, statsdLines, statsJsonKey, timerValue } from "./statsd-format"

describe("c2c key construction", () => {
  test("parts sanitised, prefix not, dot appended", () => {
    expect(statsdKey("ops", ["route", "GET", "users_id", 200])).toBe("ops.route.GET.users_id.200")
    expect(statsdKey("my-app.", ["a b", "c/d"])).toBe("my-app.a_b.c_d")
    expect(statsdKey("", ["x"])).toBe("x")
  })
  test("whole key truncated to 450 characters", () => {
    const k = statsdKey("ops", ["sql", "x".repeat(600)])
    expect(k.length).toBe(450)
    expect(k.startsWith("ops.sql.xxx")).toBe(true)
  })
  test("timers: half to even, then ≥ 1", () => {
    expect([0.5, 1.5, 2.5, 2.4, 2.6, -0.5].map(roundHalfEven)).toEqual([0, 2, 2, 2, 3, -0])
    expect([0, 0.4, 0.5, 1.5, 2.5, 12.2].map(timerValue)).toEqual([1, 1, 1, 2, 2, 12])
  })
  test("tags sorted by key, sanitised, per-metric tags win over globals", () => {
    expect(formatTags({ status: 200, method: "GET", route: "users_id", group: 2 })).toBe(
      "|#group:2,method:GET,route:users_id,status:200",
    )
    expect(formatTags({ "a.b": "x,y#z|w", env: "dev" }, { env: "prod", zone: "eu" })).toBe(
      "|#a_b:x_y_z_w,env:dev,zone:eu",
    )
    expect(formatTags(undefined)).toBe("")
  })
  test("lines: counter, gauge (negative = 0 then -N), timer", () => {
    expect(statsdLines("ops.c", "c", 1, "")).toBe("ops.c:1|c")
    expect(statsdLines("ops.g", "g", 42, "")).toBe("ops.g:42|g")
    expect(statsdLines("ops.g", "g", -3, "|#a:b")).toBe("ops.g:0|g|#a:b\nops.g:-3|g|#a:b")
    expect(statsdLines("ops.route", "ms", 12.5, "")).toBe("ops.route:12|ms")
  })
  test("stats.json keys", () => {
    expect(statsJsonKey(["route", "GET", "users_id", 200])).toBe("route/GET/users_id/200")
    expect(statsJsonKey(["route"], { status: 200, method: "GET", route: "users_id", group: 2 })).toBe(
      "route/group=2/method=GET/route=users_id/status=200",
    )
    expect(statsJsonKey(["sql", "SELECT FROM a/b WHERE x = ?"])).toBe("sql/SELECT FROM a_b WHERE x = ?")
  })
})
