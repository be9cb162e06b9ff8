/** The health plugin's settings (LOGBOOK_HEALTH_*). */
import { Type } from "@sinclair/typebox"
import { setting } from "../../src/config"

export const settings = {
  failureThreshold: setting(Type.Integer({ default: 1, minimum: 1 }), {
    env: "LOGBOOK_HEALTH_FAILURE_THRESHOLD",
    description: "Consecutive worse results needed before a check's status changes (damps flapping).",
  }),
  successThreshold: setting(Type.Integer({ default: 1, minimum: 1 }), {
    env: "LOGBOOK_HEALTH_SUCCESS_THRESHOLD",
    description: "Consecutive better results needed before a failing check counts as recovered.",
  }),
  defaultCacheTtlMs: setting(Type.Integer({ default: 0, minimum: 0 }), {
    env: "LOGBOOK_HEALTH_DEFAULT_CACHE_TTL_MS",
    description:
      "Result cache for checks that set no `cacheTtlMs` (0 = run on every request). Raise it when load balancers probe often and the checks are costly.",
  }),
  showDetails: setting(
    Type.Union([Type.Literal("always"), Type.Literal("authenticated"), Type.Literal("never")], {
      default: "authenticated",
    }),
    {
      env: "LOGBOOK_HEALTH_SHOW_DETAILS",
      description:
        "Who sees check messages and extra fields in health responses: `always`, `authenticated` (callers with a token or session) or `never` (admins only). Stack traces are for admins only. Transitions on the change timeline (readable with the read role) carry the message only with `always`.",
    },
  ),
  webhookUrl: setting(Type.String({ default: "", pattern: "^(|https?://.*)$" }), {
    env: "LOGBOOK_HEALTH_WEBHOOK_URL",
    description: "POST a JSON notice here when a check goes down (fail) or is restored.",
    secret: true,
  }),
  webhookDedupeSeconds: setting(Type.Integer({ default: 300, minimum: 0 }), {
    env: "LOGBOOK_HEALTH_WEBHOOK_DEDUPE_SECONDS",
    description: "The same notice (check + down/restored) is not sent again within this window.",
  }),
  checks: setting(Type.String({ default: "" }), {
    env: "LOGBOOK_HEALTH_CHECKS",
    description:
      'Configured checks as a JSON array, e.g. `[{"name":"api","type":"http","url":"http://127.0.0.1:9000/ping"}]` (types http, tcp, postgres, redis).',
    secret: true,
  }),
  checksFile: setting(Type.String({ default: "" }), {
    env: "LOGBOOK_HEALTH_CHECKS_FILE",
    description: 'A JSON file with configured checks (same array, or `{"checks": [...]}`).',
  }),
  serviceId: setting(Type.String({ default: "logbook", minLength: 1 }), {
    env: "LOGBOOK_HEALTH_SERVICE_ID",
    description: "`serviceId` in /health (IETF health+json).",
  }),
}
