/**
 * Request ids: accept the caller's (X-Request-ID, X-Correlation-ID, Request-ID, X-Varnish) when it looks
 * like an id — 1 to 128 characters of letters, digits and `-_.:/+=@` — otherwise generate one.
 */
const HEADERS = ["x-request-id", "x-correlation-id", "request-id", "x-varnish"] as const
const VALID = /^[A-Za-z0-9\-_.:/+=@ ]{1,128}$/

/** The caller's request id when it sent a valid one, else undefined (nothing generated). */
export function callerRequestId(headers: Headers): string | undefined {
  for (const h of HEADERS) {
    const v = headers.get(h)
    if (v !== null) {
      const t = v.trim()
      if (VALID.test(t)) return t
    }
  }
  return undefined
}

export function requestIdOf(headers: Headers): string {
  return callerRequestId(headers) ?? crypto.randomUUID()
}
