/**
 * Plugin "health": runs every registered health check (core, plugins, drop-ins, configured) in parallel
 * with timeouts and caches, keeps state and transitions per instance, and answers in every format load
 * balancers, Kubernetes, monitoring and people expect. Wiring only.
 */
import { definePlugin, type PluginContext } from "../../src/plugin/contract"
import { healthRoutes, probeRoutes } from "./api"
import { migrations } from "./schema"
import { createHealth, type Health } from "./service"
import { settings } from "./settings"
import { healthUi } from "./ui"

const instances = new WeakMap<PluginContext, Health>()
const of = (ctx: PluginContext): Health => {
  const h = instances.get(ctx)
  if (!h) throw new Error("health plugin used before setup")
  return h
}

export default definePlugin({
  id: "health",
  title: "Health",
  description:
    "Health checks in every format (IETF, Kubernetes, panopticon, c2cwsgiutils, Spring) with history.",
  settings,
  migrations,
  nav: [{ title: "Health", href: "/ui/health", order: 40 }],
  widgets: [
    { id: "health", title: "Health", url: "/ui/health/widget", trigger: "load, every 15s", order: 10 },
  ],
  setup(ctx) {
    const h = createHealth(ctx)
    instances.set(ctx, h)
    // SIGTERM: not ready at once, while the server keeps answering through the drain period
    ctx.events.on("server.draining", () => h.runner.drain())
  },
  routes: (ctx) => healthRoutes(of(ctx)).use(healthUi(of(ctx))),
  fastRoutes: (ctx) => probeRoutes(of(ctx)),
  async start(ctx) {
    const h = of(ctx)
    await h.state.load()
    h.runner.start()
  },
  async stop(ctx) {
    const h = of(ctx)
    h.runner.stop()
    await h.state.flush()
    await h.close()
  },
})
