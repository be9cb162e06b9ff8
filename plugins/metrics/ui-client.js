// Metrics page: the chart's time axis and its change markers in the viewer's local time, like every
// other page's <time data-local>. The server renders them in UTC and says so ("time (UTC)"), which is
// what a page without JavaScript shows; this rewrites them from their data-t (epoch ms) and names the
// browser's zone instead. Runs on load and after every htmx swap of the page.
;(() => {
  // local times as the core's app.js writes them ("2026-11-22 15:28:30")
  const local = (d) => window.logbook.local(d)
  const day = (d) => local(d).slice(5, 10)
  const localise = () => {
    for (const svg of document.querySelectorAll("svg.metrics-chart")) {
      // HH:MM; a tick on another day than the one before it also shows its MM-DD (as chart.ts in UTC)
      let before = ""
      for (const tick of svg.querySelectorAll("text.x-tick[data-t]")) {
        const d = new Date(Number(tick.dataset.t))
        const hm = local(d).slice(11, 16)
        tick.textContent = before && before !== day(d) ? `${day(d)} ${hm}` : hm
        before = day(d)
      }
      const title = svg.querySelector("text.x-zone")
      if (title) title.textContent = `time (${window.logbook.zone()})`
      for (const marker of svg.querySelectorAll("g.change-marker[data-t]")) {
        const tip = marker.querySelector("title")
        const d = new Date(Number(marker.dataset.t))
        const iso = d.toISOString()
        if (tip?.textContent.startsWith(iso)) tip.textContent = local(d) + tip.textContent.slice(iso.length)
      }
    }
  }
  document.addEventListener("DOMContentLoaded", localise)
  document.addEventListener("htmx:after:swap", localise)
})()
