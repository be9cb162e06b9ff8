/**
 * A safe reader for Python literals — what `str()` of a LogRecord attribute looks like on the wire
 * (HTTPHandler sends `urlencode(record.__dict__)`). Covers what `ast.literal_eval` accepts and JSON can
 * hold: numbers (`1_000`, `-5`, `0x10`, `0o17`, `0b101`, `1e3`), strings (both quote styles, triple
 * quotes, r/u prefixes, escapes, adjacent concatenation), tuples and sets (→ arrays), lists, dicts,
 * `None`, `True`, `False`, `set()`. Never evaluates anything. Whatever is not such a literal — `007`,
 * `inf`, object reprs, bytes, complex numbers — yields `undefined` so the caller keeps the string.
 * Integers beyond 2^53 are returned as decimal strings so no precision is lost silently.
 */

export type PyValue = null | boolean | number | string | PyValue[] | { [key: string]: PyValue }

class NotLiteral extends Error {}
// one instance: failing is the common case for text values, and capturing a stack each time is costly
const NOT_LITERAL = new NotLiteral()

const fail = (): never => {
  throw NOT_LITERAL
}

const PLAIN_INT = /^-?(?:0|[1-9]\d{0,14})$/
const PLAIN_FLOAT = /^-?\d+\.\d+$/
const CONSTANTS: Record<string, PyValue> = { None: null, True: true, False: false }

/** The restored value, or undefined when `text` is not a Python literal. */
export function parsePythonLiteral(text: string): PyValue | undefined {
  // fast paths for what most LogRecord attributes look like: small ints, floats, None/True/False
  if (PLAIN_INT.test(text) || PLAIN_FLOAT.test(text)) return Number(text)
  if (Object.hasOwn(CONSTANTS, text)) return CONSTANTS[text]
  // a bare word (not a string prefix, set() or a constant) is never a literal: skip the parser
  if (/^[A-Za-z_][A-Za-z0-9_.]*$/.test(text) && text !== "set") return undefined
  try {
    const p = new Parser(text)
    p.skipSpace()
    const v = p.value()
    p.skipSpace()
    if (!p.atEnd()) fail()
    return v
  } catch (e) {
    if (e instanceof NotLiteral || e instanceof RangeError || e instanceof SyntaxError) return undefined
    throw e
  }
}

const DIGITS: Record<number, RegExp> = {
  2: /^[01](?:_?[01])*$/,
  8: /^[0-7](?:_?[0-7])*$/,
  10: /^\d(?:_?\d)*$/,
  16: /^[0-9a-fA-F](?:_?[0-9a-fA-F])*$/,
}

function intValue(digits: string, base: number, negative: boolean): number | string {
  if (!DIGITS[base].test(digits)) fail()
  const clean = digits.replaceAll("_", "")
  const prefix = base === 16 ? "0x" : base === 8 ? "0o" : base === 2 ? "0b" : ""
  let big = BigInt(prefix + clean)
  if (negative) big = -big
  const n = Number(big)
  return Number.isSafeInteger(n) ? n : big.toString()
}

const SIMPLE_ESCAPES: Record<string, string> = {
  "\\": "\\",
  "'": "'",
  '"': '"',
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "\n": "",
}

class Parser {
  private i = 0
  constructor(private readonly s: string) {}

  atEnd() {
    return this.i >= this.s.length
  }

  skipSpace() {
    for (;;) {
      const c = this.s.charCodeAt(this.i)
      // space, \t, \n, \f, \r
      if (c === 32 || c === 9 || c === 10 || c === 12 || c === 13) this.i++
      else return
    }
  }

  private eat(c: string): boolean {
    this.skipSpace()
    if (this.s[this.i] === c) {
      this.i++
      return true
    }
    return false
  }

  value(depth = 0): PyValue {
    if (depth > 100) fail()
    this.skipSpace()
    const c = this.s[this.i]
    if (c === undefined) fail()
    if (c === "(") return this.tupleOrGroup(depth)
    if (c === "[") {
      this.i++
      return this.items("]", depth)
    }
    if (c === "{") return this.dictOrSet(depth)
    if (c === "-" || c === "+") {
      this.i++
      this.skipSpace()
      if (!/[\d.]/.test(this.s[this.i] ?? "")) fail()
      const v = this.number()
      if (c === "+") return v
      if (typeof v === "number") return -v || 0
      return v.startsWith("-") ? v.slice(1) : `-${v}`
    }
    if (/[\d.]/.test(c)) return this.number()
    if (/^[rRuU]?['"]/.test(this.s.slice(this.i, this.i + 2))) return this.strings()
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.i))?.[0] ?? ""
    this.i += word.length
    if (word === "None") return null
    if (word === "True") return true
    if (word === "False") return false
    if (word === "set" && this.eat("(") && this.eat(")")) return []
    return fail()
  }

