import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { createToken } from "../../src/auth/tokens"
import { createTestApp, type TestApp } from "../../test/support"
import levels from "./plugin"
import { adminHeaders, testEnv } from "./testing"

let app: TestApp
let base: string
let readHeaders: Record<string, string>

beforeAll(async () => {
  app = await createTestApp({ plugins: [levels], env: testEnv })
  base = await app.listen()
  const { token } = await createToken(app.db, { name: "reader", roles: ["read"], now: Date.now() })
  readHeaders = { authorization: `Bearer ${token}` }
})
afterAll(async () => {
  await app?.close()
})

const call = (method: string, path: string, body?: BodyInit, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method, body, headers })

describe("native levels API: admin routes", () => {
  test("401/403 come before the body is looked at: any body, valid or not, gets the role's answer", async () => {
    const json = { "content-type": "application/json" }
    const routes: Array<[string, string]> = [
      ["POST", "/api/v1/levels/overrides"],
      ["PUT", "/api/v1/levels/profiles/nightly"],
      ["POST", "/api/v1/levels/triggers"],
      ["PATCH", "/api/v1/levels/triggers/1"],
    ]
    for (const [method, path] of routes)
      for (const body of ["{}", '{"level":5}', "[]", '{"levels":"x","active":"maybe"}']) {
        expect([method, path, body, (await call(method, path, body, json)).status]).toEqual([
          method,
          path,
          body,
          401,
        ])
        const r = await call(method, path, body, { ...json, ...readHeaders })
        expect([method, path, body, r.status]).toEqual([method, path, body, 403])
      }
    // the admin still gets the 422 naming the field
    const r = await call("POST", "/api/v1/levels/overrides", "{}", { ...json, ...adminHeaders })
    expect(r.status).toBe(422)
  })
})
