/**
 * The page shell: head with the app's own CSS/JS (htmx served by Logbook, nothing from other hosts),
 * navigation assembled from the plugins, who is signed in, light/dark theme, and the CSRF token that
 * htmx sends with every request (`hx-headers:inherited` on <body>).
 */
import type { NavEntry, Principal } from "../src/plugin/contract"
import { type Html, html, jsonForHtml } from "./html"

export interface LayoutInput {
  title: string
  body: Html
  nav: readonly NavEntry[]
  active?: string
  principal: Principal
  csrfToken: string
  scripts: readonly string[]
  styles: readonly string[]
  version: string
}

export function layout(p: LayoutInput): Html {
  const signedIn = p.principal.via === "session"
  const navLinks = p.nav.map(
    (n) =>
      html`<a href="${n.href}" class="${p.active === n.href ? "active" : ""}" ${p.active === n.href ? html`aria-current="page"` : ""}>${n.title}</a>`,
  )
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="csrf-token" content="${p.csrfToken}">
<title>${p.title} · Logbook</title>
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/app.css">
${p.styles.map((s) => html`<link rel="stylesheet" href="${s}">`)}
<script src="/assets/htmx.min.js"></script>
<script src="/assets/ext/hx-sse.min.js"></script>
<script src="/assets/app.js" defer></script>
${p.scripts.map((s) => html`<script src="${s}" defer></script>`)}
</head>
<body hx-headers:inherited='${jsonForHtml({ "X-CSRF-Token": p.csrfToken })}'>
<header class="topbar">
  <a class="brand" href="/">Logbook</a>
  <button class="nav-toggle" type="button" aria-label="Menu" onclick="document.body.classList.toggle('nav-open')">☰</button>
  <nav class="mainnav" aria-label="Main">${navLinks}</nav>
  <div class="who">
    ${
      signedIn
        ? html`<span class="user" title="signed in">${p.principal.name}</span>
      <form method="post" action="/ui/signout" class="inline"><input type="hidden" name="_csrf" value="${p.csrfToken}"><button type="submit" class="link">Sign out</button></form>`
        : html`<a href="/ui/signin">Sign in</a>`
    }
    <button type="button" class="theme-toggle" aria-label="Toggle dark mode" title="Toggle dark mode">◐</button>
  </div>
</header>
<main id="main">
${p.body}
</main>
<footer class="footer">Logbook ${p.version} · <a href="/openapi">API</a> · <a href="/ui/plugins">Plugins</a></footer>
</body>
</html>`
}
