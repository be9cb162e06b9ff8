/**
 * The health plugin's table: one row per status transition of a check on an instance (never one per
 * sample), so history stays small and answers "since when" and "how often did it flap".
 */
import type { Migration } from "../../src/db/migrate"

export const migrations: Migration[] = [
  {
    id: "health/001_transitions",
    sqlite: `CREATE TABLE health_transitions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  instance_id TEXT NOT NULL,
  check_name TEXT NOT NULL,
  from_status TEXT,
  to_status TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT '',
  at INTEGER NOT NULL
);
CREATE INDEX health_transitions_check ON health_transitions (instance_id, check_name, at);
CREATE INDEX health_transitions_at ON health_transitions (at);`,
    postgres: `CREATE TABLE health_transitions (
  id BIGSERIAL PRIMARY KEY,
  instance_id TEXT NOT NULL,
  check_name TEXT NOT NULL,
  from_status TEXT,
  to_status TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT '',
  at BIGINT NOT NULL
);
CREATE INDEX health_transitions_check ON health_transitions (instance_id, check_name, at);
CREATE INDEX health_transitions_at ON health_transitions (at);`,
  },
]

export interface TransitionRow {
  id: number
  instance_id: string
  check_name: string
  from_status: string | null
  to_status: string
  message: string
  at: number
}
