/** The literal reader (chronologer-api.md §3.3), Python %-formatting, and Chronologer's field split. */
import { describe, expect, test } from "bun:test"
import { parsePythonLiteral } from "./literal"
import { logrecJson, normalise, RecordError, restoreTypes, secondsToMicros } from "./normalise"
import { percentFormat } from "./pyformat"

describe("Python literals", () => {
  const table: Array<[string, unknown]> = [
    ["20", 20],
    ["1795342186.9508002", 1795342186.9508002],
    ["('world', 42)", ["world", 42]],
    ["['a', 'b']", ["a", "b"]],
    ["1e3", 1000],
    ["'quoted'", "quoted"],
    ["None", null],
    ["True", true],
    ["False", false],
    ["{'k': 'v'}", { k: "v" }],
    ["()", []],
    ["0x10", 16],
    ["1_000", 1000],
    ["-5", -5],
    ["0o17", 15],
    ["0b101", 5],
    ["{1, 2}", [1, 2]],
    ["set()", []],
    ["('op',)", ["op"]],
    ["('w\u00f6rld', 42)", ["w\u00f6rld", 42]],
    [`"it's"`, "it's"],
    ["'a\\'b\\n\\t\\x41\\u00e9\\U0001F600\\101'", "a'b\n\tA\u00e9\u{1F600}A"],
    ["'a' 'b'", "ab"],
    ["r'\\d+'", "\\d+"],
    ["{'a': [1, (2, 3)], 'b': {'c': None}}", { a: [1, [2, 3]], b: { c: null } }],
    ["123456789012345678901", "123456789012345678901"],
    ["-9007199254740993", "-9007199254740993"],
    ["9007199254740991", 9007199254740991],
    ["'''a\nb'''", "a\nb"],
    ['"""say "hi"\n"""', 'say "hi"\n'],
  ]
  for (const [text, value] of table)
    test(`${text} → ${JSON.stringify(value)}`, () => expect(parsePythonLiteral(text)).toEqual(value as never))

  const strings = [
    "007",
    "Hello %s",
    "(<class 'KeyError'>, KeyError('missing'), <traceback object at 0x7f0bc2ceb880>)",
    "inf",
    "nan",
    "-inf",
    "datetime.datetime(2026, 11, 22, 10, 0)",
    "<object object at 0x7f>",
    "b'bytes'",
    "1j",
    "1__0",
    "'unterminated",
    "[1, 2",
    "__import__('os').system('id')",
    "1e999",
    "'a\nb'", // a line break ends a single-quoted string: not a literal
    "",
  ]
  for (const text of strings)
    test(`${JSON.stringify(text)} stays a string`, () => expect(parsePythonLiteral(text)).toBeUndefined())
})

describe("%-formatting like LogRecord.getMessage", () => {
  test("positional, mapping, and conversions", () => {
    expect(percentFormat("Hello %s #%d", ["wörld", 42])).toBe("Hello wörld #42")
    expect(percentFormat("%(user)s did %(n)03d things", { user: "ann", n: 7 })).toBe("ann did 007 things")
    expect(percentFormat("%r and %a", ["it's", "é"])).toBe(`"it's" and '\\xe9'`)
    expect(percentFormat("%5.2f|%-4d|%x|%#o|%e|%g|%%", [1.23456, 42, 255, 8, 12345.678, 0.0001234])).toBe(
      " 1.23|42  |ff|0o10|1.234568e+04|0.0001234|%",
    )
    expect(percentFormat("%s", [{ k: [1, null, true] }])).toBe("{'k': [1, None, True]}")
    expect(percentFormat("%s", { k: "v" })).toBe("{'k': 'v'}")
  })
  test("Python's errors are errors", () => {
    for (const [msg, args] of [
      ["%s %s", ["one"]],
      ["%d", ["x"]],
      ["no placeholders", ["extra"]],
      ["%(missing)s", { k: 1 }],
      ["%(k)s", ["positional"]],
      ["%y", [1]],
      ["50%", [1]],
    ] as const)
      expect(() => percentFormat(msg, args as never)).toThrow()
  })
})

const limits = { maxMessageBytes: 1000, maxRecordBytes: 4000 }
const form = (fields: Record<string, string>) => normalise(restoreTypes(fields), { nowMs: 5000, limits })
const base = { name: "app", levelno: "20", created: "1795343958.6686625", exc_info: "None", exc_text: "None" }

