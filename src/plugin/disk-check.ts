/**
 * The core's `disk` check (SQLite only: the database lives in the data directory). It reports the
 * filesystem's utilization — the percentage used, as the IETF measurement `utilization` means — so that
 * an alert on "utilization > 90" fires on a full disk; the message also gives the free percentage.
 * Space is counted as an unprivileged process sees it (blocks reserved for root count as used).
 */
import { statfsSync } from "node:fs"
import type { CheckResult, CheckStatus, HealthCheck } from "./contract"

export interface DiskStats {
  /** Blocks available to an unprivileged process. */
  bavail: number
  /** All blocks of the filesystem. */
  blocks: number
}

/** Below this much free space the check fails; below WARN_FREE it warns. */
const FAIL_FREE = 5
const WARN_FREE = 10

const oneDecimal = (n: number) => Math.round(n * 10) / 10

export function diskOutcome(s: DiskStats, dir: string): CheckResult & { status: CheckStatus } {
  const free = s.blocks > 0 ? (s.bavail / s.blocks) * 100 : 0
  const used = oneDecimal(100 - free)
  return {
    status: free < FAIL_FREE ? "fail" : free < WARN_FREE ? "warn" : "pass",
    message: `${used}% used, ${oneDecimal(free)}% free in ${dir}`,
    observedValue: used,
    observedUnit: "percent",
  }
}

export function diskCheck(dir: string, statfs: (dir: string) => DiskStats = statfsSync): HealthCheck {
  return {
    name: "disk",
    componentType: "system",
    groups: ["ready"],
    critical: false,
    check: () => diskOutcome(statfs(dir), dir),
  }
}
