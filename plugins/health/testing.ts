/**
 * Test helpers for the health plugin's tests: a check whose behaviour a test switches between pass,
 * warn, fail, timeout and exception, and a stand-in "changes" service that collects timeline events.
 */
import { type ChangeEvent, type ChangeInput, definePlugin } from "../../src/plugin/contract"

export type Mode = "pass" | "warn" | "fail" | "timeout" | "throw"

export class CheckFailure extends Error {
  result = { code: 42 }
}

/** A plugin with check `svc` (level 1, timeout 100 ms) doing what `ctl.mode` says. */
export function switchablePlugin(ctl: { mode: Mode }) {
  return definePlugin({
    id: "probe",
    title: "Probe",
    checks: () => [
      {
        name: "svc",
        timeoutMs: 100,
        componentType: "component",
        check() {
          switch (ctl.mode) {
            case "pass":
              return { status: "pass", message: "svc ok", queued_jobs: 3 }
            case "warn":
              return { status: "WARN" as "warn", message: "svc slow", queued_jobs: 40 }
            case "fail":
              return { healthy: false, message: "svc down", queued_jobs: 423 }
            case "timeout":
              return new Promise<never>(() => {})
            case "throw":
              throw new CheckFailure("boom")
          }
        },
      },
    ],
  })
}

/** Provides service "changes" into an array (instead of the changes plugin). */
export function timelinePlugin(events: Array<ChangeInput & { source: string }>) {
  return definePlugin({
    id: "timeline-stub",
    title: "Timeline stub",
    setup(ctx) {
      ctx.services.provide("changes", {
        async record(input) {
          events.push(input)
        },
        async between(from, to) {
          return events
            .filter((e) => (e.timestamp ?? 0) >= from && (e.timestamp ?? 0) <= to)
            .map(
              (e, i): ChangeEvent => ({
                id: i + 1,
                timestamp: e.timestamp ?? 0,
                criticality: e.criticality ?? 1,
                category: e.category,
                description: e.description,
                source: e.source,
                service: null,
                environment: null,
                author: null,
                url: null,
                tags: e.tags ?? {},
              }),
            )
        },
      })
    },
  })
}

/** Polls `fn` until it returns a truthy value, failing after `ms`. */
export async function until<T>(fn: () => T | Promise<T>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > deadline) throw new Error("condition not met before the deadline")
    await Bun.sleep(10)
  }
}
