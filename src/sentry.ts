/**
 * Error reporting to Sentry, only when SENTRY_DSN is set (the SDK is not even loaded otherwise).
 *
 * The SDK's per-request server integrations (BunServer, BunHttpServer, Http) wrap every request in a
 * span and cut throughput 4–8×, so they are removed; errors are captured from the core's `http.error`
 * event instead (emitted by the app's onError for every unexpected 5xx), tagged with the request id so
 * an issue in Sentry leads straight to the log lines of that request.
 */
import type { EventBus } from "./plugin/contract"

/** Integrations that instrument every incoming request; never installed. */
export const PER_REQUEST_INTEGRATIONS = new Set(["BunServer", "BunHttpServer", "Http"])

export interface SentryOptions {
  dsn: string
  environment: string
  release: string
  events: EventBus
}

/** Initialises Sentry when a DSN is given; resolves to a function that flushes pending events. */
export async function initSentry(
  opts: SentryOptions,
): Promise<((timeoutMs?: number) => Promise<void>) | undefined> {
  if (!opts.dsn) return undefined
  const Sentry = await import("@sentry/bun")
  Sentry.init({
    dsn: opts.dsn,
    environment: opts.environment,
    release: opts.release,
    tracesSampleRate: 0,
    integrations: (defaults) => defaults.filter((i) => !PER_REQUEST_INTEGRATIONS.has(i.name)),
  })
  opts.events.on("http.error", ({ error, request, requestId }) => {
    Sentry.withScope((scope) => {
      scope.setTag("request_id", requestId)
      // the path only: query strings may carry tokens
      const url = new URL(request.url)
      scope.setContext("request", { method: request.method, path: url.pathname })
      Sentry.captureException(error)
    })
  })
  return async (timeoutMs = 2000) => {
    await Sentry.flush(timeoutMs)
  }
}
