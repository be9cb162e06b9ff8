/**
 * A fast statsd / DogStatsD line parser (ops-formats §8.1):
 * `<name>:<value>[:<value>…]|<type>[|@<rate>][|#<tag>,<k>:<v>…][|c:<container>][|T<ts>]`, several lines
 * per datagram; several values per line are DogStatsD 1.1 packing (every type but sets, whose member
 * may hold a `:`). Types c, g (`+N`/`-N` adjust), ms, h, d (timers) and s. Telegraf-style tags in the name
 * (`name,k=v:1|c`) are accepted. Service checks (`_sc|`) and events (`_e{`) are skipped; anything else
 * that does not parse is counted as malformed and skipped. Written with indexOf/charCodeAt (no regular
 * expression per line): the only allocations per line are the name and tag substrings.
 */
import type { SeriesType } from "./series"

export type ParsedMetric = (
  name: string,
  type: SeriesType,
  value: number,
  rate: number,
  relative: boolean,
  tags: string,
  member: string | undefined,
) => void

export interface ParseCounts {
  lines: number
  malformed: number
  skipped: number
}

const CR = 13
const COLON = 58
const AT = 64
const HASH = 35
const PLUS = 43
const MINUS = 45
const DOT = 46
const ZERO = 48
const NINE = 57
const LOWER_C = 99
const UPPER_T = 84
const UNDERSCORE = 95

/** Parses `s[from, to)` as a decimal number; NaN when it is not one. Fast path for plain integers. */
function parseNumber(s: string, from: number, to: number): number {
  if (from >= to) return Number.NaN
  let i = from
  const c0 = s.charCodeAt(i)
  const neg = c0 === MINUS
  if (neg || c0 === PLUS) i++
  let v = 0
  const digitsFrom = i
  for (; i < to; i++) {
    const c = s.charCodeAt(i)
    if (c < ZERO || c > NINE) break
    v = v * 10 + (c - ZERO)
  }
  if (i === to && i > digitsFrom && i - digitsFrom < 16) return neg ? -v : v
  // decimals, exponents: Number() is exact; refuse what it accepts but statsd does not (hex, Infinity, blanks)
  for (let j = from; j < to; j++) {
    const c = s.charCodeAt(j)
    if (!((c >= ZERO && c <= NINE) || c === DOT || c === MINUS || c === PLUS || c === 101 || c === 69))
      return Number.NaN
  }
  const n = Number(s.slice(from, to))
  return Number.isFinite(n) ? n : Number.NaN
}

function typeOf(s: string, from: number, to: number): SeriesType | undefined {
  const len = to - from
  const c = s.charCodeAt(from)
  if (len === 1) {
    if (c === 99) return "c"
    if (c === 103) return "g"
    if (c === 104 || c === 100) return "ms" // h, d: timers/distributions
    if (c === 115) return "s"
    return undefined
  }
  if (len === 2 && c === 109 && s.charCodeAt(from + 1) === 115) return "ms"
  return undefined
}

/** `name,k=v,k2=v2` (Telegraf) → tags `k:v,k2:v2`. */
function telegrafTags(s: string): string {
  return s.replaceAll("=", ":")
}

function parseLine(s: string, start: number, end: number, emit: ParsedMetric, counts: ParseCounts): void {
  const c0 = s.charCodeAt(start)
  if (c0 === UNDERSCORE && (s.startsWith("_sc|", start) || s.startsWith("_e{", start))) {
    counts.skipped++
    return
  }
  const colon = s.indexOf(":", start)
  if (colon <= start || colon >= end) {
    counts.malformed++
    return
  }
  let pipe = s.indexOf("|", colon)
  if (pipe < 0 || pipe >= end) {
    counts.malformed++
    return
  }
  const valueFrom = colon + 1
  const valueTo = pipe
  let segEnd = s.indexOf("|", pipe + 1)
  if (segEnd < 0 || segEnd > end) segEnd = end
  const type = typeOf(s, pipe + 1, segEnd)
  if (type === undefined) {
    counts.malformed++
    return
  }
  let rate = 1
  let tags = ""
  pipe = segEnd
  while (pipe < end) {
    const from = pipe + 1
    segEnd = s.indexOf("|", from)
    if (segEnd < 0 || segEnd > end) segEnd = end
    const c = s.charCodeAt(from)
    if (c === AT) {
      rate = parseNumber(s, from + 1, segEnd)
      if (!(rate > 0 && rate <= 1)) {
        counts.malformed++
        return
      }
    } else if (c === HASH) {
      tags = s.slice(from + 1, segEnd)
    } else if (c === LOWER_C && s.charCodeAt(from + 1) === COLON) {
      // container id (DogStatsD 1.2): ignored
    } else if (c === UPPER_T && segEnd > from + 1) {
      // timestamp (DogStatsD 1.3): ignored; aggregated at arrival
    } else {
      counts.malformed++
      return
    }
    pipe = segEnd
  }
  let name = s.slice(start, colon)
  const comma = name.indexOf(",")
  if (comma >= 0) {
    const t = telegrafTags(name.slice(comma + 1))
    tags = tags === "" ? t : `${tags},${t}`
    name = name.slice(0, comma)
    if (name === "") {
      counts.malformed++
      return
    }
  }
  if (type === "s") {
    if (valueFrom === valueTo) {
      counts.malformed++
      return
    }
    emit(name, type, 0, rate, false, tags, s.slice(valueFrom, valueTo))
    return
  }
  // DogStatsD 1.1 packs several values into one line (`name:1:2:3|c`): every value must parse, or the
  // whole line is malformed; then each is one measurement, in order, sharing type, rate and tags
  let from = valueFrom
  for (;;) {
    let to = s.indexOf(":", from)
    if (to < 0 || to > valueTo) to = valueTo
    const value = parseNumber(s, from, to)
    if (Number.isNaN(value) || (type === "ms" && value < 0)) {
      counts.malformed++
      return
    }
    if (to === valueTo) break
    from = to + 1
  }
  for (from = valueFrom; from <= valueTo; ) {
    let to = s.indexOf(":", from)
    if (to < 0 || to > valueTo) to = valueTo
    const sign = s.charCodeAt(from)
    emit(
      name,
      type,
      parseNumber(s, from, to),
      rate,
      type === "g" && (sign === PLUS || sign === MINUS),
      tags,
      undefined,
    )
    from = to + 1
  }
}

/** Parses every line of one datagram (`\n`-separated; a trailing `\r` is tolerated). */
export function parseDatagram(s: string, emit: ParsedMetric, counts: ParseCounts): void {
  let start = 0
  const len = s.length
  while (start < len) {
    let end = s.indexOf("\n", start)
    if (end < 0) end = len
    let e = end
    if (e > start && s.charCodeAt(e - 1) === CR) e--
    if (e > start) {
      counts.lines++
      parseLine(s, start, e, emit, counts)
    }
    start = end + 1
  }
}
