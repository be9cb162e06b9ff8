/**
 * Pages: /ui/levels (logger tree per target with effective level, source and a live countdown; set a
 * level with duration presets and a reason; revoke; profiles; triggers; history; instances applied) and
 * the home widget (active overrides). Forms are plain POSTs with the CSRF token; after a change the
 * browser is redirected back (303) with either the result or the error shown on the page.
 */
import { Elysia, t } from "elysia"
import { ApiError, badRequest } from "../../src/http/errors"
import type { PluginContext } from "../../src/plugin/contract"
import { type Html, html } from "../../views/html"
import { actorOf } from "./api"
// @ts-expect-error a plain browser script imported as a file path, not as a module
import levelsJs from "./levels.js" with { type: "file" }
import type { Winner } from "./precedence"
import type { LevelsRuntime, LoggerView } from "./runtime"

const LEVEL_CHOICES = ["TRACE", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "OFF"]
const BADGE: Record<string, string> = {
  trace: "c1",
  debug: "c2",
  info: "c3",
  warning: "warn",
  error: "fail",
  critical: "fail",
  off: "c5",
}
const PRESETS: Array<[string, string]> = [
  ["PT15M", "15 minutes"],
  ["PT30M", "30 minutes"],
  ["PT1H", "1 hour"],
  ["PT4H", "4 hours"],
  ["until", "until …"],
  ["permanent", "permanent"],
]

const iso = (ms: number) => new Date(ms).toISOString()
const badge = (level: string | null) =>
  level
    ? html`<span class="badge ${BADGE[level] ?? ""}">${level.toUpperCase()}</span>`
    : html`<span class="muted">NOTSET</span>`
const countdown = (until: number | null) =>
  until === null
    ? html`<span class="muted">permanent</span>`
    : html`<time datetime="${iso(until)}" data-countdown title="${iso(until)}">until ${iso(until)}</time>`

