/**
 * Configuration: every setting is a `LOGBOOK_*` (or SENTRY_DSN) environment variable, declared once
 * with a TypeBox schema, validated at start-up into one frozen object. Plugins declare their own
 * settings the same way (`settings` in their manifest); the host validates them all before anything
 * starts, so a bad value stops the process with a message naming the variable.
 */
import { type Static, type TSchema, Type } from "@sinclair/typebox"
import { Value } from "@sinclair/typebox/value"

export interface Setting<S extends TSchema = TSchema> {
  env: string
  schema: S
  description: string
  /** Redacted when printed. */
  secret?: boolean
  /** Comma-separated list: the raw string is split before validation. */
  list?: boolean
}

export type SettingsSpec = Record<string, Setting>
export type SettingsOf<T extends SettingsSpec> = { readonly [K in keyof T]: Static<T[K]["schema"]> }

export const setting = <S extends TSchema>(schema: S, opts: Omit<Setting<S>, "schema">): Setting<S> => ({
  schema,
  ...opts,
})

export class ConfigError extends Error {}

const ROLES = ["read", "ingest", "admin"] as const

/** Settings of the core. Plugins add theirs through their manifest. */
export const coreSettings = {
  host: setting(Type.String({ default: "127.0.0.1", minLength: 1 }), {
    env: "LOGBOOK_HOST",
    description: "Address to listen on.",
  }),
  port: setting(Type.Integer({ default: 8080, minimum: 0, maximum: 65535 }), {
    env: "LOGBOOK_PORT",
    description: "TCP port to listen on (0 = any free port).",
  }),
  dataDir: setting(Type.String({ default: "./data", minLength: 1 }), {
    env: "LOGBOOK_DATA_DIR",
    description: "Directory for the embedded SQLite database and other state; created if missing.",
  }),
  databaseUrl: setting(Type.String({ default: "", pattern: "^(|postgres(ql)?://.*|sqlite:.*|:memory:)$" }), {
    env: "LOGBOOK_DATABASE_URL",
    description:
      "`postgres://user:pass@host:5432/db` selects PostgreSQL (several instances may share it); empty = SQLite file in the data dir; `:memory:` = throw-away SQLite.",
    secret: true,
  }),
  pluginsDir: setting(Type.String({ default: "./plugins.d" }), {
    env: "LOGBOOK_PLUGINS_DIR",
    description: "Directory of drop-in plugin files (`*.ts`, `*.js`) loaded at start-up.",
  }),
  strictPlugins: setting(Type.Boolean({ default: false }), {
    env: "LOGBOOK_STRICT_PLUGINS",
    description: "`1`: a plugin that fails to load stops start-up instead of being reported and skipped.",
  }),
  maxBodyBytes: setting(Type.Integer({ default: 10 * 1024 * 1024, minimum: 1024 }), {
    env: "LOGBOOK_MAX_BODY_BYTES",
    description: "Largest accepted request body; larger bodies get 413.",
  }),
  corsOrigins: setting(Type.Array(Type.String({ minLength: 1 }), { default: [] }), {
    env: "LOGBOOK_CORS_ORIGINS",
    description:
      "Comma list of origins allowed to call the API from a browser (`*` = any origin, never with credentials).",
    list: true,
  }),
  adminToken: setting(Type.String({ default: "" }), {
    env: "LOGBOOK_ADMIN_TOKEN",
    description: "Bootstrap admin token (use it to create real tokens, then unset it).",
    secret: true,
  }),
  anonymous: setting(Type.Array(Type.Union(ROLES.filter((r) => r !== "admin").map((r) => Type.Literal(r)))), {
    env: "LOGBOOK_ANONYMOUS",
    description:
      "What callers without credentials may do: comma list of `read`, `ingest`, or empty for nothing. Admin always needs a token.",
    list: true,
  }),
  secret: setting(Type.String({ default: "" }), {
    env: "LOGBOOK_SECRET",
    description:
      "Key for signing session cookies. Empty: a random key is generated and kept in the database (shared by instances).",
    secret: true,
  }),
  instanceId: setting(Type.String({ default: "", pattern: "^[A-Za-z0-9_.:-]{0,64}$" }), {
    env: "LOGBOOK_INSTANCE_ID",
    description: "Name of this instance (default: hostname-pid).",
  }),
  logLevel: setting(
    Type.Union(
      ["trace", "debug", "info", "warning", "error", "critical"].map((l) => Type.Literal(l)),
      {
        default: "info",
      },
    ),
    { env: "LOGBOOK_LOG_LEVEL", description: "Level of Logbook's own root logger." },
  ),
  logFormat: setting(Type.Union([Type.Literal("json"), Type.Literal("pretty")], { default: "json" }), {
    env: "LOGBOOK_LOG_FORMAT",
    description: "`json` lines (production) or `pretty` readable lines (development).",
  }),
  writerQueueMax: setting(Type.Integer({ default: 100_000, minimum: 1 }), {
    env: "LOGBOOK_WRITER_QUEUE_MAX",
    description: "Rows the group-commit writer may hold before answering 503 with Retry-After.",
  }),
  shutdownDrainSeconds: setting(Type.Number({ default: 5, minimum: 0, maximum: 600 }), {
    env: "LOGBOOK_SHUTDOWN_DRAIN_SECONDS",
    description:
      "On SIGTERM, report not ready (`/readyz` 503) but keep serving this long before closing, so load balancers stop sending first (0 = close at once). SIGINT and a second signal skip it.",
  }),
  sentryDsn: setting(Type.String({ default: "" }), {
    env: "SENTRY_DSN",
    description: "Sentry DSN; errors are reported only when set.",
    secret: true,
  }),
  sentryEnvironment: setting(Type.String({ default: "production" }), {
    env: "LOGBOOK_SENTRY_ENVIRONMENT",
    description: "Environment name reported to Sentry.",
  }),
} satisfies SettingsSpec

