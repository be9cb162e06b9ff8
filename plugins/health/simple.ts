/**
 * Configured simple checks — HTTP URL, TCP connect, PostgreSQL ping, Redis ping — from
 * LOGBOOK_HEALTH_CHECKS (a JSON array) and/or LOGBOOK_HEALTH_CHECKS_FILE (a JSON file holding the same
 * array, or `{"checks": [...]}`), validated with TypeBox so a typo names the bad field.
 */
import { readFileSync } from "node:fs"
import { type Static, Type } from "@sinclair/typebox"
import { Value } from "@sinclair/typebox/value"
import postgres from "postgres"
import type { CheckResult, HealthCheck } from "../../src/plugin/contract"
import { parseStatus } from "./runner"

const common = {
  name: Type.String({ minLength: 1 }),
  level: Type.Optional(Type.Integer({ minimum: 1 })),
  groups: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  critical: Type.Optional(Type.Boolean()),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 1 })),
  cacheTtlMs: Type.Optional(Type.Integer({ minimum: 0 })),
  intervalMs: Type.Optional(Type.Integer({ minimum: 0 })),
}

const SimpleCheck = Type.Union([
  Type.Object(
    {
      ...common,
      type: Type.Literal("http"),
      url: Type.String({ pattern: "^https?://" }),
      method: Type.Optional(Type.Union([Type.Literal("GET"), Type.Literal("HEAD")])),
      expectStatus: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
      expectBody: Type.Optional(Type.String()),
      headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      ...common,
      type: Type.Literal("tcp"),
      host: Type.String({ minLength: 1 }),
      port: Type.Integer({ minimum: 1, maximum: 65535 }),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { ...common, type: Type.Literal("postgres"), url: Type.String({ pattern: "^postgres(ql)?://" }) },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      ...common,
      type: Type.Literal("redis"),
      host: Type.Optional(Type.String({ minLength: 1 })),
      port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    },
    { additionalProperties: false },
  ),
])
export type SimpleCheckConfig = Static<typeof SimpleCheck>

/** Parses one JSON text (array or `{checks: [...]}`); throws with the offending entry and field. */
export function parseSimpleChecks(text: string, origin: string): SimpleCheckConfig[] {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (e) {
    throw new Error(`${origin}: not valid JSON (${(e as Error).message})`)
  }
  const list = Array.isArray(data) ? data : (data as { checks?: unknown })?.checks
  if (!Array.isArray(list)) throw new Error(`${origin}: expected a JSON array of checks or {"checks": [...]}`)
  return list.map((item, i) => {
    if (Value.Check(SimpleCheck, item)) return item
    const type = (item as { type?: unknown })?.type
    const variant = SimpleCheck.anyOf.find((s) => s.properties.type.const === type)
    if (!variant)
      throw new Error(
        `${origin}[${i}]: "type" must be one of http, tcp, postgres, redis (got ${JSON.stringify(type)})`,
      )
    const first = [...Value.Errors(variant, item)][0]
    throw new Error(
      `${origin}[${i}] (${type}): ${first?.path || "(entry)"} ${first?.message ?? "is invalid"}`,
    )
  })
}

/** Reads the configured checks from the setting and the file (both may be used). */
export function loadSimpleChecks(env: { checks: string; checksFile: string }): SimpleCheckConfig[] {
  const out: SimpleCheckConfig[] = []
  if (env.checks.trim()) out.push(...parseSimpleChecks(env.checks, "LOGBOOK_HEALTH_CHECKS"))
  if (env.checksFile) {
    let text: string
    try {
      text = readFileSync(env.checksFile, "utf8")
    } catch (e) {
      throw new Error(`LOGBOOK_HEALTH_CHECKS_FILE ${env.checksFile}: ${(e as Error).message}`)
    }
    out.push(...parseSimpleChecks(text, env.checksFile))
  }
  return out
}

export interface SimpleChecks {
  checks: HealthCheck[]
  close(): Promise<void>
}

