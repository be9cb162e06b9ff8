/**
 * `logbook serve`: read and print the configuration (secrets redacted), boot, listen, and shut down
 * cleanly on SIGTERM/SIGINT — announce `server.draining` (readiness turns false) and keep serving for the
 * drain period (LOGBOOK_SHUTDOWN_DRAIN_SECONDS, SIGTERM only), then stop accepting, let in-flight requests
 * finish (their writes commit before they are answered), let plugins stop, drain the group-commit writer
 * (nothing acknowledged is lost), flush Sentry, close the database.
 */
import { boot, loadConfig } from "./boot"
import { coreSettings, describeSettings } from "./config"
import { SERVER_BODY_LIMIT } from "./http/app"
import { createLogging, type LevelName } from "./log"
import { initSentry } from "./sentry"
import { RELEASE_ID, VERSION } from "./version"

/** After the drain, how long requests being answered get before the remaining connections are closed. */
const STOP_GRACE_MS = 3000

export async function serve(): Promise<void> {
  const started = performance.now()
  // a signal during start-up is honoured once the server is up (so the shutdown below is the only path)
  let shutdown: ((signal: string) => Promise<void>) | undefined
  let pendingSignal: string | undefined
  const onSignal = (signal: string) => {
    if (shutdown) void shutdown(signal)
    else pendingSignal ??= signal
  }
  process.on("SIGTERM", () => onSignal("SIGTERM"))
  process.on("SIGINT", () => onSignal("SIGINT"))
  const config = loadConfig()
  const logging = createLogging({ rootLevel: config.logLevel as LevelName, format: config.logFormat })
  const log = logging.logger("logbook")
  log.info("configuration", {
    settings: describeSettings(coreSettings, config as unknown as Record<string, unknown>),
  })
  const { host, app } = await boot({ logging })
  const flushSentry = await initSentry({
    dsn: config.sentryDsn,
    environment: config.sentryEnvironment,
    release: RELEASE_ID || VERSION,
    events: host.events,
  })
  await host.start()
  const server = Bun.serve({
    hostname: config.host,
    port: config.port,
    maxRequestBodySize: SERVER_BODY_LIMIT,
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
    sentry: Boolean(flushSentry),
    startup_ms: Math.round(performance.now() - started),
  })
  let stopping = false
  let endDrain: (() => void) | undefined
  shutdown = async (signal: string) => {
    // a second signal ends the drain period at once
    if (stopping) return endDrain?.()
    stopping = true
    // SIGTERM is how orchestrators stop a pod; SIGINT is someone at a terminal, with no load balancer to tell
    const drainMs = signal === "SIGTERM" ? config.shutdownDrainSeconds * 1000 : 0
    log.info("shutting down", { signal, drain_ms: drainMs })
    // readiness turns false now, while the server still answers whoever has not noticed yet
    host.events.emit("server.draining", { signal, drainMs })
    if (drainMs > 0)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, drainMs)
        endDrain = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    // stop accepting; requests already being handled still run to their answer
    const closed = server.stop(false)
    // What is still open after a moment is an idle keep-alive connection or a long-lived stream (the live
    // pages' SSE), which would hold stop() open until its cap: close those. A write cut off here was not
    // acknowledged; the writer still commits what it holds (host.stop below).
    const finished = await Promise.race([closed.then(() => true), Bun.sleep(STOP_GRACE_MS).then(() => false)])
    if (!finished) await Promise.race([server.stop(true), Bun.sleep(2000)])
    await host.stop()
    await flushSentry?.()
    log.info("stopped", { writer: host.writer.stats() })
    process.exit(0)
  }
  if (pendingSignal) await shutdown(pendingSignal)
}
