// Changes scenarios (issue 3).
// 1. `POST /api/events` with the six changelog clients' bodies (rotated, stamped now), keep-alive,
//    64 connections, durable (answered after the group commit): target ratio ≥ 0.35 of plain Bun.serve.
// 2. `GET /api/events?hours_ago=1` and 3. `/ui/changes` (last hour, first page of 50) on a database holding
//    1,000,000 events spread over the last 30 days (~1,400 in the last hour), seeded straight into the
//    instance's SQLite file or PostgreSQL before start: target ratio ≥ 0.15. Reads are answered from a
//    one-second response cache (see plugins/changes/cache.ts); the "(no cache)" rows measure the queries
//    themselves with LOGBOOK_CHANGES_READ_CACHE=0.

import { migrations } from "../../../plugins/changes/schema"
import { openDatabase } from "../../../src/db/database"
import { migrate } from "../../../src/db/migrate"
import type { BenchScenario, WrkRequest } from "../scenario"

const EVENTS = 1_000_000
const DAYS = 30
const CATEGORIES = [
  "deploy",
  "deploy",
  "deploy",
  "config",
  "dns",
  "flag",
  "flag",
  "scale",
  "cron",
  "db",
  "cert",
  "misc",
]
const SERVICES = ["api", "web", "shop", "search", "billing", "auth", "mail", "cdn"]

/** A deterministic pseudo-random sequence (the same data set every run). */
function lcg(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

async function seedEvents({ env }: { env: Record<string, string> }): Promise<void> {
  const db = openDatabase(env.LOGBOOK_DATABASE_URL ?? "", env.LOGBOOK_DATA_DIR as string)
  try {
    await migrate(db, migrations)
    const rnd = lcg(42)
    const now = Date.now()
    const span = DAYS * 86_400_000
    const row = (i: number): unknown[] => {
      const svc = SERVICES[Math.floor(rnd() * SERVICES.length)]
      const cat = CATEGORIES[Math.floor(rnd() * CATEGORIES.length)]
      const r = rnd()
      const crit = r < 0.5 ? 1 : r < 0.75 ? 2 : r < 0.9 ? 3 : r < 0.97 ? 4 : 5
      return [
        // in time order, as events arrive (rows of one hour share pages, as in a real log)
        now - span + Math.floor(((i + rnd()) * span) / EVENTS),
        crit,
        cat,
        `${cat} of ${svc} #${i}: rolled out build ${Math.floor(rnd() * 1e6)} (see https://ci.example/${svc}/${i})`,
        "api",
        svc,
        i % 5 === 0 ? "staging" : "production",
        JSON.stringify({ team: `team-${i % 7}` }),
      ]
    }
    const cols = "ts, criticality, category, description, source, service, environment, tags"
    if (db.sqlite) {
      const raw = db.sqlite
      const insert = raw.prepare(`INSERT INTO changes_events (${cols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
      raw.exec("PRAGMA cache_size = -262144")
      raw.transaction(() => {
        for (let i = 0; i < EVENTS; i++) insert.run(...(row(i) as Array<string | number>))
      })()
      raw.exec("ANALYZE")
    } else {
      // 5,000 rows per multi-row INSERT (40,000 parameters)
      for (let i = 0; i < EVENTS; i += 5000) {
        const rows = Array.from({ length: Math.min(5000, EVENTS - i) }, (_, k) => row(i + k))
        const ph = rows.map(() => "(?, ?, ?, ?, ?, ?, ?, ?::jsonb)").join(", ")
        await db.run(`INSERT INTO changes_events (${cols}) VALUES ${ph}`, rows.flat())
      }
      await db.exec("ANALYZE changes_events")
    }
  } finally {
    await db.close()
  }
}

// the six clients' representative bodies (reference §3), stamped with the current time as the clients do
// (`date +%s`, `time()`…): bash's is the invalid JSON it sends for a description with quotes (lenient path)
const POST_BODIES = [
  '{"criticality": "5", "unix_timestamp": "{{now}}", "category": "deploy", "description": "Manually restarting "all" app servers"}',
  '{"criticality": "5", "unix_timestamp": "{{now}}", "category": "deploy", "description": "Msg with \\"quotes\\" and \\u00fcnicode", "field_1": "value1"}',
  '{"criticality":8,"unix_timestamp":{{now}},"category":"deploy","description":"Msg \\"quoted\\" ünicode","environment":"prod"}',
  '{"description":"hello","criticality":5,"category":"info","unix_timestamp":{{now}}}',
  '{"criticality":1,"category":"misc","description":"test event","unix_timestamp":{{now}}}',
  '{"category":"misc","criticality":"1","description":"Server is behind BasicAuth!","environment":"production","unix_timestamp":"{{now}}"}',
]

const post: WrkRequest = {
  method: "POST",
  path: "/api/events",
  headers: { "content-type": "application/json" },
  body: POST_BODIES,
}

export const scenarios: BenchScenario[] = [
  {
    name: "changes: POST /api/events (changelog clients, durable)",
    // its own instance (an env of its own): the posted rows must not land in the seeded read window
    env: { LOGBOOK_ANONYMOUS: "read,ingest" },
    request: post,
    connections: 64,
    target: { ratio: 0.35 },
  },
  {
    name: "changes: GET /api/events?hours_ago=1 (1M events / 30 d)",
    seed: seedEvents,
    // the python and go clients (and browsers) ask for gzip; the ~1,400-event answer is ~190 kB plain
    request: { method: "GET", path: "/api/events?hours_ago=1", headers: { "accept-encoding": "gzip" } },
    target: { ratio: 0.15 },
  },
  {
    name: "changes: GET /ui/changes (1M events / 30 d)",
    // as a browser asks for it
    request: { method: "GET", path: "/ui/changes", headers: { "accept-encoding": "gzip, deflate, br" } },
    target: { ratio: 0.15 },
  },
  {
    name: "changes: GET /api/events?hours_ago=1 (1M events, no cache)",
    env: { LOGBOOK_CHANGES_READ_CACHE: "0" },
    seed: seedEvents,
    request: { method: "GET", path: "/api/events?hours_ago=1", headers: { "accept-encoding": "gzip" } },
    target: { text: "the queries alone (cache off)" },
  },
  {
    name: "changes: GET /ui/changes (1M events, no cache)",
    env: { LOGBOOK_CHANGES_READ_CACHE: "0" },
    // as a browser asks for it
    request: { method: "GET", path: "/ui/changes", headers: { "accept-encoding": "gzip, deflate, br" } },
    target: { text: "the queries alone (cache off)" },
  },
]
