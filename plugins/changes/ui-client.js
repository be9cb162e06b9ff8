// Logbook changes page: window presets, custom range, category chips, timeline brushing. Every
// control writes the form's hidden inputs and submits the form; htmx fetches the results and pushes
// the URL, so the query string always holds the whole view.
;(() => {
  const form = () => document.getElementById("changes-filters")
  /** [date, time] in the viewer's time zone: ["2026-11-22", "15:28:30"] (the core's app.js writes them). */
  const localParts = (ms) => window.logbook.local(new Date(ms)).split(" ")
  const localInput = (sec) => localParts(sec * 1000).join("T")
  const zone = window.logbook.zone()
  // the timeline's tooltips (written in UTC by the server) in the time zone of the axis and the rows
  const localTips = () => {
    for (const t of document.querySelectorAll("#changes-timeline title[data-start]")) {
      const [d1, t1] = localParts(Number(t.dataset.start))
      const [d2, t2] = localParts(Number(t.dataset.end))
      const range = `${d1} ${t1} to ${d1 === d2 ? t2 : `${d2} ${t2}`}`
      t.textContent = `${t.dataset.what} from ${range} (${zone}): ${t.dataset.counts}`
    }
  }
  const PRESETS = ["15m", "1h", "4h", "24h", "7d", "30d"]

  // a custom window as the URL writes it (90m, 1.5h, 2d), also from "90 min", "1.5 hours", "2 days";
  // undefined when it is none (the server's parseWindow: up to 6 digits and 3 decimals, > 0, ≤ 400 days)
  const UNIT_MINUTES = {
    ...{ m: 1, min: 1, mins: 1, minute: 1, minutes: 1 },
    ...{ h: 60, hr: 60, hrs: 60, hour: 60, hours: 60 },
    ...{ d: 1440, day: 1440, days: 1440 },
  }
  const windowOf = (text) => {
    const m = /^(\d{1,6}(?:\.\d{1,3})?)\s*([a-z]+)$/i.exec(text.trim())
    const unit = m?.[2].toLowerCase()
    if (!m || !Object.hasOwn(UNIT_MINUTES, unit)) return undefined
    const minutes = Number(m[1]) * UNIT_MINUTES[unit]
    return minutes > 0 && minutes <= 400 * 1440 ? `${m[1]}${unit[0]}` : undefined
  }
  /** Inline feedback next to the custom window input ("" clears it). */
  const windowError = (message) => {
    const input = document.getElementById("changes-window-custom")
    const error = document.getElementById("changes-window-error")
    if (!input || !error) return
    error.textContent = message
    error.hidden = !message
    if (message) input.setAttribute("aria-invalid", "true")
    else input.removeAttribute("aria-invalid")
  }

  // visible controls follow the hidden state
  const sync = () => {
    const f = form()
    if (!f) return
    const w = f.elements.window.value
    const until = f.elements.until.value
    for (const b of f.querySelectorAll("[data-window]")) b.classList.toggle("on", b.dataset.window === w)
    const custom = document.getElementById("changes-window-custom")
    if (custom && document.activeElement !== custom) {
      custom.value = PRESETS.includes(w) ? "" : w
      windowError("")
    }
    const local = document.getElementById("changes-until-local")
    if (local && document.activeElement !== local) local.value = until ? localInput(Number(until)) : ""
    const now = f.querySelector("[data-now]")
    if (now) now.hidden = !until
  }

  const submit = () => {
    sync()
    form()?.requestSubmit()
  }

  document.addEventListener(
    "change",
    (e) => {
      const f = form()
      const t = e.target
      if (!f || !(t instanceof HTMLInputElement)) return
      if (t.id === "changes-window-custom") {
        const text = t.value.trim()
        const w = windowOf(text)
        windowError(
          w || !text
            ? ""
            : `"${text}" is not a window: a number and a unit, e.g. 90m, 6h, 2d (at most 400 days)`,
        )
        if (w) f.elements.window.value = w
        else e.stopPropagation() // nothing to fetch: the view stays as it is
      } else if (t.id === "changes-until-local") {
        const ms = t.value ? new Date(t.value).getTime() : Number.NaN
        f.elements.until.value = Number.isNaN(ms) ? "" : String(Math.floor(ms / 1000))
      }
    },
    true, // capture: the hidden inputs are set before htmx reads the form on the bubbling change
  )

  // typing a custom window fetches nothing (the form's `input` trigger is for the text filters); the
  // feedback waits for the change
  document.addEventListener(
    "input",
    (e) => {
      if (e.target instanceof HTMLInputElement && e.target.id === "changes-window-custom") {
        e.stopPropagation()
        windowError("")
      }
    },
    true,
  )

  document.addEventListener("click", (e) => {
    const f = form()
    const t = e.target instanceof Element ? e.target.closest("button") : null
    if (!f || !t) return
    if (t.dataset.window) {
      f.elements.window.value = t.dataset.window
      f.elements.until.value = ""
      submit()
    } else if (t.hasAttribute("data-now")) {
      f.elements.until.value = ""
      submit()
    } else if (t.hasAttribute("data-category-all")) {
      f.elements.category.value = ""
      submit()
    } else if (t.dataset.category !== undefined) {
      const name = t.dataset.category
      let list = f.elements.category.value.split(",").filter((x) => x !== "")
      if (e.shiftKey || e.altKey) list = [name]
      else if (list.includes(name)) list = list.filter((x) => x !== name)
      else list.push(name)
      f.elements.category.value = list.join(",")
      submit()
    }
  })

  // timeline: drag to select a range, click to zoom into one bar
  let brush = null
  const fraction = (svg, clientX) => {
    const r = svg.getBoundingClientRect()
    return Math.min(1, Math.max(0, (clientX - r.left) / r.width))
  }
  document.addEventListener("pointerdown", (e) => {
    const svg = e.target instanceof Element ? e.target.closest("#changes-timeline") : null
    if (!svg) return
    brush = { svg, start: fraction(svg, e.clientX) }
    svg.setPointerCapture?.(e.pointerId)
    e.preventDefault()
  })
  document.addEventListener("pointermove", (e) => {
    if (!brush) return
    const f = fraction(brush.svg, e.clientX)
    const rect = brush.svg.querySelector(".brush")
    const a = Math.min(f, brush.start)
    rect.setAttribute("x", String(a * 1000))
    rect.setAttribute("width", String(Math.abs(f - brush.start) * 1000))
  })
  document.addEventListener("pointerup", (e) => {
    if (!brush) return
    const { svg, start } = brush
    brush = null
    const f = form()
    if (!f) return
    const end = fraction(svg, e.clientX)
    const from = Number(svg.dataset.from)
    const to = Number(svg.dataset.to)
    const buckets = Number(svg.dataset.buckets)
    let a = Math.min(start, end)
    let b = Math.max(start, end)
    if (b - a < 0.004) {
      const i = Math.min(buckets - 1, Math.floor(a * buckets))
      a = i / buckets
      b = (i + 1) / buckets
    }
    const startMs = from + a * (to - from)
    const endMs = from + b * (to - from)
    f.elements.window.value = `${Math.max(1, Math.round((endMs - startMs) / 60000))}m`
    f.elements.until.value = String(Math.ceil(endMs / 1000))
    submit()
  })

  // live rows (SSE, newest on top): a row the list already shows is dropped, keeping the older copy (a feed
  // started before this page may deliver a row the page was rendered with); the summary counts the rest
  document.addEventListener("htmx:sse:after:message", () => {
    const live = document.getElementById("changes-live")
    const count = document.getElementById("changes-count")
    if (!live || !count) return
    const shown = new Set(
      Array.from(document.querySelectorAll("#changes-rows tr.change"), (r) => r.dataset.id),
    )
    window.logbook.dropRepeats(Array.from(live.querySelectorAll("tr.change")).reverse(), shown)
    const n = Number(count.dataset.total) + live.querySelectorAll("tr.change").length
    count.textContent = `${n} ${n === 1 ? "change" : "changes"}`
    if (n) document.getElementById("changes-empty")?.remove()
  })

  for (const event of ["DOMContentLoaded", "htmx:after:swap"]) {
    document.addEventListener(event, sync)
    document.addEventListener(event, localTips)
  }
})()
