/**
 * The coercions of prezi/changelog (Flask-RESTful reqparse: Python `int()` and `str()`), reproduced so
 * old clients get the same acceptance and the same error texts (reference §2.1).
 */

/** Python's repr() of a JSON value: what the original stored for objects and arrays. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return "None"
  if (v === true) return "True"
  if (v === false) return "False"
  if (typeof v === "number") return String(v)
  if (typeof v === "string") {
    const q = v.includes("'") && !v.includes('"') ? '"' : "'"
    let out = ""
    for (const ch of v) {
      const code = ch.codePointAt(0) ?? 0
      if (ch === "\\" || ch === q) out += `\\${ch}`
      else if (ch === "\n") out += "\\n"
      else if (ch === "\r") out += "\\r"
      else if (ch === "\t") out += "\\t"
      else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`
      else out += ch
    }
    return q + out + q
  }
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(", ")}]`
  return `{${Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`)
    .join(", ")}}`
}

/** Python `str()` of a JSON value; null stays null (stored as NULL). */
export function pyStr(v: unknown): string | null {
  if (v === null || v === undefined) return null
  if (typeof v === "string") return v
  return pyRepr(v)
}

const PY_INT = /^\s*[+-]?\d+(_\d+)*\s*$/

/** Python `int()` of a JSON value: `{ value }` (null stays null) or `{ error }` with Python's text. */
export function pyInt(v: unknown): { value: number | null } | { error: string } {
  if (v === null || v === undefined) return { value: null }
  if (typeof v === "boolean") return { value: v ? 1 : 0 }
  if (typeof v === "number") return checked(Math.trunc(v))
  if (typeof v === "string") {
    if (!PY_INT.test(v)) return { error: `invalid literal for int() with base 10: ${pyRepr(v)}` }
    return checked(Number(v.trim().replace(/_/g, "")))
  }
  const type = Array.isArray(v) ? "list" : "dict"
  return { error: `int() argument must be a string, a bytes-like object or a real number, not '${type}'` }
}

function checked(n: number): { value: number } | { error: string } {
  return Number.isSafeInteger(n) ? { value: n } : { error: `${n} is out of range` }
}

const PY_FLOAT = /^\s*[+-]?((\d+(_\d+)*)?\.?\d+(_\d+)*([eE][+-]?\d+)?|\d+\.|inf|infinity|nan)\s*$/i

/** Python `float()` of a query-string value. */
export function pyFloat(s: string): { value: number } | { error: string } {
  if (!PY_FLOAT.test(s)) return { error: `could not convert string to float: ${pyRepr(s)}` }
  const t = s.trim().toLowerCase().replace(/_/g, "")
  const sign = t.startsWith("-") ? -1 : 1
  const body = t.replace(/^[+-]/, "")
  if (body === "inf" || body === "infinity") return { value: sign * Number.POSITIVE_INFINITY }
  if (body === "nan") return { value: Number.NaN }
  return { value: Number(t) }
}

export const isPyInt = (s: string) => PY_INT.test(s)
