/**
 * Python's `msg % args` (printf-style formatting) for building a record's message the way
 * `LogRecord.getMessage()` does, plus Python's `str()`/`repr()` of restored literal values.
 * Any case where Python would raise (wrong argument count or type, missing key, bad spec) throws
 * FormatError, and the caller keeps `msg` as it is.
 */
import type { PyValue } from "./literal"

export class FormatError extends Error {}

const reprString = (s: string, asciiOnly = false): string => {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'"
  let out = quote
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number
    if (ch === "\\") out += "\\\\"
    else if (ch === quote) out += `\\${quote}`
    else if (ch === "\n") out += "\\n"
    else if (ch === "\r") out += "\\r"
    else if (ch === "\t") out += "\\t"
    else if (cp < 0x20 || cp === 0x7f || (cp >= 0x80 && cp < 0xa0))
      out += `\\x${cp.toString(16).padStart(2, "0")}`
    else if (asciiOnly && cp > 0x7f)
      out +=
        cp <= 0xff
          ? `\\x${cp.toString(16).padStart(2, "0")}`
          : cp <= 0xffff
            ? `\\u${cp.toString(16).padStart(4, "0")}`
            : `\\U${cp.toString(16).padStart(8, "0")}`
    else out += ch
  }
  return out + quote
}

const floatRepr = (n: number): string => {
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return String(n)
  return String(n).replace(/e([+-])(\d)$/, "e$10$2")
}

/** Python repr() of a restored value (tuples were restored as lists and print as lists). */
export function pyRepr(v: PyValue, asciiOnly = false): string {
  if (v === null) return "None"
  if (v === true) return "True"
  if (v === false) return "False"
  if (typeof v === "number") return floatRepr(v)
  if (typeof v === "string") return reprString(v, asciiOnly)
  if (Array.isArray(v)) return `[${v.map((x) => pyRepr(x, asciiOnly)).join(", ")}]`
  return `{${Object.entries(v)
    .map(([k, x]) => `${reprString(k, asciiOnly)}: ${pyRepr(x, asciiOnly)}`)
    .join(", ")}}`
}

/** Python str() of a restored value. */
export function pyStr(v: PyValue): string {
  return typeof v === "string" ? v : pyRepr(v)
}

