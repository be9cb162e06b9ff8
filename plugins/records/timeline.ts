/**
 * Chronologer's HEAD timeline: record counts per local hour or local day in an IANA zone. Counts come
 * per UTC 15-minute slot (exact for zones with :30/:45 offsets); each slot is attributed to the absolute
 * start instant of its local hour/day. Keying by the instant (not the local wall time) keeps the two
 * repeated fall-back hours apart and makes DST days 23 or 25 hours long.
 */

export const SLOT_SECONDS = 900

const formatters = new Map<string, Intl.DateTimeFormat>()

/** A formatter for the zone, or undefined when the zone is unknown. */
function formatter(zone: string): Intl.DateTimeFormat | undefined {
  let f = formatters.get(zone)
  if (f) return f
  try {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    })
  } catch {
    return undefined
  }
  if (formatters.size < 1000) formatters.set(zone, f)
  return f
}

export const isKnownZone = (zone: string) => zone !== "" && formatter(zone) !== undefined

interface Local {
  y: number
  mo: number
  d: number
  h: number
  mi: number
  s: number
}

function local(f: Intl.DateTimeFormat, ms: number): Local {
  const p: Record<string, number> = {}
  for (const part of f.formatToParts(ms)) if (part.type !== "literal") p[part.type] = Number(part.value)
  return { y: p.year, mo: p.month, d: p.day, h: p.hour, mi: p.minute, s: p.second }
}

/** Offset of local time from UTC at instant `ms`, in ms. */
function offsetAt(f: Intl.DateTimeFormat, ms: number): number {
  const l = local(f, ms)
  return Date.UTC(l.y, l.mo - 1, l.d, l.h, l.mi, l.s) - Math.floor(ms / 1000) * 1000
}

/** The first instant (ms) of local day y-mo-d. */
function dayStart(f: Intl.DateTimeFormat, y: number, mo: number, d: number): number {
  const wall = Date.UTC(y, mo - 1, d)
  let t = wall - offsetAt(f, wall)
  t = wall - offsetAt(f, t)
  // midnight skipped by a DST jump: the day starts at the first instant that belongs to it
  const l = local(f, t)
  if (l.y !== y || l.mo !== mo || l.d !== d) {
    const later = t + 3600_000
    const l2 = local(f, later)
    if (l2.y === y && l2.mo === mo && l2.d === d) return later - (l2.mi * 60 + l2.s) * 1000
  }
  return t
}

/**
 * Per-slot counts (slot = floor(ts_seconds / 900)) → ascending [start epoch seconds, count] of the
 * non-empty local hours or days.
 */
export function groupSlots(
  slots: ReadonlyArray<{ slot: number; count: number }>,
  group: "hour" | "day",
  zone: string,
): Array<[number, number]> {
  const f = formatter(zone)
  if (!f) throw new RangeError(`unknown time zone ${zone}`)
  const sums = new Map<number, number>()
  const days = new Map<string, number>()
  for (const { slot, count } of slots) {
    const ms = slot * SLOT_SECONDS * 1000
    const l = local(f, ms)
    let start: number
    if (group === "hour") start = ms - (l.mi * 60 + l.s) * 1000
    else {
      const key = `${l.y}-${l.mo}-${l.d}`
      let s = days.get(key)
      if (s === undefined) {
        s = dayStart(f, l.y, l.mo, l.d)
        days.set(key, s)
      }
      start = s
    }
    sums.set(start, (sums.get(start) ?? 0) + count)
  }
  return [...sums.entries()].sort((a, b) => a[0] - b[0]).map(([ms, n]) => [Math.floor(ms / 1000), n])
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:?\d{2})$/

/** RFC 3339 (any fraction, Z or offset) or epoch seconds → µs; undefined when not a time. */
export function parseInstant(text: string): number | undefined {
  const t = text.trim()
  if (/^-?\d+(?:\.\d+)?$/.test(t)) {
    const [whole, frac = ""] = t.replace("-", "").split(".")
    const us = Number(whole) * 1_000_000 + Number(frac.padEnd(6, "0").slice(0, 6))
    return t.startsWith("-") ? -us : us
  }
  const m = RFC3339.exec(t)
  if (!m) return undefined
  const [, y, mo, d, h, mi, s, frac = "", zone] = m
  if (Number(mo) > 12 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 60)
    return undefined
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s))
  // no rolling over: 2026-02-31 is not 3 March
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)))
  if (day.getUTCMonth() !== Number(mo) - 1 || day.getUTCDate() !== Number(d)) return undefined
  if (zone !== "Z" && zone !== "z") {
    const sign = zone[0] === "-" ? -1 : 1
    const digits = zone.slice(1).replace(":", "")
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000
  }
  return ms * 1000 + Number(frac.padEnd(6, "0").slice(0, 6))
}