describe("field split", () => {
  test("data, fixed meta list, dropped levelname/asctime, interpolated message", () => {
    const r = form({
      ...base,
      msg: "Hi %s",
      args: "('x',)",
      levelname: "INFO",
      asctime: "2026-11-22 10:35:17,464",
      lineno: "6",
      taskName: "None",
      origname: "orig",
      stack_info: "None",
      threadName: "MainThread",
      user_id: "7",
    })
    expect(r).toMatchObject({ name: "app", level: 20, message: "Hi x", ts: 1795343958668663 })
    expect(r.logrec.data).toEqual({ user_id: 7 })
    expect(r.logrec.meta).toEqual({
      msg: "Hi %s",
      args: ["x"],
      exc_info: null,
      exc_text: null,
      lineno: 6,
      taskName: null,
      origname: "orig",
      stack_info: null,
      threadName: "MainThread",
    })
    expect(r.logrec.error).toBeUndefined()
  })

  test("text fields are never restored; message wins over msg", () => {
    const r = form({ ...base, msg: "123", args: "()", funcName: "None", pathname: "42", message: "[1, 2]" })
    expect(r.message).toBe("[1, 2]")
    expect(r.logrec.meta?.msg).toBe("123")
    expect(r.logrec.meta?.pathname).toBe("42")
    expect(r.logrec.meta?.funcName).toBeNull()
    expect(form({ ...base, msg: "None", args: "()" }).message).toBe("None")
    expect(form({ ...base, msg: "100%", args: "()" }).message).toBe("100%")
    expect(form({ ...base, msg: "bad %d", args: "('x',)" }).message).toBe("bad %d")
  })

  test("exception info is kept even without exc_text", () => {
    const info = "(<class 'KeyError'>, KeyError('missing'), <traceback object at 0x7f>)"
    expect(form({ ...base, msg: "m", exc_info: info }).logrec.error).toEqual({ exc_info: info })
    expect(form({ ...base, msg: "m", exc_info: info, exc_text: "Traceback…" }).logrec.error).toEqual({
      exc_info: info,
      exc_text: "Traceback…",
    })
  })

  test("no error section for an empty exc_text; a traceback formatted into the message becomes one", () => {
    expect(form({ ...base, msg: "m", exc_text: "" }).logrec.error).toBeUndefined()
    const tb = "Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>\nKeyError: 'k'"
    const stack = '\nStack (most recent call last):\n  File "x.py", line 1, in <module>'
    // what a QueueHandler sends: the formatted text, exc_info and exc_text None
    expect(form({ ...base, msg: `lookup failed\n${tb}${stack}`, args: "None" }).logrec.error).toEqual({
      exc_text: tb,
    })
    expect(form({ ...base, msg: `\n${tb}`, args: "None" }).logrec.error).toEqual({ exc_text: tb })
    // only where a line starts
    expect(form({ ...base, msg: `see "${tb}"`, args: "None" }).logrec.error).toBeUndefined()
  })

  test("levels: integers 0–255, numeric strings, names; anything else is a 400", () => {
    expect(form({ ...base, msg: "m", levelno: "warning" }).level).toBe(30)
    expect(normalise({ name: "a", msg: "m", created: 1, levelno: "35" }, { nowMs: 0, limits }).level).toBe(35)
    for (const levelno of ["LOUD", "256", "-1", "2.5", "None"])
      expect(() => form({ ...base, msg: "m", levelno })).toThrow(RecordError)
  })

  test("sizes: 413, never truncated", () => {
    const e = (() => {
      try {
        form({ ...base, msg: "é".repeat(501) })
      } catch (err) {
        return err as RecordError
      }
    })()
    expect(e?.status).toBe(413)
    expect(() => form({ ...base, msg: "m", blob: "x".repeat(4000) })).toThrow(
      "LOGBOOK_RECORDS_MAX_RECORD_BYTES",
    )
  })

  test("NUL characters become U+FFFD (PostgreSQL cannot store them; the record is kept)", () => {
    const r = form({ ...base, name: "app\u0000x", msg: "a\u0000b", extra: "x\u0000", other: "\\u0000" })
    expect(r.message).toBe("a\ufffdb")
    expect(r.name).toBe("app\ufffdx")
    // the details as stored: the NUL replaced, a backslash followed by "u0000" left as it is
    expect(JSON.parse(logrecJson(r.logrec)).data).toEqual({ extra: "x\ufffd", other: "\\u0000" })
    const raw = normalise({ message: "m\u0000", k: { "n\u0000": 1 } }, { raw: true, nowMs: 0, limits })
    expect(raw.message).toBe("m\ufffd")
    expect(JSON.parse(logrecJson(raw.logrec)).k).toEqual({ "n\ufffd": 1 })
  })

  test("raw mode: the dict is logrec, level INFO, receipt time without created", () => {
    const r = normalise({ message: "m", levelno: 50, other: 1 }, { raw: true, nowMs: 5000, limits })
    expect(r).toEqual({
      ts: 5_000_000,
      level: 20,
      name: "",
      message: "m",
      logrec: { message: "m", levelno: 50, other: 1 },
    })
  })

  test("µs from float seconds as Python's datetime rounds them", () => {
    expect(secondsToMicros(1795343959.5668774)).toBe(1795343959566877)
    expect(secondsToMicros(1795343959.594725)).toBe(1795343959594725)
    expect(secondsToMicros(1)).toBe(1_000_000)
  })
})
