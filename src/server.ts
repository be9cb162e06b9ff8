/**
 * `logbook serve`: boot, listen, and shut down cleanly on SIGTERM/SIGINT — stop accepting, let plugins
 * stop, drain the group-commit writer (nothing acknowledged is lost), close the database.
 */
import { boot } from "./boot"
import { coreSettings, describeSettings } from "./config"
import { VERSION } from "./version"

export async function serve(): Promise<void> {
  const started = performance.now()
  const { config, host, app } = await boot()
  const log = host.logging.logger("logbook")
  log.info("configuration", {
    settings: describeSettings(coreSettings, config as unknown as Record<string, unknown>),
  })
  await host.start()
  const server = Bun.serve({
    hostname: config.host,
    port: config.port,
    maxRequestBodySize: config.maxBodyBytes,
    idleTimeout: 30,
    fetch: app.fetch,
    error(e) {
      log.error("server error", { error: e })
      return new Response("internal error", { status: 500 })
    },
  })
  log.info("listening", {
    url: `http://${server.hostname}:${server.port}/`,
    version: VERSION,
    database: host.db.dialect,
    plugins: host.infos.map((p) => `${p.id}:${p.status}`),
    startup_ms: Math.round(performance.now() - started),
  })
  let stopping = false
  const shutdown = async (signal: string) => {
    if (stopping) return
    stopping = true
    log.info("shutting down", { signal })
    await server.stop(false)
    await host.stop()
    log.info("stopped")
    process.exit(0)
  }
  process.on("SIGTERM", () => void shutdown("SIGTERM"))
  process.on("SIGINT", () => void shutdown("SIGINT"))
}