export function ui(ctx: PluginContext, rt: LevelsRuntime) {
  const read = ctx.auth.need("read")
  const admin = ctx.auth.need("admin")
  const hide = { detail: { hide: true } }
  const back = (target: string, params: Record<string, string>) =>
    new Response(null, {
      status: 303,
      headers: { location: `/ui/levels?${new URLSearchParams({ target, ...params })}` },
    })
  /** Runs a change; an input error is shown on the page instead of an error page. */
  async function change(target: string, fn: () => Promise<string>): Promise<Response> {
    try {
      return back(target, { done: await fn() })
    } catch (e) {
      if (e instanceof ApiError && e.status < 500) return back(target, { error: e.message })
      throw e
    }
  }

  const csrfField = async (request: Request) =>
    html`<input type="hidden" name="_csrf" value="${await ctx.ui.csrfToken(request)}">`

  function treeRow(l: LoggerView, target: string, csrf: Html, canChange: boolean) {
    const depth = l.name === "root" ? 0 : l.name.split(".").length
    const w: Winner | undefined = l.winner
    const own = l.source === "override" || l.source === "profile"
    return html`<tr data-logger="${l.name}">
  <td style="padding-left:${depth * 1.1 + 0.4}rem"><code>${l.name}</code></td>
  <td data-effective>${badge(l.effective)}</td>
  <td class="small">${l.source}${l.source === "inherited" ? html` from <code>${l.from}</code>` : ""}${
    w && own && w.source === "profile" ? html` <code>${w.profile}</code>` : ""
  }${w && own && w.actor ? html` by ${w.actor}` : ""}${w?.reason && own ? html`<br><span class="muted">${w.reason}</span>` : ""}</td>
  <td class="small">${own && w ? countdown(w.until) : ""}</td>
  <td>${
    canChange && own && w?.source === "override"
      ? html`<form method="post" action="/ui/levels/overrides/${w.id}/revoke" class="inline">${csrf}<input type="hidden" name="target" value="${target}"><button type="submit" class="link" data-revoke="${l.name}">Revoke</button></form>`
      : ""
  }</td>
</tr>`
  }

  async function page(request: Request, query: Record<string, string | undefined>) {
    const principal = await ctx.auth.principal(request)
    const canChange = principal.roles.has("admin") && principal.via === "session"
    const targets = ["logbook", ...rt.targets()]
    const target = query.target && /^[A-Za-z0-9_.-]{1,100}$/.test(query.target) ? query.target : "logbook"
    if (!targets.includes(target)) targets.push(target)
    // History shows the selected target's changes; ?history=all every target's (and profile changes)
    const historyAll = query.history === "all"
    const csrf = await csrfField(request)
    const loggers = rt.loggers(target)
    const [inst, overrides, profiles, triggers, history] = await Promise.all([
      rt.instances(),
      rt.service.listOverrides({ target }),
      rt.service.listProfiles(),
      rt.service.listTriggers(),
      rt.service.history({ limit: 50, ...(historyAll ? {} : { target }) }),
    ])
    const targetName = target === "logbook" ? "Logbook" : target
    const targetHref = `/ui/levels?target=${encodeURIComponent(target)}`
    const body = html`<h1>Levels</h1>
${query.error ? html`<p class="notice error" role="alert">${query.error}</p>` : ""}
${query.done ? html`<p class="notice" role="status">${query.done}</p>` : ""}
<p class="row">
  <span id="instances-applied" class="badge ${inst.applied === inst.total ? "pass" : "warn"}">${inst.applied}/${inst.total} instances applied</span>
  <span class="muted small">configuration version ${inst.version}</span>
</p>
<nav class="row" aria-label="Targets">${targets.map(
      (tg) =>
        html`<a class="chip ${tg === target ? "on" : ""}" href="/ui/levels?target=${encodeURIComponent(tg)}">${tg === "logbook" ? "Logbook" : tg}</a>`,
    )}</nav>
${
  canChange
    ? html`<section class="card">
<h2>Set a level</h2>
<form method="post" action="/ui/levels/overrides" id="set-level" class="row">
  ${csrf}
  <label>Target <input name="target" value="${target}" required size="10"></label>
  <label>Logger <input name="logger" list="logger-names" required placeholder="app.db" size="24"></label>
  <datalist id="logger-names">${loggers.map((l) => html`<option value="${l.name}"></option>`)}</datalist>
  <label>Level <select name="level">${LEVEL_CHOICES.map((l) => html`<option ${l === "DEBUG" ? "selected" : ""}>${l}</option>`)}</select></label>
  <label>For <select name="duration">${PRESETS.map(([v, text]) => html`<option value="${v}" ${v === "PT30M" ? "selected" : ""}>${text}</option>`)}</select></label>
  <label class="until" style="display:none">Until <input type="datetime-local" name="until_local" data-ms="until_ms"></label>
  <input type="hidden" name="until_ms" value="">
  <label>Scope <input name="scope" value="all" size="10"></label>
  <label>Reason <input name="reason" size="30" placeholder="why (shown in the history)"></label>
  <button class="primary" type="submit">Set</button>
</form>
</section>`
    : html`<p class="muted"><a href="/ui/signin?next=/ui/levels">Sign in</a> with an admin token to change levels.</p>`
}
<section class="card">
<h2>Loggers of ${target === "logbook" ? "Logbook" : target}</h2>
<table class="responsive" id="logger-tree">
<thead><tr><th>Logger</th><th>Effective</th><th>Source</th><th>Expires</th><th></th></tr></thead>
<tbody>${loggers.map((l) => treeRow(l, target, csrf, canChange))}</tbody>
</table>
</section>
<section class="card">
<h2>Overrides (active and scheduled)</h2>
${
  overrides.length === 0
    ? html`<p class="muted">None.</p>`
    : html`<table class="responsive" id="overrides"><thead><tr><th>#</th><th>Logger</th><th>Level</th><th>Window</th><th>Scope</th><th>By</th><th></th></tr></thead><tbody>${overrides.map(
        (
          o,
        ) => html`<tr data-override="${o.id}"><td>${o.id}</td><td><code>${o.logger}</code></td><td>${badge(o.level)}</td>
<td class="small">${o.state === "scheduled" ? html`from <time datetime="${iso(o.starts_at)}" data-local>${iso(o.starts_at)}</time> ` : ""}${countdown(o.expires_at)}</td>
<td>${o.scope}</td><td class="small">${o.actor}${o.reason ? html`<br><span class="muted">${o.reason}</span>` : ""}</td>
<td>${canChange ? html`<form method="post" action="/ui/levels/overrides/${o.id}/revoke" class="inline">${csrf}<input type="hidden" name="target" value="${target}"><button type="submit" class="link">Revoke</button></form>` : ""}</td></tr>`,
      )}</tbody></table>`
}
</section>
<section class="card">
<h2>Profiles</h2>
${profiles.length === 0 ? html`<p class="muted">No profiles yet.</p>` : ""}
<ul id="profiles">${profiles.map(
      (
        p,
      ) => html`<li><strong>${p.name}</strong> ${Object.entries(p.levels).map(([k, v]) => html`<code>${k}</code>=${badge(v)} `)}
