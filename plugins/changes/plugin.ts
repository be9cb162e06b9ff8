/**
 * The changes plugin: what changed in the last hour (prezi/changelog compatible). Wiring only.
 */
import { Type } from "@sinclair/typebox"
import { Elysia } from "elysia"
import { setting } from "../../src/config"
import { definePlugin, type PluginContext } from "../../src/plugin/contract"
import { apiRoutes } from "./api"
import { bodyTooLarge, compatRoutes, eventPoster, overloaded } from "./compat"
import { toNewChange } from "./input"
import { viewUrlFromLegacy } from "./legacy"
import { migrations } from "./schema"
import { type ChangeStore, createChangeStore } from "./service"
import { uiRoutes } from "./ui"
import { SCRIPTS, STYLES } from "./ui-assets"

// one store (and one poster over it) per plugin context (one per app): the context is the key, no global state
const parts = new WeakMap<
  PluginContext,
  { store: ChangeStore; post: (request: Request) => Promise<Response> }
>()
const partsOf = (ctx: PluginContext) => {
  let p = parts.get(ctx)
  if (!p) {
    const store = createChangeStore(ctx.db, ctx.writer)
    p = { store, post: eventPoster(ctx, store) }
    parts.set(ctx, p)
  }
  return p
}
const storeOf = (ctx: PluginContext): ChangeStore => partsOf(ctx).store

export default definePlugin({
  id: "changes",
  title: "Changes",
  description: "Change events (deploys, flag flips, DNS edits…), compatible with prezi/changelog clients.",
  migrations,
  settings: {
    readCache: setting(Type.Boolean({ default: true }), {
      env: "LOGBOOK_CHANGES_READ_CACHE",
      description:
        "Answer repeated reads (GET /api/events, /ui/changes) from a cache valid for one second and until the next write of this instance.",
    }),
  },
  nav: [{ title: "Changes", href: "/ui/changes", order: 10 }],
  widgets: [{ id: "changes", title: "Changes in the last hour", url: "/ui/changes/widget", order: 10 }],
  scripts: SCRIPTS,
  styles: STYLES,
  claimHome: viewUrlFromLegacy,
  setup(ctx) {
    const store = storeOf(ctx)
    ctx.services.provide("changes", {
      async record(input) {
        const r = toNewChange(input, input.source, ctx.now())
        if ("errors" in r)
          throw new Error(
            `change not recorded: ${Object.entries(r.errors)
              .map(([k, v]) => `${k} ${v}`)
              .join("; ")}`,
          )
        await store.record(r.change)
      },
      between: (fromMs, toMs, opts = {}) =>
        store.list({ from: fromMs, to: toMs, minCriticality: opts.minCriticality }, { limit: opts.limit }),
    })
  },
  // what the changelog clients post, answered before the router (their plain case; the rest via routes)
  fastRoutes: (ctx) => ({ "POST /api/events": partsOf(ctx).post, "POST /api/events/": partsOf(ctx).post }),
  // the changelog surface answers an oversized body in its own shape too
  bodyTooLarge: Object.fromEntries(
    ["/api/events", "/api/events/", "/annotations", "/query"].map((path) => [path, bodyTooLarge]),
  ),
  // and a full write queue (503) on the paths that write
  overloaded: { "/api/events": overloaded, "/api/events/": overloaded },
  stop: (ctx) => partsOf(ctx).store.close(),
  routes(ctx) {
    const store = storeOf(ctx)
    return new Elysia({ name: "changes", strictPath: true })
      .use(compatRoutes(ctx, store, { readCache: ctx.settings.readCache, post: partsOf(ctx).post }))
      .use(apiRoutes(ctx, store))
      .use(uiRoutes(ctx, store, { readCache: ctx.settings.readCache }))
  },
})