  private number(): number | string {
    const m =
      /^(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*)?(?:\.[\d_]*)?(?:[eE][+-]?\d[\d_]*)?)/.exec(
        this.s.slice(this.i),
      )
    const t = m?.[0] ?? ""
    if (!t || t === ".") fail()
    this.i += t.length
    if (/^[jJlL]/.test(this.s[this.i] ?? "")) fail() // complex / Python 2 long
    if (/^0[xX]/.test(t)) return intValue(t.slice(2), 16, false)
    if (/^0[oO]/.test(t)) return intValue(t.slice(2), 8, false)
    if (/^0[bB]/.test(t)) return intValue(t.slice(2), 2, false)
    if (/^[\d_]+$/.test(t)) {
      // "007" is a SyntaxError in Python 3; "000" is 0
      if (/^0/.test(t) && !/^0[0_]*$/.test(t)) fail()
      return intValue(t, 10, false)
    }
    // float: underscores only between digits
    if (/(^_|_$|_\.|\._|_[eE]|[eE][+-]?_|__)/.test(t)) fail()
    const f = Number(t.replaceAll("_", ""))
    if (!Number.isFinite(f)) fail()
    return f
  }

  /** One or more adjacent string literals, concatenated (Python 3: only r and u prefixes). */
  private strings(): string {
    let out = ""
    let any = false
    for (;;) {
      this.skipSpace()
      const m = /^([rRuU]?)['"]/.exec(this.s.slice(this.i, this.i + 2))
      if (!m) {
        if (!any) fail()
        return out
      }
      any = true
      this.i += m[1].length
      out += this.string(m[1] === "r" || m[1] === "R")
    }
  }

  private string(raw: boolean): string {
    const q = this.s[this.i]
    const tripled = q === "'" ? "'''" : '"""'
    const triple = this.s.startsWith(tripled, this.i)
    const end = triple ? tripled : q
    this.i += end.length
    let out = ""
    for (;;) {
      if (this.i >= this.s.length) fail()
      if (this.s.startsWith(end, this.i)) {
        this.i += end.length
        return out
      }
      const c = this.s[this.i]
      if (c === "\n" && !triple) fail()
      if (c !== "\\") {
        out += c
        this.i++
        continue
      }
      const n = this.s[this.i + 1]
      if (n === undefined) fail()
      if (raw) {
        out += c + n
        this.i += 2
        continue
      }
      if (n in SIMPLE_ESCAPES) {
        out += SIMPLE_ESCAPES[n]
        this.i += 2
      } else if (/[0-7]/.test(n)) {
        const oct = /^[0-7]{1,3}/.exec(this.s.slice(this.i + 1))?.[0] ?? ""
        out += String.fromCodePoint(Number.parseInt(oct, 8))
        this.i += 1 + oct.length
      } else if (n === "x" || n === "u" || n === "U") {
        const len = n === "x" ? 2 : n === "u" ? 4 : 8
        const hex = this.s.slice(this.i + 2, this.i + 2 + len)
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) fail()
        const cp = Number.parseInt(hex, 16)
        if (cp > 0x10ffff) fail()
        out += String.fromCodePoint(cp)
        this.i += 2 + len
      } else if (n === "N") {
        return fail() // named escapes need the Unicode name table: keep the text
      } else {
        out += c + n
        this.i += 2
      }
    }
  }

  private items(close: string, depth: number): PyValue[] {
    const out: PyValue[] = []
    for (;;) {
      if (this.eat(close)) return out
      out.push(this.value(depth + 1))
      if (this.eat(close)) return out
      if (!this.eat(",")) fail()
    }
  }

  private tupleOrGroup(depth: number): PyValue {
    this.i++
    if (this.eat(")")) return []
    const first = this.value(depth + 1)
    if (this.eat(")")) return first // parenthesised value, not a tuple
    if (!this.eat(",")) fail()
    return [first, ...this.items(")", depth)]
  }

  private dictOrSet(depth: number): PyValue {
    this.i++
    if (this.eat("}")) return {}
    const first = this.value(depth + 1)
    if (this.eat(":")) {
      const out: { [key: string]: PyValue } = {}
      let key = first
      for (;;) {
        out[keyText(key)] = this.value(depth + 1)
        if (this.eat("}")) return out
        if (!this.eat(",")) fail()
        if (this.eat("}")) return out
        key = this.value(depth + 1)
        if (!this.eat(":")) fail()
      }
    }
    if (this.eat("}")) return [first]
    if (!this.eat(",")) fail()
    return [first, ...this.items("}", depth)]
  }
}

/** JSON object keys are text: Python's str() of the key. */
function keyText(key: PyValue): string {
  if (typeof key === "string") return key
  if (key === null) return "None"
  if (typeof key === "boolean") return key ? "True" : "False"
  if (typeof key === "number") return String(key)
  return fail()
}