${p.description ? html`<span class="muted">${p.description}</span>` : ""}
${canChange ? html`<form method="post" action="/ui/levels/profiles/${p.name}/delete" class="inline">${csrf}<input type="hidden" name="target" value="${target}"><button type="submit" class="link">Delete</button></form>` : ""}</li>`,
    )}</ul>
${
  canChange
    ? html`<form method="post" action="/ui/levels/profiles" id="save-profile" class="row">${csrf}<input type="hidden" name="target" value="${target}">
  <label>Name <input name="name" required size="16"></label>
  <label>Levels <textarea name="levels" rows="2" cols="30" required placeholder="app.db=DEBUG&#10;app.http=TRACE"></textarea></label>
  <label>Description <input name="description" size="24"></label>
  <button type="submit">Save profile</button></form>`
    : ""
}
</section>
<section class="card">
<h2>Triggers</h2>
<p class="muted small">A trigger applies a saved profile to a target, once for a while or daily between two times.</p>
${triggers.length === 0 ? html`<p class="muted" id="no-triggers">No triggers yet.</p>` : ""}
<ul id="triggers">${triggers.map(
      (
        tr,
      ) => html`<li>#${tr.id} profile <strong>${tr.profile}</strong> → ${tr.target} (${tr.mode}, ${tr.scope})
