/** Plugin "records": Python log records in (Chronologer-compatible and native API), search and browse out. */
import { Elysia } from "elysia"
import { definePlugin } from "../../src/plugin/contract"
import { recordsApi } from "./api"
import { bodyTooLarge, compatRoutes, overloaded, recordPoster } from "./compat"
import { recordsChecks, retentionJob } from "./retention"
import { migrations } from "./schema"
import { recordsSettings } from "./settings"
import { tailWake } from "./tail-wake"
import { recordsUi } from "./ui"

export default definePlugin({
  id: "records",
  title: "Records",
  description: "Log records from Python's logging.handlers.HTTPHandler (Chronologer-compatible), searchable.",
  settings: recordsSettings,
  migrations,
  nav: [{ title: "Records", href: "/ui/records", order: 20 }],
  widgets: [{ id: "records", title: "Records", url: "/ui/records/widget", order: 20 }],
  // what HTTPHandler posts, answered before the router in its plain case (the rest via routes, same function)
  fastRoutes: (ctx) => ({ "POST /api/v1/record": recordPoster(ctx) }),
  // the Chronologer surface keeps its error shape for bodies over the limit (the native API has the core's)
  bodyTooLarge: { "/api/v1/record": bodyTooLarge },
  // and for a full write queue (503)
  overloaded: { "/api/v1/record": overloaded },
  routes: (ctx) => new Elysia().use(compatRoutes(ctx)).use(recordsApi(ctx)).use(recordsUi(ctx)),
  jobs: (ctx) => [retentionJob(ctx)],
  checks: (ctx) => recordsChecks(ctx),
  // from the start, so other instances' live tails hear of this one's records before any tail opens here
  start(ctx) {
    tailWake(ctx)
  },
  stop: (ctx) => tailWake(ctx).stop(),
})
