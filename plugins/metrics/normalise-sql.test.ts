import { describe, expect, test } from "bun:test"
import { normaliseSql } from "./normalise-sql"
import { statsdKey } from "./statsd-format"

describe("normaliseSql (ops-formats §8.2)", () => {
  test("the reference example, and its statsd key", () => {
    const n = normaliseSql("SELECT users.id, users.name FROM users WHERE users.id = %(id_1)s")
    expect(n).toBe("SELECT FROM users WHERE users.id = ?")
    expect(statsdKey("ops", ["sql", n])).toBe("ops.sql.SELECT_FROM_users_WHERE_users_id____")
  })
  test("newlines and runs of spaces", () => {
    expect(normaliseSql("SELECT a,\n   b\n FROM t\r\nWHERE x = ?")).toBe("SELECT FROM t WHERE x = ?")
  })
  test("every SELECT … FROM, also in subqueries", () => {
    expect(normaliseSql("SELECT a FROM (SELECT b, c FROM t) s")).toBe("SELECT FROM (SELECT FROM t) s")
  })
  test("INSERT INTO t (… anything", () => {
    expect(normaliseSql("INSERT OR FAIL INTO records (a) VALUES (?), (?)")).toBe("INSERT INTO records")
    expect(normaliseSql("INSERT INTO records (a, b) VALUES (?, ?), (?, ?) RETURNING id")).toBe(
      "INSERT INTO records",
    )
  })
  test("SET … WHERE", () => {
    expect(normaliseSql("UPDATE t SET a = ?, b = 'x' WHERE id = ?")).toBe("UPDATE t SET WHERE id = ?")
  })
  test("IN (…) with nested parentheses and quotes", () => {
    expect(normaliseSql("DELETE FROM t WHERE id IN (1, 2, 3)")).toBe("DELETE FROM t WHERE id IN (?)")
    expect(normaliseSql("DELETE FROM t WHERE k IN ('a)', f(1), 'b''c') AND x = 2")).toBe(
      "DELETE FROM t WHERE k IN (?) AND x = ?",
    )
  })
  test("literals and placeholders → ?; identifiers with digits stay", () => {
    expect(normaliseSql("SELECT * FROM t1 WHERE a = $1 AND b = 'it''s' AND c > 10.5 LIMIT 20")).toBe(
      "SELECT FROM t1 WHERE a = ? AND b = ? AND c > ? LIMIT ?",
    )
    expect(normaliseSql("SELECT 1")).toBe("SELECT ?")
  })
})