${tr.recurrence ? html`daily ${tr.recurrence.from}–${tr.recurrence.to} ${tr.recurrence.tz}` : ""}
${tr.starts_at !== null ? html` from <time datetime="${iso(tr.starts_at)}" data-local>${iso(tr.starts_at)}</time>` : ""}
${tr.ends_at !== null ? html` until <time datetime="${iso(tr.ends_at)}" data-local>${iso(tr.ends_at)}</time>` : ""}
<span class="badge ${tr.active ? "pass" : "c5"}">${tr.active ? "active" : "inactive"}</span>
${
  canChange
    ? html`<form method="post" action="/ui/levels/triggers/${tr.id}/toggle" class="inline">${csrf}<input type="hidden" name="target" value="${target}"><input type="hidden" name="active" value="${tr.active ? "0" : "1"}"><button type="submit" class="link">${tr.active ? "Deactivate" : "Activate"}</button></form>
<form method="post" action="/ui/levels/triggers/${tr.id}/delete" class="inline">${csrf}<input type="hidden" name="target" value="${target}"><button type="submit" class="link">Delete</button></form>`
    : ""
}</li>`,
    )}</ul>
${
  !canChange
    ? html`<p class="muted small" id="triggers-how">Admins add triggers here once <a href="/ui/signin?next=/ui/levels">signed in</a>, or with <code>POST /api/v1/levels/triggers</code> (admin token).</p>`
    : profiles.length === 0
      ? html`<p class="muted small" id="triggers-how">To add a trigger, first <a href="#save-profile">save a profile</a> (above): the trigger then applies it.</p>`
      : html`<form method="post" action="/ui/levels/triggers" id="add-trigger" class="row">${csrf}
  <label>Profile <select name="profile">${profiles.map((p) => html`<option>${p.name}</option>`)}</select></label>
  <label>Target <input name="target" value="${target}" size="10"></label>
  <label>Mode <select name="mode"><option>overlay</option><option>replace</option></select></label>
  <label>Daily from <input name="from" placeholder="22:00" size="5"></label>
  <label>to <input name="to" placeholder="06:00" size="5"></label>
  <label>Time zone <input name="tz" value="UTC" size="14"></label>
  <label>or once for <select name="duration"><option value="">(daily)</option>${PRESETS.filter(([v]) => v !== "until").map(([v, text]) => html`<option value="${v}">${text}</option>`)}</select></label>
  <label>Reason <input name="reason" size="20"></label>
  <button type="submit">Add trigger</button></form>`
}
</section>
<section class="card">
<h2>History</h2>
<nav class="row" aria-label="History of">
  <a class="chip ${historyAll ? "" : "on"}" href="${targetHref}" id="history-target">${targetName}</a>
  <a class="chip ${historyAll ? "on" : ""}" href="${targetHref}&amp;history=all#history" id="history-all">all targets</a>
</nav>
${
  history.length === 0
    ? html`<p class="muted">No changes${historyAll ? "" : html` for ${targetName}`} yet.</p>`
    : historyAll
      ? ""
      : html`<p class="muted small">Profile changes belong to no target: they are under "all targets".</p>`
}
<ul id="history" class="small">${history.map(
      (h) =>
        html`<li data-target="${h.target}"><time datetime="${iso(h.at)}" data-local>${iso(h.at)}</time> ${historyAll && h.target !== "-" ? html`<span class="chip">${h.target === "logbook" ? "Logbook" : h.target}</span> ` : ""}<span class="badge">${h.action}</span> ${h.description}</li>`,
    )}</ul>
</section>`
    return ctx.ui.page(request, { title: "Levels", body, active: "/ui/levels" })
  }

  const form = t.Record(t.String(), t.String())
  const opts = { beforeHandle: admin, body: form, ...hide }

  return new Elysia({ name: "levels.ui" })
    .get(
      "/ui/levels/levels.js",
      () =>
        new Response(Bun.file(levelsJs), {
          headers: {
            "content-type": "text/javascript; charset=utf-8",
            "cache-control": "public, max-age=300",
          },
        }),
      hide,
    )
    .get("/ui/levels", ({ request, query }) => page(request, query as Record<string, string | undefined>), {
      beforeHandle: read,
      ...hide,
    })
    .get(
      "/ui/levels/widget",
      async () => {
        const list = await rt.service.listOverrides()
        return ctx.ui.fragment(
          list.length === 0
            ? html`<p class="muted">No level overrides: every logger runs at its configured level.</p>`
            : html`<ul class="levels-widget">${list.map(
                (o) =>
                  html`<li>${o.target === "logbook" ? "" : html`<span class="chip">${o.target}</span> `}<code>${o.logger}</code> ${badge(o.level)} ${countdown(o.expires_at)} <span class="muted small">by ${o.actor}</span></li>`,
              )}</ul><p><a href="/ui/levels">Levels →</a></p>`,
        )
      },
      { beforeHandle: read, ...hide },
    )
    .post(
      "/ui/levels/overrides",
      async ({ request, body }) =>
        change(body.target ?? "logbook", async () => {
          const duration = body.duration ?? "PT30M"
          const o = await rt.service.createOverride(
            {
              target: body.target,
              logger: body.logger,
              level: body.level,
              scope: body.scope,
              reason: body.reason,
              ...(duration === "permanent"
                ? { permanent: true }
                : duration === "until"
                  ? { expires_at: body.until_ms ? Number(body.until_ms) : "" }
                  : { duration }),
            },
            await actorOf(ctx, request),
          )
          return `${o.logger} set to ${o.level.toUpperCase()} (override #${o.id})`
        }),
      opts,
    )
    .post(
      "/ui/levels/overrides/:id/revoke",
      async ({ request, body, params }) =>
        change(body.target ?? "logbook", async () => {
          const o = await rt.service.revokeOverride(
            Number(params.id),
            await actorOf(ctx, request),
            body.reason,
          )
          return `override #${o.id} on ${o.logger} revoked`
        }),
      opts,
    )
    .post(
      "/ui/levels/profiles",
      async ({ request, body }) =>
        change(body.target ?? "logbook", async () => {
          const levels: Record<string, string> = {}
          for (const line of (body.levels ?? "").split(/[\n,]/)) {
            const [k, v] = line.split("=").map((s) => s.trim())
            if (k) levels[k] = v ?? ""
          }
          const p = await rt.service.saveProfile(
            { name: body.name, levels, description: body.description },
            await actorOf(ctx, request),
          )
          return `profile ${p.name} saved`
        }),
      opts,
    )
    .post(
      "/ui/levels/profiles/:name/delete",
      async ({ request, body, params }) =>
        change(body.target ?? "logbook", async () => {
          await rt.service.deleteProfile(params.name, await actorOf(ctx, request))
          return `profile ${params.name} deleted`
        }),
      opts,
    )
    .post(
      "/ui/levels/triggers",
      async ({ request, body }) =>
        change(body.target ?? "logbook", async () => {
          const daily = body.from || body.to
          // "(daily)" without its times is not a silent 30 minutes
          if (!daily && !body.duration)
            throw badRequest(
              "a daily trigger needs its from and to times (HH:MM); or choose how long it lasts",
            )
          const tr = await rt.service.createTrigger(
            {
              profile: body.profile,
              target: body.target,
              mode: body.mode,
              reason: body.reason,
              ...(daily
                ? { recurrence: { every: "daily", from: body.from, to: body.to, tz: body.tz || "UTC" } }
                : body.duration === "permanent"
                  ? { permanent: true }
                  : { duration: body.duration || "PT30M" }),
            },
            await actorOf(ctx, request),
          )
          return `trigger #${tr.id} added`
        }),
      opts,
    )
    .post(
      "/ui/levels/triggers/:id/toggle",
      async ({ request, body, params }) =>
        change(body.target ?? "logbook", async () => {
          await rt.service.setTriggerActive(
            Number(params.id),
            body.active === "1",
            await actorOf(ctx, request),
          )
          return `trigger #${params.id} ${body.active === "1" ? "activated" : "deactivated"}`
        }),
      opts,
    )
    .post(
      "/ui/levels/triggers/:id/delete",
      async ({ request, body, params }) =>
        change(body.target ?? "logbook", async () => {
          await rt.service.deleteTrigger(Number(params.id), await actorOf(ctx, request))
          return `trigger #${params.id} deleted`
        }),
      opts,
    )
}
