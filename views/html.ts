/**
 * HTML rendering that escapes by default. `html\`…\`` escapes every interpolated value; arrays are
 * joined; null, undefined and false render nothing. Markup produced by `html` nests unescaped. The only
 * way to insert raw markup is `unsafeRaw(...)` — one explicit, greppable helper.
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value
  }
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
}
const ESCAPE_RE = /[&<>"']/g

export function escapeHtml(value: string): string {
  return ESCAPE_RE.test(value) ? value.replace(ESCAPE_RE, (c) => ESCAPES[c]) : value
}

export type HtmlValue = Html | string | number | bigint | boolean | null | undefined | readonly HtmlValue[]

function render(v: HtmlValue): string {
  if (v === null || v === undefined || v === false) return ""
  if (v instanceof Html) return v.value
  if (Array.isArray(v)) return v.map(render).join("")
  return escapeHtml(String(v))
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0]
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]
  return new Html(out)
}

/** Raw markup, not escaped. Only for markup built by trusted code, never for user input. */
export function unsafeRaw(markup: string): Html {
  return new Html(markup)
}

/** JSON for a <script type="application/json"> block or an attribute: `<` escaped so it cannot close the tag. */
export function jsonForHtml(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c")
}
