/**
 * What the records benchmarks share: the verbatim Python 3.12 HTTPHandler request of the form POST
 * scenario, and a records plugin context whose writer stores nothing (ids counted up), for measuring the
 * route's own JavaScript outside a full Logbook.
 */
import type { RecordsContext } from "../../plugins/records/settings"

/** The body an unmodified `logging.handlers.HTTPHandler` (Python 3.12) POSTs for one record. */
export const FORM_BODY =
  "name=app.jobs&msg=Hello+%25s+%23%25d&args=%28%27w%C3%B6rld%27%2C+42%29&levelname=INFO&levelno=20&pathname=%2Fsrv%2Fapp%2Fjobs.py&filename=jobs.py&module=jobs&exc_info=None&exc_text=None&stack_info=None&lineno=6&funcName=%3Cmodule%3E&created=1795343959.5668774&msecs=566.0&relativeCreated=11.433124542236328&thread=139688504195968&threadName=MainThread&processName=MainProcess&process=6074&taskName=None&user_id=7&tags=%5B%27a%27%2C+%27b%27%5D&flag=True"

/** Its headers (Basic `logger:` as in Chronologer's default). */
export const FORM_HEADERS = {
  "Accept-Encoding": "identity",
  "Content-type": "application/x-www-form-urlencoded",
  Authorization: "Basic bG9nZ2VyOg==",
}

/** A records context with Chronologer's `logger:` user whose writer stores nothing. */
export function storeNothingContext(): RecordsContext {
  let nextId = 0
  return {
    db: { dialect: "sqlite" },
    writer: { insert: async (op: { rows: unknown[] }) => op.rows.map(() => ++nextId) },
    events: { has: () => false, emit() {} },
    now: () => Date.now(),
    settings: { maxMessageBytes: 256 * 1024, maxRecordBytes: 1024 * 1024, basicUsers: ["logger:"] },
    metrics: { increment() {} },
    log: { warning() {} },
    auth: { principal: async () => ({ roles: new Set(["read", "ingest"]) }) },
  } as unknown as RecordsContext
}
