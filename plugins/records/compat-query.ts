/**
 * Chronologer's `query` parameter, made safe. The original pasted raw SQL into its WHERE clause; we read
 * the same kind of JSON-path conditions with a real parser and emit parameterised SQL:
 *
 *   logrec->'$.data.foo' = 387 AND logrec->'$.meta.lineno' = 20
 *   json_extract(logrec, '$.data.user_id') = 7 OR (level >= 40 AND NOT name = 'app')
 *   logrec->>'$.meta.funcName' IS NOT NULL
 *
 * Operands: `logrec->'<path>'`, `logrec->>'<path>'`, `json_extract(logrec, '<path>')` with paths
 * `$.section.key[.key|[n]]…`, or the columns name, level, message, id; literals: numbers, 'strings'
 * ('' escapes a quote), NULL, TRUE, FALSE. Operators: = == != <> < <= > >=, IS [NOT] NULL, AND, OR, NOT,
 * parentheses. Anything else — statements, comments, sub-selects, functions, other columns — is a
 * SearchError (400).
 */
import type { Dialect } from "../../src/db/database"
import { type CompareOp, type Compiled, type JsonValue, jsonCompare, SearchError } from "./query"

type Tok =
  | { k: "num"; v: number; pos: number }
  | { k: "str"; v: string; pos: number }
  | { k: "ident"; v: string; pos: number }
  | { k: "sym"; v: string; pos: number }

function lex(text: string): Tok[] {
  const out: Tok[] = []
  let i = 0
  while (i < text.length) {
    const c = text[i]
    if (/\s/.test(c)) {
      i++
      continue
    }
    const start = i
    if (c === "'") {
      let s = ""
      i++
      for (;;) {
        if (i >= text.length) throw new SearchError("unterminated string literal", start)
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            s += "'"
            i += 2
            continue
          }
          i++
          break
        }
        s += text[i++]
      }
      out.push({ k: "str", v: s, pos: start })
      continue
    }
    const num = /^-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(text.slice(i))
    if (num) {
      out.push({ k: "num", v: Number(num[0]), pos: start })
      i += num[0].length
      continue
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))
    if (id) {
      out.push({ k: "ident", v: id[0], pos: start })
      i += id[0].length
      continue
    }
    const sym = /^(?:->>|->|==|!=|<>|<=|>=|[=<>(),])/.exec(text.slice(i))
    if (sym) {
      out.push({ k: "sym", v: sym[0], pos: start })
      i += sym[0].length
      continue
    }
    throw new SearchError(`unexpected character ${JSON.stringify(c)}`, start)
  }
  return out
}

const COLUMNS = new Set(["name", "level", "message", "id"])
const PATH = /^\$((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])+)$/

type Operand =
  | { kind: "json"; segments: string[]; pos: number }
  | { kind: "column"; name: string; pos: number }
  | { kind: "literal"; value: JsonValue; pos: number }

