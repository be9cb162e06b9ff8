/**
 * Tables of the metrics plugin: 1-minute points of persisted series (LOGBOOK_METRICS_PERSIST=1) and the
 * series pinned to the home widget. Timestamps are epoch ms (UTC).
 */
import type { Migration } from "../../src/db/migrate"

export const migrations: Migration[] = [
  {
    id: "metrics/001_points_pins",
    sqlite: `
CREATE TABLE metrics_points (
  series TEXT NOT NULL,
  t INTEGER NOT NULL,
  v REAL NOT NULL,
  p50 REAL,
  p90 REAL,
  p99 REAL,
  PRIMARY KEY (series, t)
);
CREATE INDEX metrics_points_t ON metrics_points (t);
CREATE TABLE metrics_pins (
  series TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL
);`,
    postgres: `
CREATE TABLE metrics_points (
  series TEXT NOT NULL,
  t BIGINT NOT NULL,
  v DOUBLE PRECISION NOT NULL,
  p50 DOUBLE PRECISION,
  p90 DOUBLE PRECISION,
  p99 DOUBLE PRECISION,
  PRIMARY KEY (series, t)
);
CREATE INDEX metrics_points_t ON metrics_points (t);
CREATE TABLE metrics_pins (
  series TEXT PRIMARY KEY,
  created_at BIGINT NOT NULL
);`,
  },
  {
    // timers' 1-minute histogram (histogram.ts text), so stored minutes merge into correct percentiles
    id: "metrics/002_points_hist",
    sqlite: "ALTER TABLE metrics_points ADD COLUMN hist TEXT;",
    postgres: "ALTER TABLE metrics_points ADD COLUMN hist TEXT;",
  },
]
