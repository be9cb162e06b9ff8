// Logbook's small page script: theme toggle, local times, nothing from other hosts.
;(() => {
  const root = document.documentElement
  const saved = localStorage.getItem("logbook-theme")
  if (saved) root.dataset.theme = saved
  document.addEventListener("click", (e) => {
    const t = e.target
    if (!(t instanceof Element) || !t.closest(".theme-toggle")) return
    const dark = root.dataset.theme
      ? root.dataset.theme === "dark"
      : matchMedia("(prefers-color-scheme: dark)").matches
    root.dataset.theme = dark ? "light" : "dark"
    localStorage.setItem("logbook-theme", root.dataset.theme)
  })
  // <time datetime="ISO" data-local> shows the viewer's local time; data-relative shows "5 min ago".
  const rel = (ms) => {
    const s = Math.round((Date.now() - ms) / 1000)
    const a = Math.abs(s)
    const unit =
      a < 60
        ? [a, "s"]
        : a < 3600
          ? [Math.round(a / 60), "min"]
          : a < 86400
            ? [Math.round(a / 3600), "h"]
            : [Math.round(a / 86400), "d"]
    return s >= 0 ? `${unit[0]} ${unit[1]} ago` : `in ${unit[0]} ${unit[1]}`
  }
  const pad = (n) => String(n).padStart(2, "0")
  const local = (d) =>
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  /** The viewer's time zone by name (Europe/Zurich). */
  const zone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "local time"
  const localise = (scope) => {
    for (const el of scope.querySelectorAll("time[data-local]")) {
      const d = new Date(el.getAttribute("datetime"))
      if (Number.isNaN(d.getTime())) continue
      // data-local="time": hours and minutes (axis ticks); "day": with the month and day; else in full
      const format = el.dataset.local
      el.textContent = el.hasAttribute("data-relative")
        ? rel(d.getTime())
        : format === "time"
          ? local(d).slice(11, 16)
          : format === "day"
            ? local(d).slice(5, 16)
            : local(d)
      el.title = `${local(d)} (${zone()}) · ${d.toISOString()}`
    }
  }
  document.addEventListener("DOMContentLoaded", () => localise(document))
  document.addEventListener("htmx:after:swap", () => localise(document))
  setInterval(() => localise(document), 30000)
  /**
   * Live lists (SSE) may be sent a row again: of the rows given oldest first, one whose data-id came
   * before (in `seen` or earlier in the list) is removed, so the older copy stays where it is.
   */
  const dropRepeats = (rowsOldestFirst, seen = new Set()) => {
    for (const row of rowsOldestFirst) {
      const id = row.dataset.id
      if (id === undefined) continue
      if (seen.has(id)) row.remove()
      else seen.add(id)
    }
  }
  // for the plugins' page scripts (loaded after this one)
  window.logbook = { localise, local, zone, dropRepeats }
})()
