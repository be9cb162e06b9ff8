/**
 * One-shot commands of the `logbook` CLI: migrate, token create|list|revoke, check, types.
 */
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { createToken, listTokens, parseRoles, revokeToken, tokenMigrations } from "./auth/tokens"
import { boot, loadBuiltins, loadConfig } from "./boot"
import { coreSettings, type SettingsSpec, settingsTable } from "./config"
import { openDatabase } from "./db/database"
import { migrate } from "./db/migrate"
import type { CheckOutcome, HealthCheck } from "./plugin/contract"
import { dropInTarget } from "./plugin/dropins"
// @ts-expect-error a declaration file imported as text (embedded in the binary), not as types
import dropInTypes from "./plugin/logbook.d.ts" with { type: "text" }

export async function runCommand(cmd: string, args: string[]): Promise<number> {
  switch (cmd) {
    case "migrate": {
      const { host } = await boot()
      // boot applies every migration (core + plugins) before returning
      console.log(`database ${host.db.dialect} is up to date`)
      await host.stop()
      return 0
    }
    case "token":
      return token(args)
    case "check":
      return check()
    case "settings": {
      console.log(`### Core\n\n${settingsTable(coreSettings)}`)
      for (const { plugin } of await loadBuiltins())
        if (plugin.settings && Object.keys(plugin.settings).length)
          console.log(`\n### Plugin \`${plugin.id}\`\n\n${settingsTable(plugin.settings as SettingsSpec)}`)
      return 0
    }
    case "types": {
      const dir = args[0] ?? dropInTarget(loadConfig().pluginsDir)
      mkdirSync(dir, { recursive: true })
      const path = join(dir, "logbook.d.ts")
      await Bun.write(path, dropInTypes)
      console.log(`wrote ${path}`)
      return 0
    }
  }
  return 2
}

async function token(args: string[]): Promise<number> {
  const [sub, ...rest] = args
  const config = loadConfig()
  const db = openDatabase(config.databaseUrl, config.dataDir)
  try {
    await migrate(db, tokenMigrations)
    if (sub === "create") {
      const { values } = parseArgs({
        args: rest,
        options: { name: { type: "string" }, role: { type: "string" } },
      })
      if (!values.name || !values.role) {
        console.error("usage: logbook token create --name NAME --role read|ingest|admin[,…]")
        return 2
      }
      const { token, id } = await createToken(db, {
        name: values.name,
        roles: parseRoles(values.role),
        now: Date.now(),
      })
      console.error(`created token #${id} "${values.name}" (${values.role}). It is shown once; store it now:`)
      console.log(token)
      return 0
    }
    if (sub === "list") {
      const rows = await listTokens(db)
      const fmt = (ms: number | null) => (ms ? new Date(Number(ms)).toISOString() : "-")
      console.log(["id", "name", "roles", "created", "revoked", "last used"].join("\t"))
      for (const r of rows)
        console.log(
          [r.id, r.name, r.roles, fmt(r.created_at), fmt(r.revoked_at), fmt(r.last_used_at)].join("\t"),
        )
      return 0
    }
    if (sub === "revoke") {
      if (!rest[0]) {
        console.error("usage: logbook token revoke <id|name>")
        return 2
      }
      const ok = await revokeToken(db, rest[0], Date.now())
      console.log(ok ? `revoked ${rest[0]}` : `no live token ${rest[0]}`)
      return ok ? 0 : 1
    }
    console.error("usage: logbook token create|list|revoke")
    return 2
  } catch (e) {
    console.error(`logbook token: ${(e as Error).message}`)
    return 1
  } finally {
    await db.close()
  }
}

/**
 * Runs every registered check once, in parallel, each bounded by its timeout — through the health
 * plugin's runner (service "health") when it is there, else with the minimal runner below.
 */
async function check(): Promise<number> {
  const { host } = await boot()
  await host.start()
  const runner = host.services.get("health")
  const results = runner ? await runner.runAll() : await runChecksDirectly(host.health.list())
  for (const r of results) console.log(`${r.status.padEnd(4)} ${r.name}${r.message ? `: ${r.message}` : ""}`)
  await host.stop()
  return results.some((r) => r.status === "fail") ? 1 : 0
}

function runChecksDirectly(checks: readonly HealthCheck[]): Promise<CheckOutcome[]> {
  return Promise.all(
    checks.map(async (c): Promise<CheckOutcome> => {
      const timeout = c.timeoutMs ?? 2000
      const t0 = performance.now()
      let timer: ReturnType<typeof setTimeout> | undefined
      try {
        const r = await Promise.race([
          Promise.resolve().then(() => c.check()),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timeout after ${timeout} ms`)), timeout)
          }),
        ])
        const status = r?.status ?? (r?.healthy === false ? "fail" : "pass")
        return {
          name: c.name,
          status: status === "fail" && c.critical === false ? "warn" : status,
          message: r?.message ?? "",
          durationMs: performance.now() - t0,
        }
      } catch (e) {
        return {
          name: c.name,
          status: c.critical === false ? "warn" : "fail",
          message: (e as Error).message,
          durationMs: performance.now() - t0,
        }
      } finally {
        clearTimeout(timer)
      }
    }),
  )
}
