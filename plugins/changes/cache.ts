/**
 * A micro-cache for read responses that dashboards poll (compat `GET /api/events`, the UI list): an
 * entry is valid only within the same wall-clock second and the same write generation of this process,
 * so a reader sees at most one second of staleness (writes by other instances sharing PostgreSQL) and
 * never a stale view of its own writes.
 */
export interface ResponseCache<T> {
  get(key: string, generation: number, nowMs: number): T | undefined
  set(key: string, generation: number, nowMs: number, value: T): void
}

export function createResponseCache<T>(maxEntries = 64): ResponseCache<T> {
  let stamp = ""
  let entries = new Map<string, T>()
  const sync = (generation: number, nowMs: number) => {
    const s = `${generation}:${Math.floor(nowMs / 1000)}`
    if (s !== stamp) {
      stamp = s
      entries = new Map()
    }
  }
  return {
    get(key, generation, nowMs) {
      sync(generation, nowMs)
      return entries.get(key)
    },
    set(key, generation, nowMs, value) {
      sync(generation, nowMs)
      if (entries.size < maxEntries) entries.set(key, value)
    },
  }
}
