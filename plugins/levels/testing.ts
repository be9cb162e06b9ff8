/**
 * Test helpers for the levels plugin: a tiny `changes` service that keeps what it is given (so tests see
 * the change timeline without the changes plugin), and the admin headers.
 */
import type { ChangeEvent, ChangeInput } from "../../src/plugin/contract"
import { definePlugin } from "../../src/plugin/contract"

export const ADMIN_TOKEN = "levels-test-admin-token-0123456789"
export const adminHeaders = { authorization: `Bearer ${ADMIN_TOKEN}` }
export const testEnv = { LOGBOOK_ADMIN_TOKEN: ADMIN_TOKEN, LOGBOOK_LOG_LEVEL: "debug" }

export function timelineRecorder() {
  const events: Array<ChangeInput & { source: string }> = []
  const plugin = definePlugin({
    id: "changes",
    title: "Changes (test double)",
    setup(ctx) {
      ctx.services.provide("changes", {
        async record(input) {
          events.push(input)
        },
        async between(): Promise<ChangeEvent[]> {
          return []
        },
      })
    },
  })
  return { plugin, events }
}

/** Polls `fn` until it returns a truthy value or the deadline passes (then throws with `what`). */
export async function until<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(50)
  }
}
