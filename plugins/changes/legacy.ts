/**
 * Old UI permalinks (reference §6). The React UI put its state in the query string of `/`; the
 * AngularJS UI in the fragment (`/#hours_ago=4&until=-1&is_dashboard=1`), which never reaches the
 * server. Both map to the same `/ui/changes?…` view: `viewUrlFromLegacy` on the server (claimHome) and
 * LEGACY_SCRIPT in the browser, which applies the very same mapping to `location.hash`.
 */
const LEGACY_KEYS = ["hours_ago", "until", "category", "criticality", "description", "is_dashboard"]

/** Hours (maybe fractional) → a window token the UI understands: `4h`, `90m`. */
function windowOf(hours: string): string | undefined {
  const h = Number(hours)
  if (!Number.isFinite(h) || h <= 0) return undefined
  return Number.isInteger(h) ? `${h}h` : `${Math.max(1, Math.round(h * 60))}m`
}

export function viewUrlFromLegacy(q: URLSearchParams): string | undefined {
  if (!LEGACY_KEYS.some((k) => q.has(k))) return undefined
  const out = new URLSearchParams()
  const w = windowOf(q.get("hours_ago") ?? "1")
  if (w) out.set("window", w)
  const until = q.get("until")
  if (until && until !== "-1" && /^\d+$/.test(until)) out.set("until", until)
  for (const k of ["criticality", "category"]) {
    const v = (q.get(k) ?? "")
      .split(",")
      .filter((x) => x !== "")
      .join(",")
    if (v) out.set(k, v)
  }
  const text = (q.get("description") ?? "").trim()
  if (text) out.set("q", text)
  if (q.get("is_dashboard") === "1") out.set("dashboard", "1")
  return `/ui/changes?${out.toString()}`
}

/** Served as /ui/changes/legacy.js and loaded on every page (plugin `scripts`). Same mapping as above. */
export const LEGACY_SCRIPT = `// Logbook changes: old changelog permalinks (/#hours_ago=…) → /ui/changes?…
;(() => {
  const hash = location.hash.slice(1)
  if (!/(^|&)(hours_ago|until|category|criticality|description|is_dashboard)=/.test(hash)) return
  // jQuery BBQ wrote spaces as "+"; URLSearchParams decodes both that and %2C
  const q = new URLSearchParams(hash)
  const out = new URLSearchParams()
  const h = Number(q.get("hours_ago") ?? "1")
  if (Number.isFinite(h) && h > 0) out.set("window", Number.isInteger(h) ? h + "h" : Math.max(1, Math.round(h * 60)) + "m")
  const until = q.get("until")
  if (until && until !== "-1" && /^\\d+$/.test(until)) out.set("until", until)
  for (const k of ["criticality", "category"]) {
    const v = (q.get(k) ?? "").split(",").filter((x) => x !== "").join(",")
    if (v) out.set(k, v)
  }
  const text = (q.get("description") ?? "").trim()
  if (text) out.set("q", text)
  if (q.get("is_dashboard") === "1") out.set("dashboard", "1")
  location.replace("/ui/changes?" + out.toString())
})()
`
