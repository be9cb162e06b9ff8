import { describe, expect, test } from "bun:test"
import { readFileSync } from "node:fs"
import { resolve } from "node:path"
import { Glob } from "bun"
import { escapeHtml, Html, html, jsonForHtml, unsafeRaw } from "./html"

const EVIL = `<script>alert("x")</script>&'`
const ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"

describe("html``", () => {
  test("every interpolated value is escaped, in text and in attributes", () => {
    expect(html`<p>${EVIL}</p>`.value).toBe(`<p>${ESCAPED}</p>`)
    expect(html`<a title="${EVIL}" href='${EVIL}'>x</a>`.value).toBe(
      `<a title="${ESCAPED}" href='${ESCAPED}'>x</a>`,
    )
  })

  test("numbers, booleans, null and undefined", () => {
    expect(html`${1}|${2n}|${true}|${false}|${null}|${undefined}|${0}`.value).toBe("1|2|true||||0")
  })

  test("arrays are joined, each item escaped; nested html stays markup", () => {
    const items = ["<a>", "b&"]
    expect(html`<ul>${items.map((i) => html`<li>${i}</li>`)}</ul>`.value).toBe(
      "<ul><li>&lt;a&gt;</li><li>b&amp;</li></ul>",
    )
    expect(html`${["<x>", ["<y>"]]}`.value).toBe("&lt;x&gt;&lt;y&gt;")
  })

  test("an object that merely looks like Html is escaped", () => {
    const fake = { value: "<b>not trusted</b>", toString: () => "<b>not trusted</b>" }
    expect(html`${fake as unknown as string}`.value).toBe("&lt;b&gt;not trusted&lt;/b&gt;")
  })

  test("unsafeRaw is the only way to insert raw markup", () => {
    expect(html`${unsafeRaw("<b>trusted</b>")}`.value).toBe("<b>trusted</b>")
    expect(unsafeRaw("<i>")).toBeInstanceOf(Html)
    expect(escapeHtml("plain")).toBe("plain")
    expect(escapeHtml(EVIL)).toBe(ESCAPED)
  })

  test("jsonForHtml cannot close a script tag", () => {
    expect(jsonForHtml({ a: "</script><script>x" })).toBe('{"a":"\\u003c/script>\\u003cscript>x"}')
  })

  test("the core uses unsafeRaw nowhere (plugins' uses are reviewed in the core note)", () => {
    const root = resolve(import.meta.dir, "..")
    const users: string[] = []
    for (const dir of ["src", "views"])
      for (const f of new Glob("**/*.ts").scanSync({ cwd: resolve(root, dir) })) {
        const path = `${dir}/${f}`
        if (path.endsWith(".test.ts") || path.endsWith(".d.ts")) continue
        if (/unsafeRaw\(/.test(readFileSync(resolve(root, path), "utf8"))) users.push(path)
      }
    // the definition, and its re-export for drop-ins
    expect(users.sort()).toEqual(["views/html.ts"])
  })
})
