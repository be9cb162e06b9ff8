/**
 * Migrations are plain SQL per dialect, kept in TypeScript modules next to the schema they create (so
 * they are embedded in the compiled binary with no file reads). The core's come first, then each
 * plugin's in plugin order. Applied ids are recorded in `logbook_migrations`; on PostgreSQL an advisory
 * lock makes two instances starting at once take turns.
 */
import { type Db, withPgConnection } from "./database"

export interface Migration {
  /** Unique and stable: `<owner>/<nnn>_<what>`, e.g. `changes/001_events`. */
  id: string
  sqlite: string
  postgres: string
}

const LOCK_KEY = 7_264_112 // arbitrary, constant: "logbook migrations"

export async function pendingMigrations(db: Db, migrations: readonly Migration[]): Promise<Migration[]> {
  await db.exec(
    "CREATE TABLE IF NOT EXISTS logbook_migrations (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)",
  )
  const done = new Set((await db.all<{ id: string }>("SELECT id FROM logbook_migrations")).map((r) => r.id))
  return migrations.filter((m) => !done.has(m.id))
}

/** Applies what is missing; returns the ids applied now. */
export async function migrate(db: Db, migrations: readonly Migration[], now = Date.now): Promise<string[]> {
  const seen = new Set<string>()
  for (const m of migrations) {
    if (seen.has(m.id)) throw new Error(`duplicate migration id ${m.id}`)
    seen.add(m.id)
  }
  const apply = async (target: Db): Promise<string[]> => {
    const applied: string[] = []
    for (const m of await pendingMigrations(target, migrations)) {
      await target.transaction(async (tx) => {
        await tx.exec(target.dialect === "sqlite" ? m.sqlite : m.postgres)
        await tx.run("INSERT INTO logbook_migrations (id, applied_at) VALUES (?, ?)", [m.id, now()])
      })
      applied.push(m.id)
    }
    return applied
  }
  if (db.dialect !== "postgres") return apply(db)
  // the lock is held by one session: take it and apply the migrations on the same reserved connection
  // (so a pool of one connection cannot deadlock), and let the next instance find nothing pending
  return withPgConnection(db, async (conn) => {
    await conn.run("SELECT pg_advisory_lock(?)", [LOCK_KEY])
    try {
      return await apply(conn)
    } finally {
      await conn.run("SELECT pg_advisory_unlock(?)", [LOCK_KEY])
    }
  })
}
