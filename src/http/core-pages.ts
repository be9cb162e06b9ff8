/**
 * The core's own pages: home (plugin widgets), plugins, sign-in / sign-out.
 */
import { Elysia, t } from "elysia"
import { html } from "../../views/html"
import type { Host } from "../plugin/host"
import { createUi } from "./app"

export function corePages(host: Host) {
  const ui = createUi(host)
  const hide = { detail: { hide: true } }
  // pages need the read role (anonymous has it by default); without it the browser is sent to sign in
  const readable = { ...hide, beforeHandle: host.auth.need("read") }

  return new Elysia({ name: "logbook.core-pages" })
    .get(
      "/",
      async ({ request }) => {
        const url = new URL(request.url)
        if (url.search) {
          const target = host.claimHome(url.searchParams)
          if (target) return new Response(null, { status: 302, headers: { location: target } })
        }
        const widgets = host.widgets()
        const body = html`<h1>What changed, what broke, what is it saying right now?</h1>
<div class="grid">
${widgets.map(
  (w) => html`<section class="card widget" id="widget-${w.id}">
  <h2>${w.title}</h2>
  <div hx-get="${w.url}" hx-trigger="${w.trigger ?? "load, every 30s"}" hx-swap="innerHTML"><span class="muted">Loading…</span></div>
</section>`,
)}
${widgets.length === 0 ? html`<p class="muted">No plugin contributes a dashboard widget yet.</p>` : ""}
</div>`
        return ui.page(request, { title: "Home", body, active: "/" })
      },
      readable,
    )
    .get(
      "/ui/plugins",
      async ({ request }) => {
        const rows = [...host.infos].sort((a, b) => a.id.localeCompare(b.id))
        const checks = host.health.list()
        // why a plugin failed: the first line for everyone, the stack (file paths) for admins only
        const admin = (await host.auth.principal(request)).roles.has("admin")
        const why = (error: string) => (admin ? error : error.split("\n")[0])
        const body = html`<h1>Plugins</h1>
<table class="responsive" id="plugins">
<thead><tr><th>Plugin</th><th>Source</th><th>Status</th><th>Routes</th><th>Checks</th></tr></thead>
<tbody>
${rows.map(
  (p) => html`<tr data-plugin="${p.id}">
  <td><strong>${p.title}</strong><br><code class="muted">${p.id}</code></td>
  <td>${p.source}</td>
  <td><span class="badge ${p.status === "started" ? "pass" : "fail"}">${p.status}</span>${p.error ? html`<pre class="error small">${why(p.error)}</pre>` : ""}</td>
  <td class="small">${p.routes.length ? html`<details><summary>${p.routes.length} routes</summary><ul>${p.routes.map((r) => html`<li><code>${r}</code></li>`)}</ul></details>` : html`<span class="muted">none</span>`}</td>
  <td class="small">${checks.filter((c) => c.source === p.id).map((c) => html`<code>${c.name}</code> `)}</td>
</tr>`,
)}
</tbody></table>
<h2 style="margin-top:1.5rem">Health checks by source</h2>
<ul>${checks.map((c) => html`<li><code>${c.name}</code> <span class="muted">from ${c.source}</span></li>`)}</ul>`
        return ui.page(request, { title: "Plugins", body, active: "/ui/plugins" })
      },
      readable,
    )
    .get(
      "/ui/signin",
      async ({ request }) => {
        const p = await host.auth.principal(request)
        const next = safeNext(new URL(request.url).searchParams.get("next"))
        return ui.page(request, {
          title: "Sign in",
          body: signInForm(next, p.via === "session" ? p.name : undefined),
        })
      },
      hide,
    )
    .post(
      "/ui/signin",
      async ({ request, body }) => {
        const next = safeNext(body.next)
        const r = await host.auth.signIn(body.token)
        if (!r)
          return ui.page(request, {
            title: "Sign in",
            status: 401,
            // a 401 always names a scheme (RFC 9110); Bearer makes no browser ask for a password
            headers: { "www-authenticate": 'Bearer realm="logbook"' },
            body: signInForm(next, undefined, "That token is not valid (unknown or revoked)."),
          })
        // behind a TLS-terminating proxy the request itself is http: its X-Forwarded-Proto may be trusted
        // for this, because a spoofed "https" only makes the cookie stricter
        const secure =
          new URL(request.url).protocol === "https:" ||
          request.headers.get("x-forwarded-proto")?.split(",")[0].trim() === "https"
        return new Response(null, {
          status: 303,
          headers: { location: next, "set-cookie": host.auth.sessionCookie(r.cookie, secure) },
        })
      },
      { ...hide, body: t.Object({ token: t.String({ maxLength: 512 }), next: t.Optional(t.String()) }) },
    )
    .post(
      "/ui/signout",
      async ({ request, body }) => {
        if (!(await host.auth.checkCsrf(request, (body as Record<string, unknown> | undefined)?._csrf)))
          return new Response("CSRF token missing or wrong", { status: 403 })
        return new Response(null, {
          status: 303,
          headers: { location: "/", "set-cookie": host.auth.clearCookie() },
        })
      },
      hide,
    )
}

/** Only same-site paths: never an open redirect. */
function safeNext(next: string | null | undefined): string {
  return next && /^\/(?![/\\])/.test(next) ? next : "/"
}

function signInForm(next: string, current?: string, error?: string) {
  return html`<h1>Sign in</h1>
<div class="card" style="max-width:32rem">
${current ? html`<p>Signed in as <strong>${current}</strong>.</p>` : ""}
${error ? html`<p class="notice error" role="alert">${error}</p>` : ""}
<form method="post" action="/ui/signin">
  <input type="hidden" name="next" value="${next}">
  <p><label for="token">API token</label></p>
  <p><input id="token" name="token" type="password" autocomplete="current-password" required style="width:100%"></p>
  <p><button class="primary" type="submit">Sign in</button></p>
  <p class="muted small">Create a token with <code>logbook token create --name you --role admin</code>. The session cookie is HttpOnly and SameSite=Strict.</p>
</form>
</div>`
}