export function compileChronologerQuery(text: string, dialect: Dialect): Compiled {
  if (text.length > 4000) throw new SearchError("the query is longer than 4000 characters")
  const toks = lex(text)
  let at = 0
  const peek = () => toks[at]
  const kw = (t: Tok | undefined, word: string) => t?.k === "ident" && t.v.toUpperCase() === word
  const sym = (t: Tok | undefined, s: string) => t?.k === "sym" && t.v === s
  const expect = (s: string) => {
    const t = peek()
    if (!sym(t, s)) throw new SearchError(`expected '${s}'`, t ? t.pos : text.length)
    at++
  }
  const pathOf = (t: Tok | undefined): string[] => {
    if (t?.k !== "str")
      throw new SearchError("expected a JSON path like '$.data.key'", t ? t.pos : text.length)
    const m = PATH.exec(t.v)
    if (!m) throw new SearchError(`unsupported JSON path ${JSON.stringify(t.v)}`, t.pos)
    at++
    return m[1].split(/\.|\[|\]/).filter((s) => s !== "")
  }

  function operand(): Operand {
    const t = peek()
    if (!t) throw new SearchError("the query ends where a value was expected", text.length)
    if (t.k === "num") {
      at++
      return { kind: "literal", value: t.v, pos: t.pos }
    }
    if (t.k === "str") {
      at++
      return { kind: "literal", value: t.v, pos: t.pos }
    }
    if (t.k === "ident") {
      const up = t.v.toUpperCase()
      if (up === "NULL" || up === "TRUE" || up === "FALSE") {
        at++
        return { kind: "literal", value: up === "NULL" ? null : up === "TRUE", pos: t.pos }
      }
      if (t.v.toLowerCase() === "json_extract") {
        at++
        expect("(")
        const col = peek()
        if (!(col?.k === "ident" && col.v.toLowerCase() === "logrec"))
          throw new SearchError("json_extract works on logrec only", col ? col.pos : text.length)
        at++
        expect(",")
        const segments = pathOf(peek())
        expect(")")
        return { kind: "json", segments, pos: t.pos }
      }
      if (t.v.toLowerCase() === "logrec") {
        at++
        const arrow = peek()
        if (!sym(arrow, "->") && !sym(arrow, "->>"))
          throw new SearchError("logrec must be followed by -> '<path>'", arrow ? arrow.pos : text.length)
        at++
        return { kind: "json", segments: pathOf(peek()), pos: t.pos }
      }
      if (COLUMNS.has(t.v.toLowerCase())) {
        at++
        return { kind: "column", name: t.v.toLowerCase(), pos: t.pos }
      }
      throw new SearchError(`unknown name ${JSON.stringify(t.v)}`, t.pos)
    }
    throw new SearchError(`unexpected ${JSON.stringify(t.v)}`, t.pos)
  }

  function comparison(): Compiled {
    const t = peek()
    if (sym(t, "(")) {
      at++
      const inner = or()
      expect(")")
      return { sql: `(${inner.sql})`, params: inner.params }
    }
    const left = operand()
    if (left.kind === "literal") throw new SearchError("a comparison must start with a field", left.pos)
    if (kw(peek(), "IS")) {
      at++
      const not = kw(peek(), "NOT")
      if (not) at++
      const n = peek()
      if (!kw(n, "NULL")) throw new SearchError("expected NULL", n ? n.pos : text.length)
      at++
      if (left.kind === "column") return { sql: not ? "TRUE" : "FALSE", params: [] }
      const c = jsonCompare(dialect, left.segments, "=", null)
      const missing = jsonMissing(dialect, left.segments)
      const isNull: Compiled = {
        sql: `(${c.sql} OR ${missing.sql})`,
        params: [...c.params, ...missing.params],
      }
      return not ? { sql: `NOT ${isNull.sql}`, params: isNull.params } : isNull
    }
    const opTok = peek()
    const ops: Record<string, CompareOp> = {
      "=": "=",
      "==": "=",
      "!=": "!=",
      "<>": "!=",
      "<": "<",
      "<=": "<=",
      ">": ">",
      ">=": ">=",
    }
    if (opTok?.k !== "sym" || !(opTok.v in ops))
      throw new SearchError("expected a comparison operator", opTok ? opTok.pos : text.length)
    at++
    const op = ops[opTok.v]
    const right = operand()
    if (right.kind !== "literal") throw new SearchError("compare a field with a literal value", right.pos)
    if (left.kind === "json") return jsonCompare(dialect, left.segments, op, right.value)
    const v = right.value
    const sqlOp = op === "!=" ? "<>" : op
    if (left.name === "level" || left.name === "id") {
      if (typeof v !== "number") throw new SearchError(`${left.name} compares with numbers`, right.pos)
      return { sql: `${left.name} ${sqlOp} ?`, params: [v] }
    }
    if (typeof v !== "string") throw new SearchError(`${left.name} compares with strings`, right.pos)
    return { sql: `${left.name} ${sqlOp} ?`, params: [v] }
  }

  function not(): Compiled {
    if (kw(peek(), "NOT")) {
      at++
      const c = not()
      return { sql: `NOT COALESCE(${c.sql}, FALSE)`, params: c.params }
    }
    return comparison()
  }
  function and(): Compiled {
    let left = not()
    while (kw(peek(), "AND")) {
      at++
      const right = not()
      left = { sql: `(${left.sql} AND ${right.sql})`, params: [...left.params, ...right.params] }
    }
    return left
  }
  function or(): Compiled {
    let left = and()
    while (kw(peek(), "OR")) {
      at++
      const right = and()
      left = { sql: `(${left.sql} OR ${right.sql})`, params: [...left.params, ...right.params] }
    }
    return left
  }

  if (toks.length === 0) return { sql: "", params: [] }
  const result = or()
  const rest = peek()
  if (rest) throw new SearchError(`unexpected ${JSON.stringify(rest.v)}`, rest.pos)
  return result
}

function jsonMissing(dialect: Dialect, segments: string[]): Compiled {
  if (dialect === "sqlite") {
    const path = `$${segments.map((s) => (/^\d+$/.test(s) ? `[${s}]` : `."${s}"`)).join("")}`
    return { sql: "json_type(logrec, ?) IS NULL", params: [path] }
  }
  return { sql: "(logrec #> ?::text[]) IS NULL", params: [`{${segments.join(",")}}`] }
}
