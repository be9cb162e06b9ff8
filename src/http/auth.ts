/**
 * Who is calling. Credentials, in order: session cookie (UI), `Authorization: Bearer`, `X-API-Key`, the
 * password of HTTP Basic (for clients that only do Basic). A Bearer/X-API-Key that is not a live token is
 * refused (401) rather than downgraded; Basic credentials that are not a token are ignored, because the
 * old changelog/Chronologer clients send fixed Basic headers (`logger:`) that never were secrets.
 * Callers without credentials get the roles in LOGBOOK_ANONYMOUS. Admin always needs a token.
 */
import { timingSafeEqual } from "node:crypto"
import {
  digestOf,
  findLiveToken,
  findLiveTokenById,
  parseRoles,
  revokeToken,
  type TokenRow,
} from "../auth/tokens"
import type { CoreConfig } from "../config"
import type { Db } from "../db/database"
import type { Auth, Principal, Role } from "../plugin/contract"
import { ApiError } from "./errors"

export const SESSION_COOKIE = "logbook_session"
const SESSION_MS = 12 * 3600_000
const CACHE_MS = 15_000

const expand = (roles: Iterable<Role>): Set<Role> => {
  const s = new Set(roles)
  if (s.has("admin")) {
    s.add("read")
    s.add("ingest")
  }
  return s
}

const sameSecret = (a: string, b: string) =>
  timingSafeEqual(Buffer.from(digestOf(a), "hex"), Buffer.from(digestOf(b), "hex"))

function hmac(secret: string, text: string): string {
  return new Bun.CryptoHasher("sha256", secret).update(text).digest("base64url")
}

export function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined
  for (const part of header.split(";")) {
    const i = part.indexOf("=")
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim())
  }
  return undefined
}

export interface AuthService extends Auth {
  /** Cookie value for a signed-in token; undefined when the token is not valid. */
  signIn(token: string): Promise<{ cookie: string; principal: Principal } | undefined>
  sessionCookie(value: string, secure: boolean): string
  clearCookie(): string
  csrfFor(request: Request): Promise<string>
  checkCsrf(request: Request, formValue?: unknown): Promise<boolean>
  /** Revokes a token by id or name and forgets cached principals at once (this instance). */
  revoke(idOrName: string): Promise<boolean>
  /** Drops the principal cache (tokens revoked elsewhere are otherwise honoured for up to 15 s). */
  forget(): void
}

