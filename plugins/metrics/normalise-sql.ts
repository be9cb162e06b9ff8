/**
 * SQL statement simplification for metric names (c2cwsgiutils, ops-formats §8.2), applied in order:
 * newlines → spaces; runs of spaces → one; literals and placeholders (`'…'`, numbers, `?`, `$1`,
 * `%(x)s`) → `?`; each `SELECT … FROM` → `SELECT FROM`; `INSERT [OR FAIL] INTO t (…anything` → `INSERT INTO t`;
 * `SET … WHERE` → `SET WHERE`; every ` IN (…)` (balanced parentheses, quotes respected) → ` IN (?)`.
 */

const STRING_LITERAL = /'(?:[^']|'')*'/g
const NUMBER_LITERAL = /(?<![A-Za-z0-9_$."])-?\b\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b(?![A-Za-z_])/g
const PLACEHOLDER = /\$\d+|%\([^)]*\)s/g
const SELECT_FROM = /\bSELECT\s.*?\sFROM\b/gi
const INSERT_INTO = /\bINSERT (?:OR \w+ )?INTO (\S+?)\s*\(.*$/i
const SET_WHERE = /\bSET\s.*?\sWHERE\b/gi

export function normaliseSql(sql: string): string {
  let s = sql.replace(/[\r\n]+/g, " ").replace(/ {2,}/g, " ")
  s = s.replace(STRING_LITERAL, "?").replace(PLACEHOLDER, "?").replace(NUMBER_LITERAL, "?")
  s = s.replace(SELECT_FROM, "SELECT FROM")
  s = s.replace(INSERT_INTO, "INSERT INTO $1")
  s = s.replace(SET_WHERE, "SET WHERE")
  return collapseIn(s).trim()
}

/** ` IN (…)` → ` IN (?)`, skipping to the matching parenthesis (quotes respected). */
function collapseIn(s: string): string {
  let out = ""
  let from = 0
  const upper = s.toUpperCase()
  for (;;) {
    const at = upper.indexOf(" IN (", from)
    if (at < 0) break
    let depth = 0
    let quote = ""
    let end = -1
    for (let i = at + 4; i < s.length; i++) {
      const c = s[i]
      if (quote) {
        if (c === quote) quote = ""
      } else if (c === "'" || c === '"') quote = c
      else if (c === "(") depth++
      else if (c === ")" && --depth === 0) {
        end = i
        break
      }
    }
    if (end < 0) break
    out += `${s.slice(from, at)} IN (?)`
    from = end + 1
  }
  return out + s.slice(from)
}
