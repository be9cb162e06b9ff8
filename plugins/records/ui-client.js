// Records page behaviour htmx attributes cannot express: zoom by click or drag on the histogram (it
// fills the search form's window and submits it, so the URL and the list follow), keeping the custom
// range fields consistent with the window selector, and pause/resume plus a bounded buffer for the
// live tail. Event delegation on document: it keeps working after htmx swaps.
;(() => {
  const TAIL_MAX_ROWS = 500
  const form = () => document.getElementById("records-search")

  // ---- the custom range fields speak the browser's local time ------------------------------------
  // The server takes ISO 8601 with a zone (or epoch ms); people read and type the local times the page
  // shows. So the fields show local "YYYY-MM-DD HH:MM:SS" and a zone-less time typed there is sent as
  // ISO 8601 UTC. Anything else is sent as typed (the server names what it cannot read).
  const LOCAL_TIME = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d(?::\d\d(?:\.\d{1,3})?)?)$/
  // the core's app.js writes local times; milliseconds are added so a range survives the round trip
  const localText = (ms) => {
    const d = new Date(ms)
    const base = window.logbook.local(d)
    return d.getMilliseconds() ? `${base}.${String(d.getMilliseconds()).padStart(3, "0")}` : base
  }
  const isoOf = (text) => {
    const m = LOCAL_TIME.exec(text.trim())
    const d = m && new Date(`${m[1]}T${m[2]}`) // no zone: local time
    return d && !Number.isNaN(d.getTime()) ? d.toISOString() : text
  }
  const showLocal = () => {
    for (const id of ["records-from", "records-to"]) {
      const input = document.getElementById(id)
      const ms = input?.value ? Date.parse(input.value) : Number.NaN
      if (input && /(Z|[+-]\d\d:?\d\d)$/i.test(input.value) && !Number.isNaN(ms)) input.value = localText(ms)
      if (input) input.title = "local time (YYYY-MM-DD HH:MM), ISO 8601 with a zone, or epoch ms"
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", showLocal)
  else showLocal()

  /** Submit the search with a custom window [from, to) (epoch ms). */
  const zoomTo = (from, to) => {
    const f = form()
    if (!f) return false
    f.elements.window.value = "custom"
    f.elements.from.value = localText(from)
    f.elements.to.value = localText(to)
    f.requestSubmit()
    return true
  }

  // ---- histogram: click a bar, or drag across bars ------------------------------------------------
  let drag = null
  const timeAt = (svg, clientX) => {
    const box = svg.getBoundingClientRect()
    const from = Number(svg.dataset.from)
    const to = Number(svg.dataset.to)
    const f = Math.min(1, Math.max(0, (clientX - box.left) / box.width))
    return from + f * (to - from)
  }
  // pointer events: mouse, pen and touch alike
  document.addEventListener("pointerdown", (e) => {
    const svg = e.target instanceof Element && e.target.closest("svg.records-histogram")
    if (!svg || e.button !== 0) return
    drag = { svg, x0: e.clientX, moved: false }
    e.preventDefault()
  })
  document.addEventListener("pointermove", (e) => {
    if (!drag) return
    if (Math.abs(e.clientX - drag.x0) > 4) drag.moved = true
    if (!drag.moved) return
    const box = drag.svg.getBoundingClientRect()
    const vb = drag.svg.viewBox.baseVal
    const a = ((Math.min(drag.x0, e.clientX) - box.left) / box.width) * vb.width
    const b = ((Math.max(drag.x0, e.clientX) - box.left) / box.width) * vb.width
    const brush = drag.svg.querySelector("rect.brush")
    brush.setAttribute("x", String(Math.max(0, a)))
    brush.setAttribute("width", String(Math.max(0, Math.min(vb.width, b) - Math.max(0, a))))
  })
  document.addEventListener("pointerup", (e) => {
    if (!drag) return
    const d = drag
    drag = null
    if (!d.moved) return
    const t0 = timeAt(d.svg, Math.min(d.x0, e.clientX))
    const t1 = timeAt(d.svg, Math.max(d.x0, e.clientX))
    // snap outwards to whole buckets so the zoomed bars are the ones brushed
    const step = Number(d.svg.dataset.bucketSeconds) * 1000
    const lo = Math.max(Number(d.svg.dataset.from), Math.floor(t0 / step) * step)
    const hi = Math.min(Number(d.svg.dataset.to), Math.ceil(t1 / step) * step)
    if (hi > lo) zoomTo(lo, hi)
  })
  document.addEventListener("click", (e) => {
    const bar = e.target instanceof Element && e.target.closest("svg.records-histogram a.bar")
    if (!bar) return
    if (zoomTo(Number(bar.dataset.from), Number(bar.dataset.to))) e.preventDefault()
  })

  // Empty fields stay out of the URL, so permalinks read like "?q=timeout&window=4h".
  document.addEventListener("htmx:config:request", (e) => {
    const ctx = e.detail.ctx
    if (ctx.sourceElement?.id !== "records-search" || !(ctx.request.body instanceof FormData)) return
    for (const [k, v] of [...ctx.request.body.entries()])
      if (v === "") ctx.request.body.delete(k)
      else if (k === "from" || k === "to") ctx.request.body.set(k, isoOf(v))
  })

  // ---- the window selector and the custom range fields ------------------------------------------
  document.addEventListener("input", (e) => {
    const t = e.target
    if (!(t instanceof HTMLInputElement) || (t.id !== "records-from" && t.id !== "records-to")) return
    form().elements.window.value = "custom"
  })
  document.addEventListener(
    "change",
    (e) => {
      const t = e.target
      if (!(t instanceof HTMLSelectElement) || t.id !== "records-window" || t.value === "custom") return
      form().elements.from.value = ""
      form().elements.to.value = ""
    },
    true,
  )

  // ---- live tail: pause/resume, bounded buffer ---------------------------------------------------
  // batches held while paused live on the panel, so a new panel starts empty
  const queueOf = (panel) => {
    if (!panel._queued) panel._queued = []
    return panel._queued
  }
  const tailBody = () => document.getElementById("records-tail-rows")
  const trim = () => {
    const body = tailBody()
    if (!body) return
    // a resumed stream (PostgreSQL) may send again rows the page has: keep the older copy, in its place
    window.logbook.dropRepeats(Array.from(body.rows).reverse())
    // count records only (a "burst skipped" note row is not one); drop from the oldest end
    let records = body.querySelectorAll("tr.record").length
    while (records > TAIL_MAX_ROWS && body.rows.length) {
      if (body.rows[body.rows.length - 1].classList.contains("record")) records--
      body.deleteRow(body.rows.length - 1)
    }
  }
  /** Rows of a batch of the stream (record rows and a "burst skipped" note row alike). */
  const rowsIn = (html) => (html.match(/<tr[\s>]/g) || []).length
  const showQueued = (panel) => {
    const rows = queueOf(panel).reduce((n, batch) => n + batch.rows, 0)
    const label = panel.querySelector(".tail-queued")
    if (!label) return
    label.hidden = rows === 0
    label.textContent = `${rows} row${rows === 1 ? "" : "s"} waiting`
  }
  document.addEventListener("htmx:sse:before:message", (e) => {
    const panel = document.getElementById("records-tail")
    if (panel?.dataset.paused !== "true" || e.detail.message.event) return
    // paused: keep the connection, hold the rows (bounded), show them on resume
    e.detail.cancelled = true
    // bounded in rows, as the list is: the oldest batches go first
    const queued = queueOf(panel)
    const data = e.detail.message.data
    queued.push({ data, rows: rowsIn(data) })
    let rows = queued.reduce((n, batch) => n + batch.rows, 0)
    while (rows > TAIL_MAX_ROWS && queued.length > 1) rows -= queued.shift().rows
    showQueued(panel)
  })
  document.addEventListener("htmx:sse:after:message", trim)
  document.addEventListener("click", (e) => {
    const btn = e.target instanceof Element && e.target.closest("#records-tail .tail-pause")
    if (!btn) return
    const panel = document.getElementById("records-tail")
    const pause = panel.dataset.paused !== "true"
    panel.dataset.paused = String(pause)
    btn.textContent = pause ? "Resume" : "Pause"
    if (!pause) {
      const body = tailBody()
      for (const batch of queueOf(panel).splice(0)) body.insertAdjacentHTML("afterbegin", batch.data)
      trim()
      window.logbook?.localise(body)
      showQueued(panel)
    }
  })
  // ---- histogram tooltips in the viewer's local time (the server writes them in UTC) ---------------
  const localTitles = () => {
    const at = (ms) => localText(Number(ms))
    for (const a of document.querySelectorAll("svg.records-histogram a.bar:not([data-local-title])")) {
      const title = a.querySelector("title")
      if (title)
        title.textContent = title.textContent.replace(
          /^\S+ – \S+?(?=: )/,
          `${at(a.dataset.from)} – ${at(a.dataset.to)}`,
        )
      a.dataset.localTitle = ""
    }
    for (const g of document.querySelectorAll(
      "svg.records-histogram g.change-marker:not([data-local-title])",
    )) {
      const title = g.querySelector("title")
      if (title) title.textContent = title.textContent.replace(/^\S+/, at(g.dataset.timestamp))
      g.dataset.localTitle = ""
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", localTitles)
  else localTitles()
  document.addEventListener("htmx:after:swap", localTitles)

  document.addEventListener("htmx:sse:after:message", () => {
    const body = tailBody()
    if (body) window.logbook?.localise(body)
  })
})()
