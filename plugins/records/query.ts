/**
 * The search language, compiled to a parameterised SQL condition for SQLite and PostgreSQL.
 *
 *   timeout                      free text over messages (full-text index; every word must occur;
 *                                text without letters or digits, like "->", is found as it is, unindexed)
 *   "connection reset"           a phrase;  conn*  a word prefix
 *   level>=warning  level:error  level (names or numbers; `level:error` = the ERROR band, 40–49)
 *   logger:app.db                logger app.db or its children;  logger:app.db*  name prefix;  logger=app.db  exact
 *   data.user_id=42              a field of `extra` (numbers also match their string form)
 *   meta.funcName:handle*        a LogRecord attribute, prefix;  error.exc_text:KeyError  text contains…
 *   message="exact text"         whole message equality
 *   AND OR NOT ( )               upper-case keywords; adjacent terms are AND-ed
 *
 * User text never becomes SQL: identifiers come from this file, every value and JSON path is a parameter.
 * Errors throw SearchError with the 0-based position of the offending token.
 */
import type { Dialect } from "../../src/db/database"
import { levelNumber } from "./levels"

export class SearchError extends Error {
  constructor(
    message: string,
    readonly position?: number,
  ) {
    super(position === undefined ? message : `${message} (at position ${position})`)
  }
}

export interface Compiled {
  sql: string
  params: unknown[]
  /**
   * Conditions AND-ed at the top level that an index can drive (logger name, level, full text), each
   * as a SELECT of matching ids: the search counts a few of them to pick the access path (service.ts).
   */
  probes?: Probe[]
}

export interface Probe {
  index: "name" | "level" | "fts"
  sql: string
  params: unknown[]
}

/** `c` plus a probe selecting the ids that satisfy it alone. */
const probed = (c: Compiled, index: "name" | "level"): Compiled => ({
  ...c,
  probes: [{ index, sql: `SELECT id FROM records_records WHERE ${c.sql}`, params: c.params }],
})

// ---- tokens --------------------------------------------------------------------------------------

type Op = ":" | "=" | "!=" | ">" | ">=" | "<" | "<="
type Token =
  | { kind: "word"; text: string; pos: number }
  | { kind: "phrase"; text: string; pos: number }
  | { kind: "op"; op: Op; pos: number }
  | { kind: "lparen"; pos: number }
  | { kind: "rparen"; pos: number }