const SPEC = /%(?:\(([^)]*)\))?([-+ #0]*)(\*|\d+)?(?:\.(\*|\d+))?[hlL]?([diouxXeEfFgGcrsa%])?/g

function toInt(v: PyValue): bigint {
  if (typeof v === "boolean") return v ? 1n : 0n
  if (typeof v === "number" && Number.isFinite(v)) return BigInt(Math.trunc(v))
  // big integers were kept as decimal strings by the literal reader; other text is a TypeError in Python
  throw new FormatError("a number is required")
}

function toFloat(v: PyValue): number {
  if (typeof v === "boolean") return v ? 1 : 0
  if (typeof v === "number") return v
  throw new FormatError("must be real number")
}

const fixExp = (s: string) => s.replace(/e([+-])(\d)$/, "e$10$2")

function formatG(x: number, precision: number, alt: boolean, upper: boolean): string {
  const p = precision === 0 ? 1 : precision
  if (x === 0) return alt ? `0.${"0".repeat(p - 1)}` : "0"
  const exp = Number(x.toExponential(p - 1).split("e")[1])
  let s: string
  if (exp >= -4 && exp < p) {
    s = x.toFixed(Math.max(0, p - 1 - exp))
    if (!alt && s.includes(".")) s = s.replace(/\.?0+$/, "")
  } else {
    s = x.toExponential(p - 1)
    if (!alt) s = s.replace(/\.?0+e/, "e")
    s = fixExp(s)
  }
  return upper ? s.toUpperCase() : s
}

function convert(type: string, v: PyValue, flags: string, precision: number | undefined): string {
  const alt = flags.includes("#")
  const sign = (neg: boolean, body: string) =>
    (neg ? "-" : flags.includes("+") ? "+" : flags.includes(" ") ? " " : "") + body
  switch (type) {
    case "s": {
      const s = pyStr(v)
      return precision === undefined ? s : [...s].slice(0, precision).join("")
    }
    case "r":
    case "a": {
      const s = pyRepr(v, type === "a")
      return precision === undefined ? s : [...s].slice(0, precision).join("")
    }
    case "d":
    case "i":
    case "u": {
      if (typeof v === "number" && Math.abs(v) < Number.MAX_SAFE_INTEGER) {
        const t = Math.trunc(v) // the common case without BigInt
        return sign(t < 0, String(Math.abs(t)))
      }
      const n = toInt(v)
      return sign(n < 0n, (n < 0n ? -n : n).toString())
    }
    case "o":
    case "x":
    case "X": {
      if (typeof v !== "number" || !Number.isInteger(v)) {
        if (typeof v !== "boolean") throw new FormatError("an integer is required")
      }
      const n = toInt(v)
      const abs = n < 0n ? -n : n
      let body = abs.toString(type === "o" ? 8 : 16)
      if (alt) body = (type === "o" ? "0o" : "0x") + body
      if (type === "X") body = body.toUpperCase()
      return sign(n < 0n, body)
    }
    case "e":
    case "E":
    case "f":
    case "F":
    case "g":
    case "G": {
      const x = toFloat(v)
      const p = precision ?? 6
      if (!Number.isFinite(x)) {
        const s = Number.isNaN(x) ? "nan" : "inf"
        return sign(x < 0, type === type.toUpperCase() ? s.toUpperCase() : s)
      }
      const abs = Math.abs(x)
      let body: string
      if (type === "f" || type === "F") body = abs.toFixed(p)
      else if (type === "e" || type === "E") body = fixExp(abs.toExponential(p))
      else body = formatG(abs, p, alt, false)
      if (type === "E" || type === "G") body = body.toUpperCase()
      return sign(x < 0 || Object.is(x, -0), body)
    }
    case "c": {
      if (typeof v === "string" && [...v].length === 1) return v
      if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0x10ffff)
        return String.fromCodePoint(v)
      throw new FormatError("%c requires an int or a char")
    }
  }
  throw new FormatError(`unsupported format character ${type}`)
}

function pad(s: string, width: number, flags: string, numeric: boolean): string {
  if (width <= 0) return s
  const len = [...s].length
  if (len >= width) return s
  if (flags.includes("-")) return s + " ".repeat(width - len)
  if (flags.includes("0") && numeric) {
    const m = /^([-+ ]?(?:0[xXo])?)(.*)$/.exec(s) as RegExpExecArray
    return m[1] + "0".repeat(width - len) + m[2]
  }
  return " ".repeat(width - len) + s
}

/**
 * `msg % args` as Python evaluates it: a list is the tuple of arguments, an object is a mapping (used
 * by `%(key)s`, or as the single argument of `%s`), anything else is a single argument.
 */
export function percentFormat(msg: string, args: PyValue): string {
  const isMapping = args !== null && typeof args === "object" && !Array.isArray(args)
  const positional: PyValue[] = Array.isArray(args) ? args : [args]
  let next = 0
  let usedMapping = false
  const take = (): PyValue => {
    if (next >= positional.length) throw new FormatError("not enough arguments for format string")
    return positional[next++]
  }
  let out = ""
  let last = 0
  SPEC.lastIndex = 0
  for (let m = SPEC.exec(msg); m; m = SPEC.exec(msg)) {
    out += msg.slice(last, m.index)
    last = SPEC.lastIndex
    const [, key, flags, widthSpec, precSpec, type] = m
    if (!type) throw new FormatError("incomplete format")
    if (type === "%" && key === undefined && !flags && !widthSpec && !precSpec) {
      out += "%"
      continue
    }
    const width = widthSpec === "*" ? Number(toInt(take())) : widthSpec ? Number(widthSpec) : 0
    const precision = precSpec === "*" ? Number(toInt(take())) : precSpec ? Number(precSpec) : undefined
    let value: PyValue
    if (key !== undefined) {
      if (!isMapping) throw new FormatError("format requires a mapping")
      const map = args as { [k: string]: PyValue }
      if (!Object.hasOwn(map, key)) throw new FormatError(`KeyError: ${key}`)
      value = map[key]
      usedMapping = true
    } else {
      if (type === "%") {
        out += pad("%", width, flags, false)
        continue
      }
      value = isMapping ? (next++ === 0 ? args : fail()) : take()
    }
    const numeric = !"srac".includes(type)
    out += pad(
      convert(type, value, flags, precision),
      Math.abs(width),
      width < 0 ? `${flags}-` : flags,
      numeric,
    )
  }
  out += msg.slice(last)
  if (!isMapping && next < positional.length)
    throw new FormatError("not all arguments converted during string formatting")
  if (isMapping && usedMapping && next > 0) throw new FormatError("format requires a mapping")
  return out
}

function fail(): never {
  throw new FormatError("not enough arguments for format string")
}