// default for a list must be given outside the Union schema
coreSettings.anonymous.schema.default = ["read", "ingest"]

export type CoreConfig = SettingsOf<typeof coreSettings>

const TRUE = new Set(["1", "true", "yes", "on"])
const FALSE = new Set(["0", "false", "no", "off", ""])

function describeExpected(schema: TSchema): string {
  if (schema.anyOf) return `one of ${schema.anyOf.map((s: TSchema) => JSON.stringify(s.const)).join(", ")}`
  if (schema.type === "array") return `a comma list of ${describeExpected(schema.items as TSchema)}`
  if (schema.type === "integer") {
    const range =
      schema.minimum !== undefined
        ? ` from ${schema.minimum}${schema.maximum !== undefined ? ` to ${schema.maximum}` : ""}`
        : ""
    return `an integer${range}`
  }
  if (schema.type === "number") {
    if (schema.minimum !== undefined && schema.maximum !== undefined)
      return `a number from ${schema.minimum} to ${schema.maximum}`
    return `a number${schema.minimum !== undefined ? ` ≥ ${schema.minimum}` : ""}`
  }
  if (schema.type === "boolean") return "1/0, true/false, yes/no or on/off"
  if (schema.pattern) return `a string matching ${schema.pattern}`
  return schema.minLength ? "a non-empty string" : "a string"
}

function convert(spec: Setting, raw: string): unknown {
  const schema = spec.schema
  if (spec.list)
    return raw
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0)
  if (schema.type === "boolean") {
    const v = raw.trim().toLowerCase()
    if (TRUE.has(v)) return true
    if (FALSE.has(v)) return false
    return raw
  }
  if (schema.type === "integer" || schema.type === "number") {
    const v = raw.trim()
    return v !== "" && Number.isFinite(Number(v)) ? Number(v) : raw
  }
  return raw
}

/**
 * Why a PostgreSQL URL cannot be used, in words that never repeat it (it may hold a password), or
 * undefined. The setting's pattern checks only the scheme; a URL with a bad port or a malformed escape
 * made the driver throw an error quoting the whole URL, password included.
 */
export function databaseUrlProblem(url: string): string | undefined {
  if (!/^postgres(ql)?:\/\//.test(url)) return undefined
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return "not a URL (check the host and the port, and percent-encode special characters in the user and password)"
  }
  try {
    decodeURIComponent(parsed.username)
    decodeURIComponent(parsed.password)
  } catch {
    return "the user or the password holds a malformed percent-escape (%XX)"
  }
  return undefined
}

/** Any `scheme://user:password@` in a text with the password replaced: for errors printed as they are. */
export const withoutUrlPasswords = (text: string) =>
  text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]*@/gi, "$1(redacted)@")

/** Validate every setting of `spec` against `env`. Throws ConfigError naming each bad variable. */
export function readSettings<T extends SettingsSpec>(
  spec: T,
  env: Record<string, string | undefined>,
): SettingsOf<T> {
  const out: Record<string, unknown> = {}
  const problems: string[] = []
  for (const [key, s] of Object.entries(spec)) {
    const raw = env[s.env]
    const value = raw === undefined ? structuredClone(s.schema.default) : convert(s, raw)
    if (value === undefined) {
      problems.push(`${s.env} is required: ${s.description}`)
      continue
    }
    if (!Value.Check(s.schema, value)) {
      const shown = s.secret ? "(redacted)" : JSON.stringify(raw)
      problems.push(`${s.env}=${shown} is not valid: expected ${describeExpected(s.schema)}`)
      continue
    }
    out[key] = Object.freeze(value)
  }
  if (problems.length) throw new ConfigError(problems.join("\n"))
  return Object.freeze(out) as SettingsOf<T>
}

/** A secret with nothing in it: not given, or given empty (a list secret's default is an empty list). */
const unsetSecret = (v: unknown) =>
  v === undefined || v === null || v === "" || (Array.isArray(v) && v.length === 0)

/** The settings as they may be printed: secrets redacted (unset ones as ""), the rest as read. */
export function describeSettings(
  spec: SettingsSpec,
  values: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, s] of Object.entries(spec)) {
    const v = values[key]
    out[s.env] = s.secret ? (unsetSecret(v) ? "" : "(set, redacted)") : v
  }
  return out
}

/** The settings as a Markdown table (README, `logbook settings`): variable, default, meaning. */
export function settingsTable(spec: SettingsSpec): string {
  const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ")
  const shown = (s: Setting) => {
    const d = s.schema.default
    if (d === undefined) return "(required)"
    if (Array.isArray(d)) return d.length ? `\`${d.join(",")}\`` : "(empty)"
    if (d === "") return "(empty)"
    if (typeof d === "boolean") return d ? "`1`" : "`0`"
    return `\`${String(d)}\``
  }
  const rows = Object.values(spec).map(
    (s) =>
      `| \`${s.env}\` | ${shown(s)} | ${cell(s.description)}${s.secret ? " *(secret: redacted when printed)*" : ""} |`,
  )
  return ["| Variable | Default | Meaning |", "| --- | --- | --- |", ...rows].join("\n")
}