export function createAuth(opts: {
  db: Db
  config: CoreConfig
  secret: string
  now: () => number
}): AuthService {
  const { db, config, secret, now } = opts
  const anonymous: Principal = {
    name: "anonymous",
    roles: new Set(config.anonymous as Role[]),
    via: "anonymous",
  }
  const invalid: Principal = { name: "invalid", roles: new Set(), via: "anonymous" }
  const cache = new Map<string, { principal: Principal | undefined; until: number }>()
  const perRequest = new WeakMap<Request, Promise<Principal>>()

  const fromRow = (row: TokenRow, via: Principal["via"]): Principal => ({
    name: row.name,
    roles: expand(parseRoles(row.roles)),
    via,
    tokenId: Number(row.id),
  })

  /** Records when a token was last used (at most once a minute per token; never delays the request). */
  const touch = (row: TokenRow) => {
    const t = now()
    if (row.last_used_at !== null && t - Number(row.last_used_at) < 60_000) return
    db.run("UPDATE logbook_tokens SET last_used_at = ? WHERE id = ?", [t, row.id]).catch(() => {})
  }

  async function byToken(token: string, via: Principal["via"] = "token"): Promise<Principal | undefined> {
    if (config.adminToken && sameSecret(token, config.adminToken))
      return { name: "admin-token", roles: expand(["admin"]), via: via === "session" ? via : "admin-token" }
    const key = `${via}:${digestOf(token)}`
    const hit = cache.get(key)
    const t = now()
    if (hit && hit.until > t) return hit.principal
    const row = await findLiveToken(db, token)
    if (row) touch(row)
    const principal = row ? fromRow(row, via) : undefined
    if (cache.size > 10_000) cache.clear()
    cache.set(key, { principal, until: t + CACHE_MS })
    return principal
  }

  // a session of the bootstrap admin token (id 0) dies with that token: its value is part of the key
  const sessionKey = (id: string) => (id === "0" ? `${secret}:${digestOf(config.adminToken)}` : secret)
  const sessionMac = (id: string, expires: number | string) => hmac(sessionKey(id), `${id}.${expires}`)

  async function bySession(value: string): Promise<Principal | undefined> {
    const [id, expires, mac] = value.split(".")
    if (!id || !expires || !mac) return undefined
    const expected = sessionMac(id, expires)
    if (mac.length !== expected.length || !timingSafeEqual(Buffer.from(mac), Buffer.from(expected)))
      return undefined
    if (Number(expires) < now()) return undefined
    if (id === "0")
      return config.adminToken ? { name: "admin-token", roles: expand(["admin"]), via: "session" } : undefined
    const row = await findLiveTokenById(db, Number(id))
    if (row) touch(row)
    return row ? fromRow(row, "session") : undefined
  }

  async function resolve(request: Request): Promise<Principal> {
    const h = request.headers
    const cookie = readCookie(h.get("cookie"), SESSION_COOKIE)
    if (cookie) {
      const p = await bySession(cookie)
      if (p) return p
    }
    const authz = h.get("authorization")
    if (authz) {
      const [scheme, value = ""] = authz.split(/\s+/, 2)
      const s = scheme.toLowerCase()
      if (s === "bearer") return (await byToken(value.trim())) ?? invalid
      if (s === "basic") {
        let decoded = ""
        try {
          decoded = Buffer.from(value, "base64").toString("utf8")
        } catch {}
        const i = decoded.indexOf(":")
        const password = i >= 0 ? decoded.slice(i + 1) : ""
        if (password) {
          const p = await byToken(password)
          if (p) return p
        }
      }
    }
    const key = h.get("x-api-key")
    if (key) return (await byToken(key.trim())) ?? invalid
    return anonymous
  }

  const principal = (request: Request) => {
    let p = perRequest.get(request)
    if (!p) {
      p = resolve(request)
      perRequest.set(request, p)
    }
    return p
  }

  const csrfOf = (sessionValue: string) => hmac(secret, `csrf:${sessionValue}`)

  async function checkCsrf(request: Request, formValue?: unknown): Promise<boolean> {
    const session = readCookie(request.headers.get("cookie"), SESSION_COOKIE)
    if (!session) return false
    const expected = csrfOf(session)
    const given = request.headers.get("x-csrf-token") ?? (typeof formValue === "string" ? formValue : "")
    return given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected))
  }

  const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"])

  return {
    principal,
    need(role: Role) {
      return async (c: { request: Request; body?: unknown }) => {
        const p = await principal(c.request)
        // every 401 names the scheme to use (RFC 9110); a token that was sent but is no good says so (RFC 6750)
        if (p === invalid)
          throw new ApiError(401, "unauthorized", "the token is not valid (unknown or revoked)", undefined, {
            "www-authenticate": 'Bearer realm="logbook", error="invalid_token"',
          })
        if (!p.roles.has(role)) {
          if (p.via === "anonymous")
            throw new ApiError(401, "unauthorized", `this needs the ${role} role: send a token`, undefined, {
              "www-authenticate": 'Bearer realm="logbook"',
            })
          throw new ApiError(403, "forbidden", `${p.name} does not have the ${role} role`)
        }
        if (p.via === "session" && UNSAFE.has(c.request.method)) {
          const form =
            c.body && typeof c.body === "object" ? (c.body as Record<string, unknown>)._csrf : undefined
          if (!(await checkCsrf(c.request, form)))
            throw new ApiError(403, "csrf", "missing or wrong CSRF token: reload the page and try again")
        }
      }
    },
    async signIn(token) {
      const p = await byToken(token.trim(), "session")
      if (!p) return undefined
      const expires = now() + SESSION_MS
      const id = String(p.tokenId ?? 0)
      return { cookie: `${id}.${expires}.${sessionMac(id, expires)}`, principal: p }
    },
    sessionCookie: (value, secure) =>
      `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_MS / 1000}${secure ? "; Secure" : ""}`,
    clearCookie: () => `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`,
    async csrfFor(request) {
      const session = readCookie(request.headers.get("cookie"), SESSION_COOKIE)
      return session ? csrfOf(session) : ""
    },
    checkCsrf,
    async revoke(idOrName) {
      const revoked = await revokeToken(db, idOrName, now())
      cache.clear()
      return revoked
    },
    forget: () => cache.clear(),
  }
}

/** The session-signing key: LOGBOOK_SECRET, else one generated once and kept in the database. */
export async function sessionSecret(db: Db, configured: string): Promise<string> {
  if (configured) return configured
  const fresh = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url")
  await db.run(
    db.dialect === "sqlite"
      ? "INSERT OR IGNORE INTO logbook_kv (key, value) VALUES ('session_secret', ?)"
      : "INSERT INTO logbook_kv (key, value) VALUES ('session_secret', ?) ON CONFLICT (key) DO NOTHING",
    [fresh],
  )
  const row = await db.get<{ value: string }>("SELECT value FROM logbook_kv WHERE key = 'session_secret'")
  return row?.value ?? fresh
}
