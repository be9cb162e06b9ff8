/**
 * Plugin "levels": change logging levels at run time — time-boxed, on every instance, audited — for
 * Logbook's own loggers and for remote services that poll `/api/v1/levels/desired`. Wiring only.
 */
import { Type } from "@sinclair/typebox"
import { Elysia } from "elysia"
import { setting } from "../../src/config"
import { definePlugin } from "../../src/plugin/contract"
import { api } from "./api"
import { createApplier } from "./apply"
import { compat } from "./compat"
import { createRuntime, type LevelsRuntime } from "./runtime"
import { levelsMigrations } from "./schema"
import { ANNOUNCED_ACTIONS, createLevelsService } from "./service"
import { ui } from "./ui"

const settings = {
  resyncSeconds: setting(Type.Number({ default: 10, minimum: 0.1 }), {
    env: "LOGBOOK_LEVELS_RESYNC_SECONDS",
    description: "Re-read the stored levels this often even without a notification (covers missed NOTIFYs).",
  }),
  sqlitePollMs: setting(Type.Integer({ default: 500, minimum: 50 }), {
    env: "LOGBOOK_LEVELS_SQLITE_POLL_MS",
    description: "SQLite: how often to check `PRAGMA data_version` for changes made by other processes.",
  }),
  instanceSeenSeconds: setting(Type.Number({ default: 30, minimum: 1 }), {
    env: "LOGBOOK_LEVELS_INSTANCE_SEEN_SECONDS",
    description: 'Instances seen within this many seconds count in "N/M instances applied".',
  }),
  maxWaitSeconds: setting(Type.Integer({ default: 25, minimum: 0, maximum: 300 }), {
    env: "LOGBOOK_LEVELS_MAX_WAIT_SECONDS",
    description: "Longest long-poll on /api/v1/levels/desired (keep it below the server's idle timeout).",
  }),
  c2cSecretParam: setting(Type.Boolean({ default: false }), {
    env: "LOGBOOK_LEVELS_C2C_SECRET_PARAM",
    description:
      "`1`: /c2c/logging/level also accepts the admin token as `?secret=` (it ends up in access logs; header X-API-Key is always accepted).",
  }),
}

const runtimes = new WeakMap<object, LevelsRuntime>()

export default definePlugin({
  id: "levels",
  title: "Levels",
  description:
    "Run-time log levels: time-boxed overrides, profiles and schedules, on every instance, audited.",
  after: ["changes"],
  settings,
  migrations: levelsMigrations,
  nav: [{ title: "Levels", href: "/ui/levels", order: 60 }],
  widgets: [
    {
      id: "levels",
      title: "Active log levels",
      url: "/ui/levels/widget",
      trigger: "load, every 30s",
      order: 60,
    },
  ],
  scripts: ["/ui/levels/levels.js"],
  setup(ctx) {
    const rootLevel = ctx.config.logLevel
    const service = createLevelsService({
      db: ctx.db,
      now: ctx.now,
      baseLevel: (target) => (target === "logbook" ? rootLevel : "inherit"),
      async afterChange(note) {
        // expiries and trigger windows are announced from inside a recomputation; nothing to re-read
        if (!ANNOUNCED_ACTIONS.has(note.action)) await runtime.applier.reload()
        try {
          const tags: Record<string, string> = {
            action: note.action,
            target: note.target,
            instance: ctx.instanceId,
          }
          if (note.logger) tags.logger = note.logger
          if (note.before) tags.before = note.before
          if (note.after) tags.after = note.after
          if (note.reason) tags.reason = note.reason
          if (note.refId !== null) tags.ref = String(note.refId)
          await ctx.changes.record({
            category: "log-level",
            description: note.description,
            criticality: note.criticality,
            timestamp: note.at,
            author: note.actor,
            service: note.target === "-" ? "logbook" : note.target,
            tags,
          })
        } catch (e) {
          ctx.log.error("levels: could not record the change on the timeline", { error: e })
        }
      },
    })
    const applier = createApplier({
      ctx,
      service,
      resyncMs: ctx.settings.resyncSeconds * 1000,
      pollMs: ctx.settings.sqlitePollMs,
    })
    const runtime = createRuntime(ctx, service, applier, { ...ctx.settings })
    runtimes.set(ctx, runtime)
    ctx.services.provide("levels", runtime)
  },
  routes(ctx) {
    const rt = runtimes.get(ctx) as LevelsRuntime
    return new Elysia({ name: "levels" }).use(api(ctx, rt)).use(compat(ctx, rt)).use(ui(ctx, rt))
  },
  async start(ctx) {
    await runtimes.get(ctx)?.applier.start()
  },
  async stop(ctx) {
    await runtimes.get(ctx)?.applier.stop()
  },
})
