/** Settings of the records plugin (environment variables, validated at start-up). */
import { Type } from "@sinclair/typebox"
import { setting } from "../../src/config"
import type { PluginContext } from "../../src/plugin/contract"

export const recordsSettings = {
  retentionDays: setting(Type.Number({ default: 30, minimum: 0 }), {
    env: "LOGBOOK_RECORDS_RETENTION_DAYS",
    description: "Records older than this many days are deleted in the background (0 = keep forever).",
  }),
  maxBytes: setting(Type.Integer({ default: 0, minimum: 0 }), {
    env: "LOGBOOK_RECORDS_MAX_BYTES",
    description:
      "Optional size budget in bytes of the records' own data: the records table with its indexes, the full-text index and the per-minute counts (SQLite: the pages they use; PostgreSQL: their size with indexes and TOAST, scaled by the live-row share); other plugins' tables do not count. Beyond it the oldest records are deleted (0 = no budget). Freed pages stay in a SQLite file for reuse: the file does not shrink.",
  }),
  maxMessageBytes: setting(Type.Integer({ default: 256 * 1024, minimum: 64 }), {
    env: "LOGBOOK_RECORDS_MAX_MESSAGE_BYTES",
    description: "Largest accepted message (UTF-8 bytes); a larger one is refused with 413, never truncated.",
  }),
  maxRecordBytes: setting(Type.Integer({ default: 1024 * 1024, minimum: 256 }), {
    env: "LOGBOOK_RECORDS_MAX_RECORD_BYTES",
    description: "Largest accepted record (message, name and JSON details); larger ones get 413.",
  }),
  basicUsers: setting(Type.Array(Type.String({ pattern: "^[^:]+:.*$" }), { default: [] }), {
    env: "LOGBOOK_RECORDS_BASIC_USERS",
    description:
      "Comma list of `user:password` pairs accepted as HTTP Basic on the Chronologer API with read and ingest rights, e.g. `logger:` (Chronologer's default, empty password). Sent in clear text without TLS.",
    list: true,
    secret: true,
  }),
}

export type RecordsContext = PluginContext<typeof recordsSettings>
