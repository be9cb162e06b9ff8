/** Python logging level numbers and names. */

const BANDS: Array<[number, string]> = [
  [50, "CRITICAL"],
  [40, "ERROR"],
  [30, "WARNING"],
  [20, "INFO"],
  [10, "DEBUG"],
]

/** The standard level band of a level number: 45 → "ERROR", 5 → "NOTSET". */
export function levelName(levelno: number): string {
  for (const [min, name] of BANDS) if (levelno >= min) return name
  return "NOTSET"
}

const NUMBERS: Record<string, number> = {
  NOTSET: 0,
  DEBUG: 10,
  INFO: 20,
  WARNING: 30,
  WARN: 30,
  ERROR: 40,
  CRITICAL: 50,
  FATAL: 50,
}

/** A level name (any case, WARN/FATAL aliases) → number; undefined for anything else. */
export function levelNumber(name: string): number | undefined {
  return NUMBERS[name.trim().toUpperCase()]
}

/** "30", "warning" → 30; undefined unless an integer 0–255 or a level name. */
export function parseLevel(value: string): number | undefined {
  const v = value.trim()
  if (/^\d{1,3}$/.test(v)) {
    const n = Number(v)
    return n <= 255 ? n : undefined
  }
  return levelNumber(v)
}
