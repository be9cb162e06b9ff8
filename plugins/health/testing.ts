/**
 * Test helpers for the health plugin's tests: a check whose behaviour a test switches between pass,
 * warn, fail, timeout and exception, and a stand-in "changes" service that collects timeline events.
 */
import { type ChangeEvent, type ChangeInput, definePlugin } from "../../src/plugin/contract"

export type Mode = "pass" | "warn" | "fail" | "timeout" | "throw"

export class CheckFailure extends Error {
  result = { code: 42 }
}

export interface Switch {
  mode: Mode
  /** A run that hangs until the mode changes away from "timeout" (then it settles, too late). */
  hang(): Promise<{ status: "pass" }>
}

/** The mode of check `svc`; leaving "timeout" releases the hung runs (so the check can recover). */
export function switchable(initial: Mode = "pass"): Switch {
  let mode = initial
  const hung: Array<() => void> = []
  return {
    get mode() {
      return mode
    },
    set mode(m: Mode) {
      mode = m
      if (m !== "timeout") for (const release of hung.splice(0)) release()
    },
    hang: () => new Promise((r) => hung.push(() => r({ status: "pass" }))),
  }
}

/** Lets every pending promise reaction run (a released run settles before the next request). */
export const settle = () => new Promise<void>((r) => setImmediate(r))

/** A plugin with check `svc` (level 1, timeout 100 ms) doing what `ctl.mode` says. */
export function switchablePlugin(ctl: Switch) {
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
              return ctl.hang()
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
