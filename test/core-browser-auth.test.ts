/**
 * Sign-in and CSRF in a real browser (Debian chromium via playwright-core): the sign-in form sets the
 * session cookie, the header shows who is signed in, an htmx POST carries the CSRF token by itself
 * (hx-headers:inherited on <body>), a scripted POST without it is refused, sign-out works.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import type { Browser } from "playwright-core"
import { browserAvailable, openBrowser } from "./browser"
import { samplePlugin } from "./core-sample-plugin"
import { createTestApp, type TestApp } from "./support"

let app: TestApp
let base: string
let browser: Browser
let token = ""

beforeAll(async () => {
  if (!browserAvailable) return
  app = await createTestApp({ plugins: [samplePlugin], env: { LOGBOOK_ADMIN_TOKEN: "browser-admin" } })
  base = await app.listen()
  const res = await app.request("/api/v1/tokens", {
    method: "POST",
    json: { name: "carol", roles: ["read", "ingest"] },
    headers: { authorization: "Bearer browser-admin" },
  })
  token = ((await res.json()) as { token: string }).token
  browser = await openBrowser()
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await app?.close()
}, 30_000)

test.skipIf(!browserAvailable)(
  "sign in, htmx POST with the CSRF token, scripted POST without it refused, sign out",
  async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(`${base}/ui/signin?next=/ui/sample/form`)
    await page.fill("#token", token)
    await page.click("button[type=submit]")
    await page.waitForURL(`${base}/ui/sample/form`)
    expect(await page.textContent(".who .user")).toBe("carol")
    const cookie = (await context.cookies()).find((c) => c.name === "logbook_session")
    expect(cookie?.httpOnly).toBe(true)
    expect(cookie?.sameSite).toBe("Strict")

    // htmx sends X-CSRF-Token from hx-headers:inherited on <body>
    await page.click("#act")
    await page.waitForSelector("#out #done")
    expect(await page.textContent("#out #done")).toBe("done htmx")

    // the same POST from page script, with the cookie but without the token
    const status = await page.evaluate(async () => {
      const r = await fetch("/ui/sample/act", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "what=script",
      })
      return r.status
    })
    expect(status).toBe(403)

    await page.click("form[action='/ui/signout'] button")
    await page.waitForURL(`${base}/`)
    expect(await page.locator(".who .user").count()).toBe(0)
    expect(await page.locator(".who a[href='/ui/signin']").count()).toBe(1)
    await context.close()
  },
  60_000,
)
