/**
 * Markup of the records UI that needs no database: result rows, the search form, the query-error
 * notice, a record's fields. Every value from a record is attacker-controlled and goes through `html`
 * escaping; nothing here uses unsafeRaw.
 */
import { type Html, html } from "../../views/html"
import { bandOf } from "./ui-histogram"
import { LEVEL_CHOICES, type SearchState, stateQuery, WINDOW_PRESETS } from "./ui-state"

/** The subset of a stored record the UI reads (service.ts RecordRow satisfies it). */
export interface RecordView {
  id: number
  /** Microseconds since the epoch. */
  ts: number
  level: number
  name: string
  message: string
  logrec: { data?: Record<string, unknown>; meta?: Record<string, unknown>; error?: Record<string, unknown> }
}

export const isoOfMicros = (us: number) => new Date(Math.floor(us / 1000)).toISOString()

export function levelBadge(levelno: number, name: string): Html {
  return html`<span class="badge ${bandOf(levelno).cls}" title="levelno ${levelno}">${name}</span>`
}

/** A value as a person reads it: strings bare, everything else as JSON. */
export function showValue(v: unknown): string {
  return typeof v === "string" ? v : (JSON.stringify(v) ?? String(v))
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…` : s)

/** First line of a message, clipped; the key data fields (first few `extra` keys). */
export function recordRow(r: RecordView, levelName: (n: number) => string, current = false): Html {
  const firstLine = clip(r.message.split(/\r?\n/, 1)[0] ?? "", 300)
  const data = Object.entries(r.logrec.data ?? {}).slice(0, 4)
  const hasError =
    r.logrec.error && Object.values(r.logrec.error).some((v) => v !== null && v !== undefined && v !== "")
  return html`<tr class="record${current ? " current" : ""}" id="record-${r.id}" data-id="${r.id}"${current ? html` aria-current="true"` : ""}>
<td class="nowrap"><time datetime="${isoOfMicros(r.ts)}" data-local>${isoOfMicros(r.ts)}</time></td>
<td>${levelBadge(r.level, levelName(r.level))}</td>
<td class="mono logger">${r.name}</td>
<td class="msg"><a href="/ui/records/${r.id}">${firstLine || html`<span class="muted">(empty message)</span>`}</a>${hasError ? html` <span class="badge c4" title="has a traceback">exc</span>` : ""}${
    data.length
      ? html`<div class="kv small">${data.map(([k, v]) => html`<span><b>${k}</b>=${clip(showValue(v), 80)}</span> `)}</div>`
      : ""
  }</td>
</tr>`
}

export const TABLE_HEAD = html`<thead><tr><th>Time</th><th>Level</th><th>Logger</th><th>Message</th></tr></thead>`

/** A query error with a caret under the offending position. */
export function queryErrorNotice(query: string, message: string, position?: number): Html {
  const at = position !== undefined && position >= 0 && position <= query.length ? position : undefined
  // query.ts appends "(at position N)" (0-based); people read the 1-based character and the caret instead
  const text = message.replace(/ \(at position \d+\)$/, "")
  const caret =
    at !== undefined
      ? html`<pre class="query-caret" aria-hidden="true">${query}\n${" ".repeat(at)}^</pre>`
      : ""
  return html`<div class="notice error query-error" role="alert" data-position="${at ?? ""}"><strong>Query error${at !== undefined ? html` at character ${at + 1}` : ""}:</strong> ${text}${caret}</div>`
}

/** The help popover's examples (each one is checked against query.ts by the tests). */
export const QUERY_EXAMPLES: [string, string][] = [
  ["timeout", "free text in the message"],
  ['"connection reset"', "an exact phrase"],
  ['"->"', "text without letters or digits, as it is (quote text with < > = : ( ))"],
  ["level>=warning", "WARNING and above"],
  ["logger:app.db*", "loggers starting with app.db"],
  ["data.user_id=42", "an extra= field"],
  ["meta.funcName:handle*", "a LogRecord attribute with a prefix"],
  ["error.exc_text:KeyError", "the traceback contains KeyError"],
  ["logger=app.db", "exactly that logger (logger:app.db adds its children)"],
  ["level>=error AND NOT logger:app.health*", "AND, OR, NOT"],
  ["(timeout OR refused) AND data.shard=3", "parentheses group"],
]

/** The search form: the whole page state. Submitting swaps only the results and pushes the URL. */
export function searchForm(s: SearchState): Html {
  const isoOrEmpty = (ms: number) => (s.window === "custom" ? new Date(ms).toISOString() : "")
  return html`<form id="records-search" class="card records-search" action="/ui/records" method="get"
  hx-get="/ui/records" hx-target="#records-results" hx-push-url="true" hx-trigger="submit, change from:#records-level, change from:#records-window, change from:#records-logger" hx-indicator="#records-spinner">
<div class="row">
  <input id="records-q" name="q" type="search" value="${s.q}" placeholder='Search: text, level>=warning, logger:app.db*, data.user_id=42 …' aria-label="Query" autocomplete="off" spellcheck="false" class="mono grow">
  <button type="button" class="help-toggle" popovertarget="records-help" aria-label="Query language help">?</button>
  <button type="submit" class="primary">Search</button>
  <span id="records-spinner" class="spinner htmx-indicator muted small">searching…</span>
</div>
<div class="row small">
  <label>Level <select id="records-level" name="level">${LEVEL_CHOICES.map(
    (l) => html`<option value="${l.value}" ${l.value === s.level ? "selected" : ""}>${l.label}</option>`,
  )}</select></label>
  <label>Logger <input id="records-logger" name="logger" value="${s.logger}" list="records-loggers" placeholder="app.db (and children) or app.d*" autocomplete="off" class="mono"
    hx-get="/ui/records/loggers" hx-trigger="input changed delay:250ms, focus once" hx-target="#records-loggers" hx-swap="innerHTML"></label>
  <datalist id="records-loggers"></datalist>
  <label>Window <select id="records-window" name="window">${[...Object.keys(WINDOW_PRESETS), "custom"].map(
    (w) =>
      html`<option value="${w}" ${w === s.window ? "selected" : ""}>${w === "custom" ? "custom range" : `last ${w}`}</option>`,
  )}</select></label>
  <label>From <input id="records-from" name="from" value="${isoOrEmpty(s.from)}" placeholder="2026-11-22 09:00" class="mono time-input"></label>
  <label>To <input id="records-to" name="to" value="${isoOrEmpty(s.to)}" placeholder="now" class="mono time-input"></label>
</div>
<div id="records-help" popover class="card records-help">
  <h2>Query language</h2>
  <table class="small">${QUERY_EXAMPLES.map(([q, what]) => html`<tr><td><code>${q}</code></td><td>${what}</td></tr>`)}</table>
  <p class="muted small">Terms side by side mean AND. Fields: <code>level</code>, <code>logger</code>, <code>message</code>, <code>data.*</code>, <code>meta.*</code>, <code>error.*</code>; operators <code>= != &lt; &lt;= &gt; &gt;=</code> and <code>:</code> (match, <code>*</code> for a prefix). Custom ranges take ISO 8601 with a zone or epoch ms; a time range entered here switches the window to "custom".</p>
</div>
</form>`
}

/** The link that zooms the current search to [from, to). */
export function zoomHref(s: SearchState, from: number, to: number): string {
  return `/ui/records?${stateQuery(s, { window: "custom", from, to })}`
}

/** A table of name → value (data or meta fields of one record). */
export function fieldTable(fields: Record<string, unknown> | undefined, id: string): Html {
  const entries = Object.entries(fields ?? {}).sort(([a], [b]) => a.localeCompare(b))
  if (entries.length === 0) return html`<p class="muted" id="${id}">none</p>`
  return html`<table class="fields small" id="${id}"><tbody>${entries.map(
    ([k, v]) =>
      html`<tr data-field="${k}"><th class="mono">${k}</th><td><pre class="value">${showValue(v)}</pre></td></tr>`,
  )}</tbody></table>`
}
