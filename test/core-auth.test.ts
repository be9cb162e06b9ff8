/**
 * Auth: anonymous roles (default, restricted, empty), admin always needs a token, tokens in three
 * places, the sign-in page and its HttpOnly SameSite=Strict cookie, CSRF on state-changing requests.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { samplePlugin } from "./core-sample-plugin"
import { createTestApp, type TestApp } from "./support"

const ADMIN = "admin-token-for-auth-tests"

async function tokenFor(app: TestApp, name: string, roles: string[]): Promise<string> {
  const res = await app.request("/api/v1/tokens", {
    method: "POST",
    json: { name, roles },
    headers: { authorization: `Bearer ${ADMIN}` },
  })
  expect(res.status).toBe(201)
  return ((await res.json()) as { token: string }).token
}

async function signIn(app: TestApp, token: string): Promise<string> {
  const res = await app.request("/ui/signin", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token, next: "/ui/sample" }).toString(),
  })
  expect(res.status).toBe(303)
  expect(res.headers.get("location")).toBe("/ui/sample")
  const setCookie = res.headers.get("set-cookie")!
  expect(setCookie).toContain("HttpOnly")
  expect(setCookie).toContain("SameSite=Strict")
  expect(setCookie).toContain("Path=/")
  return setCookie.split(";")[0]
}

const csrfOf = async (app: TestApp, cookie: string) => {
  const page = await (await app.request("/ui/sample", { headers: { cookie } })).text()
  const m = page.match(/<meta name="csrf-token" content="([^"]+)">/)
  expect(m).not.toBeNull()
  return m![1]
}

describe("default anonymous access (read, ingest)", () => {
  let app: TestApp
  beforeAll(async () => {
    app = await createTestApp({ plugins: [samplePlugin], env: { LOGBOOK_ADMIN_TOKEN: ADMIN } })
  }, 30_000)
  afterAll(() => app.close(), 30_000)

  test("anonymous may read and ingest, never admin", async () => {
    expect(
      (await app.request("/api/v1/sample/notes", { method: "POST", json: { text: "anon" } })).status,
    ).toBe(201)
    expect((await app.request("/api/v1/sample/notes/1")).status).toBe(200)
    expect((await app.request("/api/v1/sample/admin")).status).toBe(401)
    expect((await app.request("/api/v1/tokens")).status).toBe(401)
  })

  test("the bootstrap admin token works in all three places", async () => {
    const basic = `Basic ${Buffer.from(`admin:${ADMIN}`).toString("base64")}`
    for (const headers of [
      { authorization: `Bearer ${ADMIN}` },
      { "x-api-key": ADMIN },
      { authorization: basic },
    ] as Record<string, string>[]) {
      const res = await app.request("/api/v1/sample/admin", { headers })
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ who: "admin-token" })
    }
  })

  test("Basic credentials that are no token are ignored (old clients send fixed ones)", async () => {
    const basic = `Basic ${Buffer.from("logger:").toString("base64")}`
    expect((await app.request("/api/v1/sample/notes/1", { headers: { authorization: basic } })).status).toBe(
      200,
    )
    const wrong = `Basic ${Buffer.from("x:not-a-token").toString("base64")}`
    expect((await app.request("/api/v1/sample/admin", { headers: { authorization: wrong } })).status).toBe(
      401,
    )
  })

  test("tokens are stored hashed: the database never holds the secret", async () => {
    const token = await tokenFor(app, "hash-check", ["read"])
    const rows = await app.db.all<Record<string, unknown>>("SELECT * FROM logbook_tokens")
    expect(JSON.stringify(rows)).not.toContain(token)
    const row = rows.find((r) => r.name === "hash-check")!
    expect(row.digest).toBe(new Bun.CryptoHasher("sha256").update(token).digest("hex"))
  })
})

describe("LOGBOOK_ANONYMOUS", () => {
  test("read only: anonymous ingest is refused", async () => {
    const app = await createTestApp({ plugins: [samplePlugin], env: { LOGBOOK_ANONYMOUS: "read" } })
    try {
      expect((await app.request("/api/v1/sample/notes/1")).status).toBe(404)
      const res = await app.request("/api/v1/sample/notes", { method: "POST", json: { text: "x" } })
      expect(res.status).toBe(401)
    } finally {
      await app.close()
    }
  })

  test("empty: nothing without a token; pages send people to sign in", async () => {
    const app = await createTestApp({
      plugins: [samplePlugin],
      env: { LOGBOOK_ANONYMOUS: "", LOGBOOK_ADMIN_TOKEN: ADMIN },
    })
    try {
      expect((await app.request("/api/v1/sample/notes/1")).status).toBe(401)
      expect(
        (await app.request("/api/v1/sample/notes", { method: "POST", json: { text: "x" } })).status,
      ).toBe(401)
      for (const path of ["/", "/ui/plugins", "/ui/sample?x=1"]) {
        const res = await app.request(path)
        expect(res.status).toBe(303)
        expect(res.headers.get("location")).toBe(`/ui/signin?next=${encodeURIComponent(path)}`)
      }
      // the sign-in page itself and the assets stay reachable
      expect((await app.request("/ui/signin")).status).toBe(200)
      expect((await app.request("/assets/app.css")).status).toBe(200)
      const reader = await tokenFor(app, "reader", ["read"])
      expect((await app.request("/api/v1/sample/notes/1", { headers: { "x-api-key": reader } })).status).toBe(
        404,
      )
      const cookie = await signIn(app, reader)
      expect((await app.request("/", { headers: { cookie } })).status).toBe(200)
    } finally {
      await app.close()
    }
  })
})

describe("sign-in page, session cookie, CSRF", () => {
  let app: TestApp
  let cookie: string
  let csrf: string
  beforeAll(async () => {
    app = await createTestApp({ plugins: [samplePlugin], env: { LOGBOOK_ADMIN_TOKEN: ADMIN } })
    cookie = await signIn(app, await tokenFor(app, "alice", ["read", "ingest"]))
    csrf = await csrfOf(app, cookie)
  }, 30_000)
  afterAll(() => app.close(), 30_000)

  test("the sign-in form is served; a wrong token is refused with a message", async () => {
    const form = await (await app.request("/ui/signin")).text()
    expect(form).toContain('<form method="post" action="/ui/signin">')
    const res = await app.request("/ui/signin", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "token=wrong",
    })
    expect(res.status).toBe(401)
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="logbook"')
    expect(await res.text()).toContain("not valid")
  })

  test("the cookie is Secure on https, also behind a TLS-terminating proxy", async () => {
    const res = await app.request("/ui/signin", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-forwarded-proto": "https" },
      body: new URLSearchParams({ token: ADMIN }).toString(),
    })
    expect(res.headers.get("set-cookie")).toContain("; Secure")
    const plain = await app.request("/ui/signin", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: ADMIN }).toString(),
    })
    expect(plain.headers.get("set-cookie")).not.toContain("Secure")
  })

  test("token API: duplicate names 409, bad roles 422, non-admins 403", async () => {
    const h = { authorization: `Bearer ${ADMIN}` }
    const first = await app.request("/api/v1/tokens", {
      method: "POST",
      json: { name: "dup", roles: ["read"] },
      headers: h,
    })
    expect(first.status).toBe(201)
    const again = await app.request("/api/v1/tokens", {
      method: "POST",
      json: { name: "dup", roles: ["read"] },
      headers: h,
    })
    expect(again.status).toBe(409)
    const bad = await app.request("/api/v1/tokens", {
      method: "POST",
      json: { name: "x", roles: ["root"] },
      headers: h,
    })
    expect(bad.status).toBe(422)
    const { token } = (await first.json()) as { token: string }
    const byReader = await app.request("/api/v1/tokens", { headers: { authorization: `Bearer ${token}` } })
    expect(byReader.status).toBe(403)
    const missing = await app.request("/api/v1/tokens/nobody", { method: "DELETE", headers: h })
    expect(missing.status).toBe(404)
  })

  test("token API: 401/403 come before anything about the body, whatever the body", async () => {
    const reader = await tokenFor(app, "reader-only", ["read"])
    const bodies: Array<[string | undefined, string | undefined]> = [
      ["application/json", "{}"],
      ["application/json", "{bad"],
      ["text/plain", "hello"],
      ["application/x-www-form-urlencoded", "name=t&roles=read"],
      [undefined, undefined],
      ["application/json", JSON.stringify({ name: "never", roles: ["read"] })],
    ]
    for (const [type, body] of bodies) {
      const headers: Record<string, string> = type ? { "content-type": type } : {}
      const anon = await app.request("/api/v1/tokens", { method: "POST", headers, body })
      expect([type, body, anon.status]).toEqual([type, body, 401])
      const byReader = await app.request("/api/v1/tokens", {
        method: "POST",
        headers: { ...headers, authorization: `Bearer ${reader}` },
        body,
      })
      expect([type, body, byReader.status]).toEqual([type, body, 403])
    }
  })

  test("token API: JSON only — form and text are 415 naming application/json, bad JSON 400", async () => {
    const h = { authorization: `Bearer ${ADMIN}` }
    for (const [type, body] of [
      ["application/x-www-form-urlencoded", "name=formed&roles=read"],
      ["text/plain", '{"name":"texted","roles":["read"]}'],
    ]) {
      const res = await app.request("/api/v1/tokens", {
        method: "POST",
        headers: { ...h, "content-type": type },
        body,
      })
      expect(res.status).toBe(415)
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain(
        "application/json",
      )
    }
    const form = new FormData()
    form.set("name", "multi")
    form.set("roles", "read")
    expect((await app.request("/api/v1/tokens", { method: "POST", headers: h, body: form })).status).toBe(415)
    const bad = await app.request("/api/v1/tokens", {
      method: "POST",
      headers: { ...h, "content-type": "application/json" },
      body: "{bad",
    })
    expect(bad.status).toBe(400)
    expect((await app.request("/api/v1/tokens", { method: "POST", headers: h })).status).toBe(422)
    // a JSON body sent without a type is read as JSON (as POST /api/v1/changes does)
    const untyped = await app.request("/api/v1/tokens", {
      method: "POST",
      headers: h,
      body: new TextEncoder().encode(JSON.stringify({ name: "untyped", roles: ["read", "ingest"] })),
    })
    expect(untyped.status).toBe(201)
    expect(((await untyped.json()) as { roles: string[] }).roles).toEqual(["read", "ingest"])
    const names = (
      (await (await app.request("/api/v1/tokens", { headers: h })).json()) as { name: string }[]
    ).map((t) => t.name)
    expect(names).not.toContain("formed")
    expect(names).not.toContain("multi")
  })

  test("never an open redirect", async () => {
    for (const next of ["https://evil.example/", "//evil.example/", "/\\evil.example"]) {
      const res = await app.request("/ui/signin", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token: ADMIN, next }).toString(),
      })
      expect(res.headers.get("location")).toBe("/")
    }
  })

  test("pages show who is signed in, with a sign-out form", async () => {
    const page = await (await app.request("/ui/sample", { headers: { cookie } })).text()
    expect(page).toContain('<span class="user" title="signed in">alice</span>')
    expect(page).toContain('action="/ui/signout"')
    expect(page).toContain(`name="_csrf" value="${csrf}"`)
    const anon = await (await app.request("/ui/sample")).text()
    expect(anon).toContain('href="/ui/signin"')
    expect(anon).not.toContain('class="user"')
  })

  test("a cookie-authenticated POST without the CSRF token is refused", async () => {
    const form = { "content-type": "application/x-www-form-urlencoded" }
    const res = await app.request("/ui/sample/act", {
      method: "POST",
      headers: { cookie, ...form },
      body: "what=x",
    })
    expect(res.status).toBe(403)
    const wrong = await app.request("/ui/sample/act", {
      method: "POST",
      headers: { cookie, ...form, "x-csrf-token": "nope" },
      body: "what=x",
    })
    expect(wrong.status).toBe(403)
    // API routes too: the cookie is a credential wherever it is sent
    const api = await app.request("/api/v1/sample/notes", {
      method: "POST",
      json: { text: "csrf" },
      headers: { cookie },
    })
    expect(api.status).toBe(403)
    expect(await app.db.all("SELECT id FROM sample_notes WHERE text = 'csrf'")).toEqual([])
  })

  test("with the token (header as htmx sends it, or form field) it goes through", async () => {
    const form = { "content-type": "application/x-www-form-urlencoded" }
    const h = await app.request("/ui/sample/act", {
      method: "POST",
      headers: { cookie, ...form, "x-csrf-token": csrf },
      body: "what=header",
    })
    expect(h.status).toBe(200)
    expect(await h.text()).toContain("done header")
    const f = await app.request("/ui/sample/act", {
      method: "POST",
      headers: { cookie, ...form },
      body: new URLSearchParams({ what: "field", _csrf: csrf }).toString(),
    })
    expect(f.status).toBe(200)
    expect(await f.text()).toContain("done field")
    const api = await app.request("/api/v1/sample/notes", {
      method: "POST",
      json: { text: "csrf-ok" },
      headers: { cookie, "x-csrf-token": csrf },
    })
    expect(api.status).toBe(201)
  })

  test("the session carries the token's roles", async () => {
    expect((await app.request("/api/v1/sample/admin", { headers: { cookie } })).status).toBe(403)
  })

  test("a forged or tampered cookie is no session", async () => {
    const [name, value] = cookie.split("=")
    const [id, exp] = value.split(".")
    const forged = `${name}=${id}.${Number(exp) + 1000}.${"A".repeat(43)}`
    const page = await (await app.request("/ui/sample", { headers: { cookie: forged } })).text()
    expect(page).not.toContain('class="user"')
  })

  test("sign-out needs the CSRF token and clears the cookie", async () => {
    const form = { "content-type": "application/x-www-form-urlencoded" }
    expect(
      (await app.request("/ui/signout", { method: "POST", headers: { cookie, ...form }, body: "" })).status,
    ).toBe(403)
    const res = await app.request("/ui/signout", {
      method: "POST",
      headers: { cookie, ...form },
      body: new URLSearchParams({ _csrf: csrf }).toString(),
    })
    expect(res.status).toBe(303)
    expect(res.headers.get("set-cookie")).toContain("Max-Age=0")
  })

  test("revoking the token ends its sessions", async () => {
    const bobToken = await tokenFor(app, "bob", ["read"])
    const bob = await signIn(app, bobToken)
    expect(await (await app.request("/ui/sample", { headers: { cookie: bob } })).text()).toContain(
      ">bob</span>",
    )
    const del = await app.request("/api/v1/tokens/bob", {
      method: "DELETE",
      headers: { authorization: `Bearer ${ADMIN}` },
    })
    expect(del.status).toBe(200)
    expect(await (await app.request("/ui/sample", { headers: { cookie: bob } })).text()).not.toContain(
      ">bob</span>",
    )
    // the revoked token itself: a 401 that says why, with its challenge
    const revoked = await app.request("/api/v1/sample/notes/1", {
      headers: { authorization: `Bearer ${bobToken}` },
    })
    expect(revoked.status).toBe(401)
    expect(revoked.headers.get("www-authenticate")).toBe('Bearer realm="logbook", error="invalid_token"')
  })
})
