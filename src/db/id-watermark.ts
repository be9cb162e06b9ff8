/**
 * Where a live view's next read of new rows starts. PostgreSQL hands out ids at insert time, so a row
 * with a lower id can become visible after a higher one (two instances committing at once): reading only
 * above the highest id delivered would skip it. So reads start above `floor`, which trails the highest id
 * seen by `settleMs`, and the ids delivered above the floor are remembered so a re-read skips them.
 * SQLite has one writer at a time, so its ids become visible in order: there settleMs 0 is exact and the
 * floor follows the highest id at once.
 */

/** Ids seen this long ago are settled: no lower id can still appear below them. */
export const SETTLE_MS = 3_000

export interface IdWatermark {
  /** Reads start after this id. */
  readonly floor: number
  /** The highest id seen (delivered, read, or announced). */
  readonly highest: number
  /** Ids above the floor already delivered: the repeats a read from the floor can return. */
  repeats(): number
  isNew(id: number): boolean
  /** id was delivered: skip it from now on. */
  deliver(id: number): void
  /** id is committed (a row read but not delivered, an id announced): the floor may pass it. */
  seen(id: number): void
  /** Stop waiting for anything at or below id (a start point, a read too full to wait on). */
  raise(id: number): void
  /** After each read: the floor moves up to the highest id seen settleMs ago. */
  settle(now: number): void
}

export function createIdWatermark(
  start: number,
  opts: {
    settleMs?: number
    /** Remember at most this many delivered ids (the floor rises below them): bounds a busy view's re-reads. */
    maxRemembered?: number
  } = {},
): IdWatermark {
  const settleMs = opts.settleMs ?? SETTLE_MS
  const maxRemembered = opts.maxRemembered ?? Number.POSITIVE_INFINITY
  const delivered = new Set<number>()
  /** (when, highest id seen then): the floor is the newest mark at least settleMs old. */
  let marks: Array<{ at: number; id: number }> = []
  let floor = start
  let highest = start

  const forgetBelowFloor = () => {
    for (const id of delivered) if (id <= floor) delivered.delete(id)
    marks = marks.filter((m) => m.id >= floor)
  }

  return {
    get floor() {
      return floor
    },
    get highest() {
      return highest
    },
    repeats() {
      let n = 0
      for (const id of delivered) if (id > floor) n++
      return n
    },
    isNew: (id) => !delivered.has(id),
    deliver(id) {
      delivered.add(id)
      if (id > highest) highest = id
    },
    seen(id) {
      if (id > highest) highest = id
    },
    raise(id) {
      if (id > highest) highest = id
      if (id > floor) floor = id
    },
    settle(now) {
      marks.push({ at: now, id: highest })
      while (marks.length > 1 && (marks[1] as { at: number }).at <= now - settleMs) marks.shift()
      const settled = marks[0] as { at: number; id: number }
      if (settled.at <= now - settleMs && settled.id > floor) {
        floor = settled.id
        forgetBelowFloor()
      }
      if (delivered.size > maxRemembered) {
        // busier than the window can hold: wait only for what is below the newest maxRemembered ids
        const ids = [...delivered].sort((a, b) => a - b)
        floor = Math.max(floor, ids[ids.length - maxRemembered - 1] as number)
        forgetBelowFloor()
      }
    },
  }
}
