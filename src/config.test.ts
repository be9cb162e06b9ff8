import { describe, expect, test } from "bun:test"
import { Type } from "@sinclair/typebox"
import {
  ConfigError,
  coreSettings,
  databaseUrlProblem,
  describeSettings,
  readSettings,
  setting,
  withoutUrlPasswords,
} from "./config"

const read = (env: Record<string, string>) => readSettings(coreSettings, env)
const problem = (env: Record<string, string>): string => {
  try {
    read(env)
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError)
    return (e as Error).message
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`)
}

describe("core settings", () => {
  test("defaults when nothing is set", () => {
    const c = read({})
    expect(c.host).toBe("127.0.0.1")
    expect(c.port).toBe(8080)
    expect(c.dataDir).toBe("./data")
    expect(c.databaseUrl).toBe("")
    expect(c.pluginsDir).toBe("./plugins.d")
    expect(c.strictPlugins).toBe(false)
    expect(c.maxBodyBytes).toBe(10 * 1024 * 1024)
    expect(c.corsOrigins).toEqual([])
    expect(c.anonymous).toEqual(["read", "ingest"])
    expect(c.logLevel).toBe("info")
    expect(c.logFormat).toBe("json")
    expect(c.writerQueueMax).toBe(100_000)
    expect(c.shutdownDrainSeconds).toBe(5)
  })

  test("every setting is read from its variable", () => {
    const c = read({
      LOGBOOK_HOST: "0.0.0.0",
      LOGBOOK_PORT: "9000",
      LOGBOOK_DATA_DIR: "/var/lib/logbook",
      LOGBOOK_DATABASE_URL: "postgres://u:p@db:5432/logbook",
      LOGBOOK_PLUGINS_DIR: "/etc/logbook/plugins.d",
      LOGBOOK_STRICT_PLUGINS: "1",
      LOGBOOK_MAX_BODY_BYTES: "2048",
      LOGBOOK_CORS_ORIGINS: "https://a.example, https://b.example",
      LOGBOOK_ADMIN_TOKEN: "boot",
      LOGBOOK_ANONYMOUS: "read",
      LOGBOOK_SECRET: "s3",
      LOGBOOK_INSTANCE_ID: "web-1",
      LOGBOOK_LOG_LEVEL: "debug",
      LOGBOOK_LOG_FORMAT: "pretty",
      LOGBOOK_WRITER_QUEUE_MAX: "10",
      LOGBOOK_SHUTDOWN_DRAIN_SECONDS: "2.5",
      SENTRY_DSN: "http://k@127.0.0.1:1/1",
      LOGBOOK_SENTRY_ENVIRONMENT: "staging",
    })
    expect(c).toEqual({
      host: "0.0.0.0",
      port: 9000,
      dataDir: "/var/lib/logbook",
      databaseUrl: "postgres://u:p@db:5432/logbook",
      pluginsDir: "/etc/logbook/plugins.d",
      strictPlugins: true,
      maxBodyBytes: 2048,
      corsOrigins: ["https://a.example", "https://b.example"],
      adminToken: "boot",
      anonymous: ["read"],
      secret: "s3",
      instanceId: "web-1",
      logLevel: "debug",
      logFormat: "pretty",
      writerQueueMax: 10,
      shutdownDrainSeconds: 2.5,
      sentryDsn: "http://k@127.0.0.1:1/1",
      sentryEnvironment: "staging",
    })
    // every declared setting was covered above
    expect(Object.keys(c).sort()).toEqual(Object.keys(coreSettings).sort())
  })

  test("LOGBOOK_ANONYMOUS empty means nothing; admin is never anonymous", () => {
    expect(read({ LOGBOOK_ANONYMOUS: "" }).anonymous).toEqual([])
    expect(read({ LOGBOOK_ANONYMOUS: " read , ingest " }).anonymous).toEqual(["read", "ingest"])
    const m = problem({ LOGBOOK_ANONYMOUS: "read,admin" })
    expect(m).toContain("LOGBOOK_ANONYMOUS")
    expect(m).toContain('"read", "ingest"')
  })

  test.each([
    ["LOGBOOK_PORT", "abc", "an integer from 0 to 65535"],
    ["LOGBOOK_PORT", "70000", "an integer from 0 to 65535"],
    ["LOGBOOK_PORT", "1.5", "an integer"],
    ["LOGBOOK_HOST", "", "a non-empty string"],
    ["LOGBOOK_DATA_DIR", "", "a non-empty string"],
    ["LOGBOOK_DATABASE_URL", "mysql://x", "a string matching"],
    ["LOGBOOK_STRICT_PLUGINS", "maybe", "1/0, true/false"],
    ["LOGBOOK_MAX_BODY_BYTES", "10", "an integer from 1024"],
    ["LOGBOOK_ANONYMOUS", "write", "a comma list of one of"],
    ["LOGBOOK_INSTANCE_ID", "has space", "a string matching"],
    ["LOGBOOK_LOG_LEVEL", "verbose", 'one of "trace", "debug", "info", "warning", "error", "critical"'],
    ["LOGBOOK_LOG_FORMAT", "xml", 'one of "json", "pretty"'],
    ["LOGBOOK_WRITER_QUEUE_MAX", "0", "an integer from 1"],
    ["LOGBOOK_SHUTDOWN_DRAIN_SECONDS", "-1", "a number from 0 to 600"],
    ["LOGBOOK_SHUTDOWN_DRAIN_SECONDS", "soon", "a number from 0 to 600"],
  ])("%s=%p is refused, naming the variable and what is allowed", (name, value, allowed) => {
    const m = problem({ [name]: value })
    expect(m).toContain(name)
    expect(m).toContain(allowed)
  })

  test("several problems are reported together", () => {
    const m = problem({ LOGBOOK_PORT: "x", LOGBOOK_LOG_FORMAT: "xml" })
    expect(m.split("\n")).toHaveLength(2)
  })

  test("a bad secret value is never echoed", () => {
    const m = problem({ LOGBOOK_DATABASE_URL: "mysql://user:hunter2@db/x" })
    expect(m).toContain("LOGBOOK_DATABASE_URL")
    expect(m).not.toContain("hunter2")
  })

  test("booleans accept the usual spellings", () => {
    for (const v of ["1", "true", "YES", "on"])
      expect(read({ LOGBOOK_STRICT_PLUGINS: v }).strictPlugins).toBe(true)
    for (const v of ["0", "false", "no", "off", ""])
      expect(read({ LOGBOOK_STRICT_PLUGINS: v }).strictPlugins).toBe(false)
  })

  test("the result is frozen, lists included", () => {
    const c = read({ LOGBOOK_CORS_ORIGINS: "https://a.example" })
    expect(Object.isFrozen(c)).toBe(true)
    expect(Object.isFrozen(c.corsOrigins)).toBe(true)
    expect(() => {
      ;(c as { port: number }).port = 1
    }).toThrow()
    expect(() => (c.corsOrigins as string[]).push("x")).toThrow()
  })

  test("defaults are not shared between reads", () => {
    const a = read({})
    const b = read({})
    expect(a.anonymous).not.toBe(b.anonymous)
  })

  test("describeSettings redacts every secret and keeps the rest", () => {
    const env = {
      LOGBOOK_ADMIN_TOKEN: "admin-secret-1",
      LOGBOOK_DATABASE_URL: "postgres://u:dbpass@db/x",
      LOGBOOK_SECRET: "cookie-key",
      SENTRY_DSN: "http://sentrykey@127.0.0.1:1/1",
      LOGBOOK_PORT: "9001",
    }
    const shown = describeSettings(coreSettings, read(env) as unknown as Record<string, unknown>)
    const text = JSON.stringify(shown)
    for (const secret of ["admin-secret-1", "dbpass", "cookie-key", "sentrykey"])
      expect(text).not.toContain(secret)
    expect(shown.LOGBOOK_ADMIN_TOKEN).toBe("(set, redacted)")
    expect(shown.LOGBOOK_PORT).toBe(9001)
    const secrets = Object.values(coreSettings)
      .filter((s) => "secret" in s && s.secret)
      .map((s) => s.env)
      .sort()
    expect(secrets).toEqual(["LOGBOOK_ADMIN_TOKEN", "LOGBOOK_DATABASE_URL", "LOGBOOK_SECRET", "SENTRY_DSN"])
  })

  test("describeSettings shows an unset list secret as unset, a set one redacted", () => {
    const spec = {
      users: setting(Type.Array(Type.String(), { default: [] }), {
        env: "LOGBOOK_X_USERS",
        description: "user:password pairs",
        list: true,
        secret: true,
      }),
      key: setting(Type.String({ default: "" }), { env: "LOGBOOK_X_KEY", description: "key", secret: true }),
    }
    const unset = describeSettings(spec, readSettings(spec, {}))
    expect(unset).toEqual({ LOGBOOK_X_USERS: "", LOGBOOK_X_KEY: "" })
    expect(describeSettings(spec, readSettings(spec, { LOGBOOK_X_USERS: "" })).LOGBOOK_X_USERS).toBe("")
    const set = describeSettings(spec, readSettings(spec, { LOGBOOK_X_USERS: "logger:,ops:pw-never-shown" }))
    expect(set).toEqual({ LOGBOOK_X_USERS: "(set, redacted)", LOGBOOK_X_KEY: "" })
    expect(JSON.stringify(set)).not.toContain("pw-never-shown")
    expect(JSON.stringify(set)).not.toContain("logger")
  })

  test("plugins declare settings the same way", () => {
    const spec = {
      retentionDays: setting(Type.Number({ default: 30, minimum: 0 }), {
        env: "LOGBOOK_X_RETENTION_DAYS",
        description: "days",
      }),
      hosts: setting(Type.Array(Type.String()), { env: "LOGBOOK_X_HOSTS", description: "hosts", list: true }),
    }
    expect(() => readSettings(spec, {})).toThrow("LOGBOOK_X_HOSTS is required")
    const s = readSettings(spec, { LOGBOOK_X_HOSTS: "a,b", LOGBOOK_X_RETENTION_DAYS: "7.5" })
    expect(s).toEqual({ retentionDays: 7.5, hosts: ["a", "b"] })
    expect(() => readSettings(spec, { LOGBOOK_X_HOSTS: "", LOGBOOK_X_RETENTION_DAYS: "-1" })).toThrow(
      'LOGBOOK_X_RETENTION_DAYS="-1" is not valid: expected a number ≥ 0',
    )
  })
})

describe("database URLs", () => {
  test("a PostgreSQL URL the driver cannot read is a problem named without the URL", () => {
    expect(databaseUrlProblem("postgres://u:pw@127.0.0.1:5432/db")).toBeUndefined()
    expect(databaseUrlProblem("")).toBeUndefined()
    expect(databaseUrlProblem(":memory:")).toBeUndefined()
    expect(databaseUrlProblem("postgres://u:pw@127.0.0.1:notaport/db")).toStartWith("not a URL")
    expect(databaseUrlProblem("postgres://u:p%ZZw@127.0.0.1/db")).toContain("percent-escape")
  })
  test("passwords in URLs quoted by an error are redacted", () => {
    expect(
      withoutUrlPasswords('Invalid URL input: "postgres://postgres:S3cret@host:x/db" and http://a:b@c/'),
    ).toBe('Invalid URL input: "postgres://postgres:(redacted)@host:x/db" and http://a:(redacted)@c/')
    expect(withoutUrlPasswords("postgres://user@host/db")).toBe("postgres://user@host/db")
  })
})