const WORD_STOP = /[\s()"=<>!:]/

function tokenize(text: string): Token[] {
  const out: Token[] = []
  let i = 0
  while (i < text.length) {
    const c = text[i]
    if (/\s/.test(c)) {
      i++
    } else if (c === "(" || c === ")") {
      out.push(c === "(" ? { kind: "lparen", pos: i } : { kind: "rparen", pos: i })
      i++
    } else if (c === '"') {
      const start = i
      let s = ""
      i++
      while (i < text.length && text[i] !== '"') {
        if (text[i] === "\\" && i + 1 < text.length) i++
        s += text[i]
        i++
      }
      if (i >= text.length) throw new SearchError("unterminated quoted phrase", start)
      i++
      // a trailing * right after the closing quote makes the phrase a prefix
      if (text[i] === "*") {
        s += "*"
        i++
      }
      out.push({ kind: "phrase", text: s, pos: start })
    } else if (c === ":" || c === "=") {
      out.push({ kind: "op", op: c, pos: i })
      i++
    } else if (c === "!" || c === ">" || c === "<") {
      if (text[i + 1] === "=") {
        out.push({ kind: "op", op: `${c}=` as Op, pos: i })
        i += 2
      } else if (c === "!") {
        throw new SearchError("'!' must be followed by '='", i)
      } else {
        out.push({ kind: "op", op: c as Op, pos: i })
        i++
      }
    } else {
      const start = i
      while (i < text.length && !WORD_STOP.test(text[i])) i++
      out.push({ kind: "word", text: text.slice(start, i), pos: start })
    }
  }
  return out
}

// ---- syntax tree ---------------------------------------------------------------------------------

type Node =
  | { kind: "and" | "or"; left: Node; right: Node }
  | { kind: "not"; node: Node }
  | { kind: "text"; text: string; pos: number }
  | { kind: "field"; field: string; op: Op; value: string; quoted: boolean; pos: number; valuePos: number }

const KEYWORDS = new Set(["AND", "OR", "NOT"])

function parse(tokens: Token[], length: number): Node | undefined {
  let at = 0
  const peek = () => tokens[at]
  const isKeyword = (t: Token | undefined, k: string) => t?.kind === "word" && t.text === k

  function parseOr(): Node {
    let left = parseAnd()
    while (isKeyword(peek(), "OR")) {
      at++
      left = { kind: "or", left, right: parseAnd() }
    }
    return left
  }
  function parseAnd(): Node {
    let left = parseNot()
    for (;;) {
      const t = peek()
      if (isKeyword(t, "AND")) {
        at++
        left = { kind: "and", left, right: parseNot() }
      } else if (t && t.kind !== "rparen" && !isKeyword(t, "OR")) {
        left = { kind: "and", left, right: parseNot() }
      } else return left
    }
  }
  function parseNot(): Node {
    if (isKeyword(peek(), "NOT")) {
      at++
      return { kind: "not", node: parseNot() }
    }
    return parsePrimary()
  }
  function parsePrimary(): Node {
    const t = peek()
    if (!t) {
      throw new SearchError("the query ends where a term was expected", length)
    }
    if (t.kind === "lparen") {
      at++
      const inner = parseOr()
      const close = peek()
      if (close?.kind !== "rparen") throw new SearchError("missing ')'", close ? close.pos : t.pos)
      at++
      return inner
    }
    if (t.kind === "rparen") throw new SearchError("unexpected ')'", t.pos)
    if (t.kind === "op")
      throw new SearchError(
        `unexpected '${t.op}' (to search for text containing it, put the text in double quotes)`,
        t.pos,
      )
    if (t.kind === "phrase") {
      at++
      return { kind: "text", text: t.text, pos: t.pos }
    }
    if (KEYWORDS.has(t.text)) throw new SearchError(`unexpected ${t.text}`, t.pos)
    at++
    const op = peek()
    if (op?.kind !== "op") return { kind: "text", text: t.text, pos: t.pos }
    at++
    const v = peek()
    if (!v || (v.kind !== "word" && v.kind !== "phrase"))
      throw new SearchError(`a value must follow '${op.op}'`, v ? v.pos : op.pos + op.op.length)
    at++
    return {
      kind: "field",
      field: t.text,
      op: op.op,
      value: v.text,
      quoted: v.kind === "phrase",
      pos: t.pos,
      valuePos: v.pos,
    }
  }

  if (tokens.length === 0) return undefined
  const node = parseOr()
  const rest = peek()
  if (rest) throw new SearchError(rest.kind === "rparen" ? "unexpected ')'" : "unexpected input", rest.pos)
  return node
}

// ---- SQL -----------------------------------------------------------------------------------------

const WORDS = /[\p{L}\p{N}\p{M}]+/gu
const PATH_SEGMENT = /^(?:[A-Za-z_][A-Za-z0-9_-]*|\d+)$/

/** Full-text condition for a word or phrase (a trailing `*` = prefix of the last word). */
export function fullText(dialect: Dialect, text: string): Compiled {
  const prefix = text.endsWith("*")
  const words = (prefix ? text.slice(0, -1) : text).match(WORDS)
  if (!words) {
    // no word for the full-text index to look up ("->", "🚀", "%"): the text itself, anywhere in the
    // message — not indexed, so the rest of the search (time window, level, logger) bounds the scan
    return {
      sql: dialect === "sqlite" ? "instr(message, ?) > 0" : "strpos(message, ?) > 0",
      params: [text],
    }
  }
  if (dialect === "sqlite") {
    // words hold only letters/digits/marks: no FTS5 syntax can hide inside the quoted phrase
    const match = `"${words.join(" ")}"${prefix ? " *" : ""}`
    return {
      sql: "id IN (SELECT rowid FROM records_fts WHERE records_fts MATCH ?)",
      params: [match],
      probes: [
        { index: "fts", sql: "SELECT rowid FROM records_fts WHERE records_fts MATCH ?", params: [match] },
      ],
    }
  }
  const lexemes = words.map((w) => w.toLowerCase())
  return {
    sql: "message_tsv @@ to_tsquery('simple', ?)",
    params: [lexemes.map((w, i) => (prefix && i === lexemes.length - 1 ? `${w}:*` : w)).join(" <-> ")],
  }
}

export type JsonValue = string | number | boolean | null

/** JSON path segments (["data", "user_id"]) → the extraction expressions of each dialect. */
function jsonExpr(
  dialect: Dialect,
  segments: string[],
): { value: string; text: string; type: string; params: unknown[] } {
  if (dialect === "sqlite") {
    const path = `$${segments.map((s) => (/^\d+$/.test(s) ? `[${s}]` : `."${s}"`)).join("")}`
    return {
      value: "json_extract(logrec, ?)",
      text: "json_extract(logrec, ?)",
      type: "json_type(logrec, ?)",
      params: [path],
    }
  }
  const path = `{${segments.join(",")}}`
  return {
    value: "(logrec #> ?::text[])",
    text: "(logrec #>> ?::text[])",
    type: "jsonb_typeof(logrec #> ?::text[])",
    params: [path],
  }
}

export type CompareOp = "=" | "!=" | ">" | ">=" | "<" | "<="

/**
 * A comparison of a JSON leaf with a literal. Strings compare as text, numbers numerically (a number
 * also equals its string form), booleans and null by JSON type. Missing leaves never match except `!=`.
 */
export function jsonCompare(dialect: Dialect, segments: string[], op: CompareOp, value: JsonValue): Compiled {
  for (const s of segments)
    if (!PATH_SEGMENT.test(s)) throw new SearchError(`invalid JSON path segment ${JSON.stringify(s)}`)
  const e = jsonExpr(dialect, segments)
  const p = e.params
  const negate = (c: Compiled): Compiled => ({ sql: `NOT COALESCE(${c.sql}, FALSE)`, params: c.params })
  if (value === null || typeof value === "boolean") {
    if (op !== "=" && op !== "!=") throw new SearchError(`'${op}' needs a number or a string`)
    const eq: Compiled =
      dialect === "postgres" && value !== null
        ? { sql: `${e.value} = ?::jsonb`, params: [...p, String(value)] }
        : { sql: `${e.type} = ?`, params: [...p, value === null ? "null" : String(value)] }
    return op === "=" ? eq : negate(eq)
  }
  const textType = dialect === "sqlite" ? "text" : "string"
  if (typeof value === "number") {
    const num =
      dialect === "sqlite"
        ? `(CASE WHEN ${e.type} IN ('integer', 'real') THEN ${e.value} END)`
        : `(CASE WHEN ${e.type} = 'number' THEN (${e.value})::numeric END)`
    const numParam = dialect === "sqlite" ? "?" : "?::numeric"
    if (op === "=" || op === "!=") {
      const eq: Compiled = {
        sql: `(${num} = ${numParam} OR (${e.type} = ? AND ${e.text} = ?))`,
        params: [...p, ...p, value, ...p, textType, ...p, String(value)],
      }
      return op === "=" ? eq : negate(eq)
    }
    return { sql: `${num} ${op} ${numParam}`, params: [...p, ...p, value] }
  }
  const text: Compiled = {
    sql: `(${e.type} = ? AND ${e.text} ${op === "!=" ? "=" : op} ?)`,
    params: [...p, textType, ...p, value],
  }
  return op === "!=" ? negate(text) : text
}

/** Text of a JSON leaf starts with `prefix` (strings only). */
function jsonPrefix(dialect: Dialect, segments: string[], prefix: string): Compiled {
  for (const s of segments)
    if (!PATH_SEGMENT.test(s)) throw new SearchError(`invalid JSON path segment ${JSON.stringify(s)}`)
  const e = jsonExpr(dialect, segments)
  const head = dialect === "sqlite" ? `substr(${e.text}, 1, ?)` : `left(${e.text}, ?)`
  return {
    sql: `(${e.type} = ? AND ${head} = ?)`,
    params: [...e.params, dialect === "sqlite" ? "text" : "string", ...e.params, [...prefix].length, prefix],
  }
}

/** Text of a JSON leaf contains `needle` (strings only; a scan, for fields without an index). */
function jsonContains(dialect: Dialect, segments: string[], needle: string): Compiled {
  for (const s of segments)
    if (!PATH_SEGMENT.test(s)) throw new SearchError(`invalid JSON path segment ${JSON.stringify(s)}`)
  const e = jsonExpr(dialect, segments)
  const find = dialect === "sqlite" ? `instr(${e.text}, ?) > 0` : `strpos(${e.text}, ?) > 0`
  const textType = dialect === "sqlite" ? "text" : "string"
  return { sql: `(${e.type} = ? AND ${find})`, params: [...e.params, textType, ...e.params, needle] }
}

const NUMBER = /^-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?$/

/** A bare value: number, true/false/null, else text. Quoted values are always text. */
function literal(value: string, quoted: boolean): JsonValue {
  if (quoted) return value
  if (NUMBER.test(value)) return Number(value)
  if (value === "true") return true
  if (value === "false") return false
  if (value === "null") return null
  return value
}

function starPrefix(value: string, quoted: boolean, pos: number): string | undefined {
  const star = value.indexOf("*")
  if (star < 0) return undefined
  if (star !== value.length - 1 || (quoted && value.length === 1))
    throw new SearchError("'*' is only allowed at the end of a value (prefix match)", pos + star)
  return value.slice(0, -1)
}

const ESC_UPPER = "\u{10FFFF}"

function compileField(dialect: Dialect, n: Extract<Node, { kind: "field" }>): Compiled {
  const c = compileFieldCondition(dialect, n)
  const lower = n.field.toLowerCase()
  if (n.op === "!=" || c.probes) return c
  return lower === "level"
    ? probed(c, "level")
    : lower === "logger" || lower === "name"
      ? probed(c, "name")
      : c
}

function compileFieldCondition(dialect: Dialect, n: Extract<Node, { kind: "field" }>): Compiled {
  const field = n.field
  const lower = field.toLowerCase()
  if (lower === "level") {
    const num = /^\d{1,3}$/.test(n.value) ? Number(n.value) : levelNumber(n.value)
    if (num === undefined || num > 255)
      throw new SearchError(
        `unknown level ${JSON.stringify(n.value)} (use a name like warning or a number)`,
        n.valuePos,
      )
    const named = !/^\d+$/.test(n.value)
    if (n.op === ":" || n.op === "=") {
      return named && num > 0
        ? { sql: "(level >= ? AND level < ?)", params: [num, num + 10] }
        : { sql: "level = ?", params: [num] }
    }
    if (n.op === "!=") return { sql: "level <> ?", params: [num] }
    return { sql: `level ${n.op} ?`, params: [num] }
  }
  if (lower === "logger" || lower === "name") {
    const prefix = starPrefix(n.value, n.quoted, n.valuePos)
    if (n.op === ":" && prefix !== undefined)
      return { sql: "(name >= ? AND name < ?)", params: [prefix, prefix + ESC_UPPER] }
    if (n.op === ":")
      return {
        sql: "(name = ? OR (name >= ? AND name < ?))",
        params: [n.value, `${n.value}.`, `${n.value}.${ESC_UPPER}`],
      }
    if (prefix !== undefined) throw new SearchError("'*' works only with ':'", n.valuePos)
    return { sql: `name ${n.op === "!=" ? "<>" : n.op} ?`, params: [n.value] }
  }
  if (lower === "message" || lower === "msg") {
    if (n.op === ":") return fullText(dialect, n.value)
    if (n.op === "=" || n.op === "!=")
      return { sql: `message ${n.op === "=" ? "=" : "<>"} ?`, params: [n.value] }
    throw new SearchError(`'${n.op}' does not apply to message`, n.pos)
  }
  const segments = field.split(".")
  const section = segments[0]
  if ((section === "data" || section === "meta" || section === "error") && segments.length > 1) {
    const bad = segments.findIndex((s) => !PATH_SEGMENT.test(s))
    if (bad >= 0) throw new SearchError(`invalid field name ${JSON.stringify(field)}`, n.pos)
    const prefix = starPrefix(n.value, n.quoted, n.valuePos)
    if (n.op === ":") {
      if (prefix !== undefined) return jsonPrefix(dialect, segments, prefix)
      const v = literal(n.value, n.quoted)
      // on text fields `:` means "contains" (tracebacks, paths); on numbers/booleans it is equality
      return typeof v === "string"
        ? jsonContains(dialect, segments, v)
        : jsonCompare(dialect, segments, "=", v)
    }
    if (prefix !== undefined) throw new SearchError("'*' works only with ':'", n.valuePos)
    return jsonCompare(dialect, segments, n.op, literal(n.value, n.quoted))
  }
  throw new SearchError(
    `unknown field ${JSON.stringify(field)} (use level, logger, message, data.…, meta.… or error.…)`,
    n.pos,
  )
}

function compileNode(dialect: Dialect, n: Node): Compiled {
  switch (n.kind) {
    case "and":
    case "or": {
      const l = compileNode(dialect, n.left)
      const r = compileNode(dialect, n.right)
      const and = n.kind === "and"
      return {
        sql: `(${l.sql} ${and ? "AND" : "OR"} ${r.sql})`,
        params: [...l.params, ...r.params],
        ...(and ? { probes: [...(l.probes ?? []), ...(r.probes ?? [])] } : {}),
      }
    }
    case "not": {
      const c = compileNode(dialect, n.node)
      return { sql: `NOT COALESCE(${c.sql}, FALSE)`, params: c.params }
    }
    case "text":
      return fullText(dialect, n.text)
    case "field":
      return compileField(dialect, n)
  }
}

/** The query text → a SQL condition over records_records (empty sql = no condition). */
export function compileQuery(text: string, dialect: Dialect): Compiled {
  if (text.length > 2000) throw new SearchError("the query is longer than 2000 characters")
  const tree = parse(tokenize(text), text.length)
  return tree ? compileNode(dialect, tree) : { sql: "", params: [] }
}