export function buildSimpleChecks(configs: SimpleCheckConfig[]): SimpleChecks {
  const closers: Array<() => Promise<void>> = []
  const checks = configs.map((c): HealthCheck => {
    const base = c
    const timeoutMs = c.timeoutMs ?? 2000
    const spec = {
      name: base.name,
      level: base.level,
      groups: base.groups,
      critical: base.critical,
      timeoutMs,
      cacheTtlMs: base.cacheTtlMs,
      intervalMs: base.intervalMs,
    }
    switch (c.type) {
      case "http":
        return { ...spec, componentType: "component", check: () => httpCheck(c, timeoutMs) }
      case "tcp":
        return {
          ...spec,
          componentType: "system",
          check: async () => {
            await tcpConnect(c.host, c.port)
            return { status: "pass", message: `connected to ${c.host}:${c.port}` }
          },
        }
      case "postgres": {
        let sql: postgres.Sql | undefined
        closers.push(async () => void (await sql?.end({ timeout: 1 })))
        return {
          ...spec,
          componentType: "datastore",
          async check() {
            sql ??= postgres(c.url, {
              max: 1,
              connect_timeout: Math.ceil(timeoutMs / 1000),
              idle_timeout: 30,
              onnotice: () => {},
            })
            const t0 = performance.now()
            await sql`SELECT 1`
            const ms = Math.round((performance.now() - t0) * 100) / 100
            return {
              status: "pass",
              message: "postgresql is available",
              observedValue: ms,
              observedUnit: "ms",
            }
          },
        }
      }
      default:
        return {
          ...spec,
          componentType: "datastore",
          check: () => redisPing(c.host ?? "127.0.0.1", c.port ?? 6379),
        }
    }
  })
  return { checks, close: async () => void (await Promise.all(closers.map((f) => f()))) }
}

async function httpCheck(
  c: Extract<SimpleCheckConfig, { type: "http" }>,
  timeoutMs: number,
): Promise<CheckResult> {
  const expected = c.expectStatus ?? 200
  let res: Response
  try {
    res = await fetch(c.url, {
      method: c.method ?? "GET",
      headers: c.headers,
      signal: AbortSignal.timeout(timeoutMs),
    })
  } catch (e) {
    return { status: "fail", message: `Error connecting to URL: ${(e as Error).message}` }
  }
  const body = c.method === "HEAD" ? "" : await res.text()
  if (res.status !== expected)
    return { status: "fail", message: `server responded with unexpected status code: ${res.status}` }
  if (c.expectBody !== undefined && !body.includes(c.expectBody))
    return { status: "fail", message: `response body does not contain ${JSON.stringify(c.expectBody)}` }
  // a remote health+json answer carries its own status (aliases accepted in any case)
  if (/health\+json|json/.test(res.headers.get("content-type") ?? "")) {
    try {
      const remote = parseStatus((JSON.parse(body) as { status?: unknown })?.status)
      if (remote && remote !== "pass")
        return { status: remote, message: `remote service reports ${remote}`, http_status: res.status }
    } catch {
      // not JSON after all: the status code decided
    }
  }
  return { status: "pass", message: "URL is available", http_status: res.status }
}

/** Opens a TCP connection and closes it; rejects on error. (The runner bounds the time.) */
export function tcpConnect(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    Bun.connect({
      hostname: host,
      port,
      socket: {
        open(s) {
          s.end()
          resolve()
        },
        data() {},
        error(_s, e) {
          reject(e)
        },
        connectError(_s, e) {
          reject(e)
        },
      },
    }).catch(reject)
  })
}

/** `PING` in RESP over a raw TCP connection; healthy on `+PONG`. */
export function redisPing(host: string, port: number): Promise<CheckResult> {
  return new Promise((resolve, reject) => {
    let buf = ""
    const t0 = performance.now()
    Bun.connect({
      hostname: host,
      port,
      socket: {
        open(s) {
          s.write("PING\r\n")
        },
        data(s, chunk) {
          buf += chunk.toString()
          if (!buf.includes("\r\n")) return
          s.end()
          const ms = Math.round((performance.now() - t0) * 100) / 100
          if (buf.startsWith("+PONG"))
            resolve({ status: "pass", message: "redis answered PONG", observedValue: ms, observedUnit: "ms" })
          else resolve({ status: "fail", message: `redis answered ${JSON.stringify(buf.trim())}` })
        },
        error(_s, e) {
          reject(e)
        },
        connectError(_s, e) {
          reject(e)
        },
      },
    }).catch(reject)
  })
}
