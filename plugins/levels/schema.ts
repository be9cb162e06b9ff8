/**
 * Tables of the levels plugin. Timestamps are epoch ms (BIGINT). JSON (profile levels, trigger
 * recurrence, history details) is TEXT on SQLite and jsonb on PostgreSQL. `levels_version` is a single
 * row counting configuration changes: instances compare it with what they applied instead of trusting
 * clocks, and `levels_instances` records what each instance applied and when it was last seen.
 */
import type { Migration } from "../../src/db/migrate"

const tables = (dialect: "sqlite" | "postgres") => {
  const id = dialect === "sqlite" ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGSERIAL PRIMARY KEY"
  const json = dialect === "sqlite" ? "TEXT" : "JSONB"
  return `
CREATE TABLE levels_overrides (
  id ${id},
  target TEXT NOT NULL,
  logger TEXT NOT NULL,
  level TEXT NOT NULL,
  starts_at BIGINT NOT NULL,
  expires_at BIGINT,
  scope TEXT NOT NULL DEFAULT 'all',
  actor TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  revoked_at BIGINT,
  revoked_by TEXT,
  expiry_announced_at BIGINT
);
CREATE INDEX levels_overrides_live ON levels_overrides (revoked_at, expires_at);
CREATE TABLE levels_profiles (
  id ${id},
  name TEXT NOT NULL UNIQUE,
  levels ${json} NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  updated_by TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE levels_triggers (
  id ${id},
  profile TEXT NOT NULL REFERENCES levels_profiles (name) ON DELETE CASCADE,
  target TEXT NOT NULL DEFAULT 'logbook',
  scope TEXT NOT NULL DEFAULT 'all',
  starts_at BIGINT,
  ends_at BIGINT,
  recurrence ${json},
  mode TEXT NOT NULL DEFAULT 'overlay',
  active INTEGER NOT NULL DEFAULT 1,
  actor TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL
);
CREATE TABLE levels_history (
  id ${id},
  at BIGINT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  logger TEXT,
  before_level TEXT,
  after_level TEXT,
  actor TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  ref_id BIGINT,
  description TEXT NOT NULL
);
CREATE INDEX levels_history_at ON levels_history (at);
CREATE TABLE levels_version (
  id INTEGER PRIMARY KEY,
  version BIGINT NOT NULL
);
INSERT INTO levels_version (id, version) VALUES (1, 0);
CREATE TABLE levels_instances (
  instance_id TEXT PRIMARY KEY,
  applied_version BIGINT NOT NULL,
  applied_at BIGINT NOT NULL,
  last_seen BIGINT NOT NULL
);`
}

/** One row per trigger window start/end already announced: the primary key lets one instance win. */
const triggerEvents = `
CREATE TABLE levels_trigger_events (
  trigger_id BIGINT NOT NULL,
  window_start BIGINT NOT NULL,
  kind TEXT NOT NULL,
  at BIGINT NOT NULL,
  PRIMARY KEY (trigger_id, window_start, kind)
);`

export const levelsMigrations: Migration[] = [
  { id: "levels/001_tables", sqlite: tables("sqlite"), postgres: tables("postgres") },
  { id: "levels/002_trigger_events", sqlite: triggerEvents, postgres: triggerEvents },
]
