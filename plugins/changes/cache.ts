/**
 * A micro-cache for read responses that dashboards poll (compat `GET /api/events`, the UI list): an
 * entry is valid only within the same wall-clock second and the same write generation of this process,
 * so a reader sees at most one second of staleness (writes by other instances sharing PostgreSQL) and
 * never a stale view of its own writes. Concurrent misses for one key share one computation, so a burst
 * of pollers costs one query per second, not one per request.
 */
export interface ResponseCache<T> {
  get(key: string, generation: number, nowMs: number, compute: () => Promise<T>): Promise<T>
}

export function createResponseCache<T>(enabled: boolean, maxEntries = 64): ResponseCache<T> {
  let stamp = ""
  let entries = new Map<string, Promise<T>>()
  return {
    get(key, generation, nowMs, compute) {
      if (!enabled) return compute()
      const s = `${generation}:${Math.floor(nowMs / 1000)}`
      if (s !== stamp) {
        stamp = s
        entries = new Map()
      }
      const hit = entries.get(key)
      if (hit) return hit
      const p = compute()
      if (entries.size < maxEntries) {
        const map = entries
        map.set(key, p)
        // failures are not remembered
        p.catch(() => map.delete(key))
      }
      return p
    },
  }
}
