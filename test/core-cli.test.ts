/**
 * The `logbook` command as a process: configuration errors, the printed configuration (secrets
 * redacted), token create/list/revoke against a temp data dir (or PostgreSQL schema), `types`, `migrate`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { readFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { coreSettings } from "../src/config"
import { runLogbook, type Server, spawnEnv, spawnServer } from "./core-spawn"

let env: Record<string, string>
let dir: string
let cleanup: () => Promise<void>
beforeAll(async () => {
  ;({ env, dir, cleanup } = await spawnEnv())
}, 30_000)
afterAll(async () => {
  await cleanup()
}, 30_000)

describe("configuration errors", () => {
  test("LOGBOOK_PORT=abc: exit 2, stderr names the variable and what is allowed", async () => {
    const r = await runLogbook(["serve"], { ...env, LOGBOOK_PORT: "abc" })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("LOGBOOK_PORT")
    expect(r.stderr).toContain("an integer from 0 to 65535")
  })

  test("an invalid secret is named but not echoed", async () => {
    const r = await runLogbook(["serve"], { ...env, LOGBOOK_DATABASE_URL: "mysql://root:hunter2@db/x" })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("LOGBOOK_DATABASE_URL")
    expect(r.stderr + r.stdout).not.toContain("hunter2")
  })

  test("a PostgreSQL URL the driver cannot read is named, its password never printed", async () => {
    for (const url of [
      "postgres://postgres:S3cretPW@127.0.0.1:notaport/x",
      "postgres://postgres:S3c%ZZretPW@127.0.0.1:5432/x",
    ])
      for (const cmd of ["serve", "check", "migrate"]) {
        const r = await runLogbook([cmd], { ...env, LOGBOOK_DATABASE_URL: url })
        expect(r.code).toBe(2)
        expect(r.stderr).toContain("LOGBOOK_DATABASE_URL=(redacted) is not valid")
        expect(r.stderr + r.stdout).not.toContain("S3c")
      }
  })

  test("an argument to a command that takes none is refused, not ignored", async () => {
    for (const cmd of ["serve", "migrate", "check", "settings"]) {
      const r = await runLogbook([cmd, "--port", "9999"], env)
      expect(r.code).toBe(2)
      expect(r.stderr).toContain(`logbook ${cmd} takes no arguments, got "--port 9999"`)
      expect(r.stderr).toContain("LOGBOOK_PORT=9999")
    }
  })

  test("unknown command: exit 2 with usage; --version and --help: exit 0", async () => {
    const bad = await runLogbook(["frobnicate"], env)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("Usage:")
    const version = await runLogbook(["--version"], env)
    expect(version.code).toBe(0)
    expect(version.stdout.trim()).toBe(
      JSON.parse(readFileSync(resolve(import.meta.dir, "../package.json"), "utf8")).version,
    )
    const help = await runLogbook(["--help"], env)
    expect(help.code).toBe(0)
    for (const cmd of ["serve", "migrate", "token create", "token list", "token revoke", "types"])
      expect(help.stdout).toContain(`logbook ${cmd}`)
  })
})

describe("start-up", () => {
  test("prints the configuration with every secret redacted", async () => {
    const secrets = {
      LOGBOOK_ADMIN_TOKEN: "admin-token-never-printed",
      LOGBOOK_SECRET: "cookie-key-never-printed",
      SENTRY_DSN: "http://sentrykeynotprinted@127.0.0.1:9/1",
    }
    const extra: Record<string, string> = { ...secrets }
    let dbPassword = ""
    if (env.LOGBOOK_DATABASE_URL) {
      // trust auth ignores the password, so a made-up one still connects
      dbPassword = "dbpassword-never-printed"
      extra.LOGBOOK_DATABASE_URL = env.LOGBOOK_DATABASE_URL.replace(
        "postgres://postgres@",
        `postgres://postgres:${dbPassword}@`,
      )
    }
    const server = await spawnServer({ ...env, ...extra })
    const code = await server.stop()
    expect(code).toBe(0)
    const out = server.lines.join("\n") + server.stderr()
    const config = server.lines.map((l) => JSON.parse(l)).find((l) => l.msg === "configuration")
    expect(config.settings.LOGBOOK_ADMIN_TOKEN).toBe("(set, redacted)")
    expect(config.settings.SENTRY_DSN).toBe("(set, redacted)")
    expect(config.settings.LOGBOOK_PORT).toBe(0)
    for (const s of [...Object.values(secrets), "sentrykeynotprinted", dbPassword].filter(Boolean))
      expect(out).not.toContain(s)
  })
})

describe("tokens through the CLI", () => {
  let server: Server
  const tokens: Record<string, string> = {}
  const create = async (name: string, role: string) => {
    const r = await runLogbook(["token", "create", "--name", name, "--role", role], env)
    expect(r.code).toBe(0)
    expect(r.stderr).toContain("shown once")
    const token = r.stdout.trim()
    expect(token).toMatch(/^lbk_[A-Za-z0-9_-]{43}$/)
    tokens[name] = token
    return token
  }

  beforeAll(async () => {
    await create("ops", "admin")
    await create("ci", "ingest")
    await create("spare", "admin")
    server = await spawnServer({ ...env, LOGBOOK_ANONYMOUS: "" })
  }, 30_000)
  afterAll(async () => {
    await server?.stop()
  }, 30_000)

  test("bad input is refused with a message", async () => {
    const dup = await runLogbook(["token", "create", "--name", "ops", "--role", "read"], env)
    expect(dup.code).toBe(1)
    expect(dup.stderr).toContain("already exists")
    const role = await runLogbook(["token", "create", "--name", "x", "--role", "root"], env)
    expect(role.code).toBe(1)
    expect(role.stderr).toContain('unknown role "root"')
    const usage = await runLogbook(["token", "create", "--name", "x"], env)
    expect(usage.code).toBe(2)
  })

  test("list shows names and roles, never a secret", async () => {
    const r = await runLogbook(["token", "list"], env)
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("ops\tadmin")
    expect(r.stdout).toContain("ci\tingest")
    for (const t of Object.values(tokens)) expect(r.stdout).not.toContain(t)
  })

  test("the printed token works as Bearer, X-API-Key and Basic password", async () => {
    const t = tokens.ops
    const basic = `Basic ${Buffer.from(`anyone:${t}`).toString("base64")}`
    const variants: Record<string, string>[] = [
      { authorization: `Bearer ${t}` },
      { "x-api-key": t },
      { authorization: basic },
    ]
    for (const headers of variants) {
      const r = await fetch(`${server.url}/api/v1/tokens`, { headers })
      expect(r.status).toBe(200)
      const names = ((await r.json()) as Array<{ name: string }>).map((x) => x.name)
      expect(names).toEqual(["ops", "ci", "spare"])
    }
    // anonymous gets nothing with LOGBOOK_ANONYMOUS empty; a wrong role gets 403
    expect((await fetch(`${server.url}/api/v1/tokens`)).status).toBe(401)
    const ci = await fetch(`${server.url}/api/v1/tokens`, {
      headers: { authorization: `Bearer ${tokens.ci}` },
    })
    expect(ci.status).toBe(403)
    expect(((await ci.json()) as { error: { code: string } }).error.code).toBe("forbidden")
  })

  test("a token revoked by the CLI stops working", async () => {
    const r = await runLogbook(["token", "revoke", "spare"], env)
    expect(r.code).toBe(0)
    const res = await fetch(`${server.url}/api/v1/tokens`, {
      headers: { authorization: `Bearer ${tokens.spare}` },
    })
    expect(res.status).toBe(401)
    const again = await runLogbook(["token", "revoke", "spare"], env)
    expect(again.code).toBe(1)
    const list = await runLogbook(["token", "list"], env)
    expect(list.stdout).toMatch(/spare\tadmin\t\S+\t\d{4}-/)
    // used tokens show when; the never-used one does not
    expect(list.stdout).toMatch(/ops\tadmin\t\S+\t-\t\d{4}-/)
  })

  test("revoking over HTTP on the same instance takes effect at once despite the cache", async () => {
    const h = { authorization: `Bearer ${tokens.ci}` }
    // used (and cached) a moment ago
    expect((await fetch(`${server.url}/api/v1/tokens`, { headers: h })).status).toBe(403)
    const del = await fetch(`${server.url}/api/v1/tokens/ci`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${tokens.ops}` },
    })
    expect(del.status).toBe(200)
    expect((await fetch(`${server.url}/api/v1/tokens`, { headers: h })).status).toBe(401)
  })
})

describe("other commands", () => {
  test("types writes logbook.d.ts, identical to the shipped declarations", async () => {
    const target = join(dir, "types-out")
    const r = await runLogbook(["types", target], env)
    expect(r.code).toBe(0)
    expect(readFileSync(join(target, "logbook.d.ts"), "utf8")).toBe(
      readFileSync(resolve(import.meta.dir, "../src/plugin/logbook.d.ts"), "utf8"),
    )
  })

  test("settings prints every core setting as a Markdown table", async () => {
    const r = await runLogbook(["settings"], env)
    expect(r.code).toBe(0)
    for (const s of Object.values(coreSettings)) expect(r.stdout).toContain(`| \`${s.env}\` |`)
    expect(r.stdout).toContain("| `LOGBOOK_ANONYMOUS` | `read,ingest` |")
  })

  test("built-in plugins are found when started from another directory (no bunfig.toml there)", async () => {
    const r = await runLogbook(["settings"], env, 20_000, dir)
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("### Plugin")
  })

  test("migrate is idempotent", async () => {
    const a = await runLogbook(["migrate"], env)
    expect(a.code).toBe(0)
    const b = await runLogbook(["migrate"], env)
    expect(b.code).toBe(0)
    expect(b.stdout).toContain("up to date")
    expect(b.stdout).not.toContain("migrations applied")
  })
})
