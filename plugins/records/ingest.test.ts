/** Form bodies decode exactly as URLSearchParams (the WHATWG form decoder) decodes them. */
import { describe, expect, test } from "bun:test"
import { formFields } from "./ingest"

// `msg` is always text: what formFields keeps is the decoded string itself
const decodedMsg = (body: string) => formFields(body).msg
const whatwg = (body: string) => new URLSearchParams(body).get("msg")

describe("formFields decoding", () => {
  test("escapes, plus signs, UTF-8 and malformed escapes as URLSearchParams", () => {
    for (const value of [
      "Hello+%25s+%23%25d",
      "%C3%A9t%C3%A9", // été
      "%F0%9F%98%80", // an astral character
      "%zz", // not an escape
      "%",
      "%4",
      "%%41",
      "%C3", // a lone lead byte → U+FFFD
      "%C3+%A9",
      "%C3%41",
      "%ED%A0%80", // an encoded surrogate → U+FFFD
      "%E2%82",
      "%FF%FE",
      "é+€+raw", // not escaped at all
      "",
    ])
      expect(decodedMsg(`msg=${value}`)).toBe(whatwg(`msg=${value}`) as string)
  })

  test("random bodies of escapes, plus signs and raw characters decode the same", () => {
    const pieces = [
      "%",
      "+",
      "2",
      "A",
      "f",
      "C3",
      "A9",
      "E2",
      "82",
      "AC",
      "F0",
      "9F",
      "98",
      "x",
      "é",
      "€",
      "😀",
    ]
    let seed = 42
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed
    }
    for (let t = 0; t < 20_000; t++) {
      let value = ""
      for (let i = 1 + (next() % 12); i > 0; i--) value += pieces[next() % pieces.length]
      expect(decodedMsg(`msg=${value}`)).toBe(whatwg(`msg=${value}`) as string)
    }
  })

  test("keys decode too; a key without = is empty; empty pairs are skipped", () => {
    expect(formFields("my%20key=1&&flag&name=a+b")).toEqual({ "my key": 1, flag: "", name: "a b" })
  })
})
