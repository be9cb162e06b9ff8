// Levels page helpers: live countdowns for <time data-countdown datetime="ISO">, and the "until …" preset
// (a datetime-local value is converted to epoch ms in the viewer's zone before the form is sent).
;(() => {
  const fmt = (ms) => {
    if (ms <= 0) return "expired"
    let s = Math.floor(ms / 1000)
    const d = Math.floor(s / 86400)
    s %= 86400
    const h = Math.floor(s / 3600)
    s %= 3600
    const m = Math.floor(s / 60)
    s %= 60
    const pad = (n) => String(n).padStart(2, "0")
    return `${d ? `${d}d ` : ""}${d || h ? `${h}h ` : ""}${pad(m)}m ${pad(s)}s left`
  }
  const tick = () => {
    for (const el of document.querySelectorAll("time[data-countdown]")) {
      const left = Date.parse(el.getAttribute("datetime")) - Date.now()
      el.textContent = fmt(left)
      el.classList.toggle("expired", left <= 0)
    }
  }
  setInterval(tick, 1000)
  document.addEventListener("DOMContentLoaded", tick)
  document.addEventListener("htmx:after:swap", tick)
  document.addEventListener("submit", (e) => {
    const form = e.target
    if (!(form instanceof HTMLFormElement)) return
    for (const input of form.querySelectorAll("input[type=datetime-local][data-ms]")) {
      const target = form.querySelector(`input[name="${input.dataset.ms}"]`)
      if (target) target.value = input.value ? String(new Date(input.value).getTime()) : ""
    }
  })
  document.addEventListener("change", (e) => {
    const sel = e.target
    if (!(sel instanceof HTMLSelectElement) || sel.name !== "duration") return
    const until = sel.form?.querySelector(".until")
    if (until) until.style.display = sel.value === "until" ? "" : "none"
  })
})()
