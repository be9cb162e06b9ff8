import { describe, expect, test } from "bun:test"
import { createLogging, jsonLine, type LevelName, prettyLine, requestScope } from "./log"

const setup = (rootLevel: LevelName = "info", format: "json" | "pretty" = "json") => {
  const out: string[] = []
  const logging = createLogging({
    rootLevel,
    format,
    write: (t) => out.push(t),
    now: () => Date.UTC(2026, 0, 2, 3, 4, 5, 6),
  })
  return { logging, out }
}

describe("own logging", () => {
  test("levels are inherited down the dotted hierarchy", () => {
    const { logging } = setup("warning")
    logging.levels.setOverrides(new Map([["logbook.http", "debug"]]))
    expect(logging.levels.effective("logbook")).toBe("warning")
    expect(logging.levels.effective("logbook.http")).toBe("debug")
    expect(logging.levels.effective("logbook.http.access")).toBe("debug")
    expect(logging.levels.effective("logbook.httpx")).toBe("warning")
    expect(logging.levels.configured("logbook.http.access")).toBeNull()
    expect(logging.levels.configured("logbook.http")).toBe("debug")
  })

  test("levels change at run time, also for loggers created before", () => {
    const { logging, out } = setup("info")
    const db = logging.logger("logbook.db")
    const http = logging.logger("logbook.http")
    db.debug("hidden")
    expect(out).toHaveLength(0)
    let changes = 0
    logging.levels.onChange(() => changes++)
    logging.levels.setOverrides(new Map([["logbook.db", "debug"]]))
    db.debug("shown")
    http.debug("still hidden")
    expect(out.map((l) => JSON.parse(l).msg)).toEqual(["shown"])
    // replacing the overrides drops the old ones atomically
    logging.levels.setOverrides(new Map([["root", "error"]]))
    db.debug("hidden again")
    db.warning("hidden: root is error")
    db.error("shown 2")
    expect(out.map((l) => JSON.parse(l).msg)).toEqual(["shown", "shown 2"])
    expect(changes).toBe(2)
    expect(logging.levels.effective("anything")).toBe("error")
    logging.levels.setOverrides(new Map([["logbook", "off"]]))
    db.critical("off means nothing")
    expect(out).toHaveLength(2)
    expect(db.isEnabled("critical")).toBe(false)
  })

  test("known() lists every logger created, sorted", () => {
    const { logging } = setup()
    logging.logger("logbook.plugin.b")
    logging.logger("logbook.plugin.a")
    expect(logging.levels.known()).toEqual(["logbook.plugin.a", "logbook.plugin.b"])
  })

  test("JSON lines: time, level, logger, msg, request id, fields; errors serialised", () => {
    const { logging, out } = setup()
    const log = logging.logger("logbook.http")
    requestScope.run({ requestId: "req-42" }, () =>
      log.info("hello", { n: 1, error: new Error("bad"), big: 2n }),
    )
    const j = JSON.parse(out[0])
    expect(j).toMatchObject({
      time: "2026-01-02T03:04:05.006Z",
      level: "info",
      logger: "logbook.http",
      msg: "hello",
      request_id: "req-42",
      n: 1,
      big: "2",
    })
    expect(j.error).toMatchObject({ name: "Error", message: "bad" })
    // fields never overwrite the fixed keys
    log.info("x", { msg: "spoof", level: "critical" })
    expect(JSON.parse(out[1])).toMatchObject({ msg: "x", level: "info" })
    // outside a request: no request id
    log.info("y")
    expect(JSON.parse(out[2]).request_id).toBeUndefined()
  })

  test("pretty lines for people", () => {
    const { logging, out } = setup("info", "pretty")
    requestScope.run({ requestId: "r1" }, () =>
      logging.logger("logbook.db").warning("slow", { ms: 12, sql: "SELECT 1" }),
    )
    expect(out[0]).toBe("03:04:05.006 WARNING  logbook.db [r1] slow ms=12 sql=SELECT 1")
    expect(prettyLine({ time: 0, level: "info", logger: "a", msg: "m" })).toBe("00:00:00.000 INFO     a m")
    expect(jsonLine({ time: 0, level: "info", logger: "a", msg: "m" })).toBe(
      '{"time":"1970-01-01T00:00:00.000Z","level":"info","logger":"a","msg":"m"}',
    )
  })

  test("sinks receive every emitted line and can be removed", () => {
    const { logging } = setup()
    const seen: string[] = []
    const remove = logging.addSink((l) => seen.push(`${l.logger}:${l.msg}`))
    logging.logger("a").info("one")
    remove()
    logging.logger("a").info("two")
    expect(seen).toEqual(["a:one"])
  })
})
