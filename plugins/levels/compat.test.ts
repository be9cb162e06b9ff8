import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { createTestApp, type TestApp } from "../../test/support"
import levels from "./plugin"
import { ADMIN_TOKEN, adminHeaders, testEnv, timelineRecorder } from "./testing"

let app: TestApp
let flagged: TestApp
const timeline = timelineRecorder()

beforeAll(async () => {
  app = await createTestApp({ plugins: [timeline.plugin, levels], env: testEnv })
  flagged = await createTestApp({
    plugins: [levels],
    env: { ...testEnv, LOGBOOK_LEVELS_C2C_SECRET_PARAM: "1" },
  })
  app.host.logging.logger("app.db") // a known logger, as if the app had created it
})
afterAll(async () => {
  await app?.close()
  await flagged?.close()
})

const spring = (name: string, json: unknown, headers: Record<string, string> = adminHeaders) =>
  app.request(`/actuator/loggers/${name}`, { method: "POST", json, headers })
const activeCount = async () =>
  Number(
    (await app.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM levels_overrides WHERE revoked_at IS NULL"))
      ?.n,
  )

describe("Spring Boot actuator loggers", () => {
  test("GET /actuator/loggers lists levels and every logger with configured and effective level", async () => {
    const r = await app.request("/actuator/loggers")
    expect(r.status).toBe(200)
    expect(r.headers.get("content-type")).toContain("application/vnd.spring-boot.actuator.v3+json")
    const body = (await r.json()) as { levels: string[]; loggers: Record<string, unknown>; groups: unknown }
    expect(body.levels).toEqual(["OFF", "FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"])
    expect(body.loggers.ROOT).toEqual({ configuredLevel: "DEBUG", effectiveLevel: "DEBUG" })
    expect(body.loggers["app.db"]).toEqual({ configuredLevel: null, effectiveLevel: "DEBUG" })
    expect(body.groups).toEqual({})
    expect((await app.request("/actuator/loggers/no.such.logger")).status).toBe(404)
    const one = await app.request("/actuator/loggers/app.db", { headers: { accept: "application/json" } })
    expect(one.headers.get("content-type")).toContain("application/json")
    expect(await one.json()).toEqual({ configuredLevel: null, effectiveLevel: "DEBUG" })
  })

  test("POST sets a time-boxed level (ttl, reason), 204; {} and null reset; invalid → 400; admin only", async () => {
    expect((await spring("app.db", { configuredLevel: "WARN" }, {})).status).toBe(401)
    const bad = await spring("app.db", { configuredLevel: "LOUD" })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { status: number }).status).toBe(400)
    expect((await spring("app.db", { configuredLevel: "WARN", ttl: "tomorrow" })).status).toBe(400)
    expect((await spring("bad..name", { configuredLevel: "WARN" })).status).toBe(400)
    expect(await activeCount()).toBe(0)

    const r = await spring("app.db", { configuredLevel: "warn", ttl: "PT10M", reason: "investigating" })
    expect(r.status).toBe(204)
    expect(await r.text()).toBe("")
    expect(await (await app.request("/actuator/loggers/app.db")).json()).toEqual({
      configuredLevel: "WARN",
      effectiveLevel: "WARN",
    })
    const o = (await (await app.request("/api/v1/levels/overrides")).json()) as {
      overrides: Array<{ expires_at: number; starts_at: number; reason: string }>
    }
    expect(o.overrides[0].expires_at - o.overrides[0].starts_at).toBe(600_000)
    expect(o.overrides[0].reason).toBe("investigating")
    expect(timeline.events.at(-1)?.description).toBe(
      "app.db: DEBUG → WARNING for 10m by admin-token: investigating",
    )

    // seconds work too; a new dotted name can be created
    expect((await spring("brand.new", { configuredLevel: "ERROR", ttl: 90 })).status).toBe(204)
    expect(app.host.logging.levels.effective("brand.new.child")).toBe("error")

    expect((await spring("app.db", {})).status).toBe(204)
    expect(app.host.logging.levels.effective("app.db")).toBe("debug")
    expect((await spring("brand.new", { configuredLevel: null })).status).toBe(204)
    expect(await activeCount()).toBe(0)
    expect(timeline.events.filter((e) => e.tags?.action === "revoke").length).toBe(2)
    expect((await spring("never.seen", {})).status).toBe(404)
  })
})

describe("Spring Boot actuator loggers over HTTP: JSON only", () => {
  test("a form, text or missing body never clears a level: 415 for other types, 400 for no JSON object", async () => {
    const base = await app.listen()
    const url = `${base}/actuator/loggers/logbook.changes`
    const post = (body: BodyInit | undefined, type?: string, auth = true) =>
      fetch(url, {
        method: "POST",
        body,
        headers: { ...(auth ? adminHeaders : {}), ...(type ? { "content-type": type } : {}) },
      })
    const configured = async () =>
      ((await (await fetch(url, { headers: adminHeaders })).json()) as { configuredLevel: string | null })
        .configuredLevel
    expect((await post('{"configuredLevel":"WARN"}', "application/json")).status).toBe(204)
    expect(await configured()).toBe("WARN")
    const body = '{"configuredLevel":"DEBUG"}'
    for (const type of [
      "application/x-www-form-urlencoded",
      "text/plain;charset=UTF-8",
      "multipart/form-data",
    ]) {
      const r = await post(body, type)
      expect(r.status).toBe(415)
      const e = (await r.json()) as { status: number; error: string; message: string; path: string }
      expect(e).toMatchObject({
        status: 415,
        error: "Unsupported Media Type",
        path: "/actuator/loggers/logbook.changes",
      })
      expect(e.message).toContain("send application/json")
      expect(await configured()).toBe("WARN")
    }
    // no body, an empty body, invalid JSON and JSON that is not an object: 400, the level stays
    for (const [b, type] of [
      [undefined, undefined],
      ["", "application/json"],
      ["{", "application/json"],
      ['"DEBUG"', "application/json"],
      ["[]", "application/json"],
    ] as const) {
      const r = await post(b, type)
      expect(r.status).toBe(400)
      expect(((await r.json()) as { status: number }).status).toBe(400)
      expect(await configured()).toBe("WARN")
    }
    // who is not an admin learns nothing about the body: 401 first, whatever its type
    expect((await post(body, "application/x-www-form-urlencoded", false)).status).toBe(401)
    expect((await post("{", "application/json", false)).status).toBe(401)
    // Spring's actuator types, a charset, and a body without a type are read as JSON
    expect(
      (await post('{"configuredLevel":"ERROR"}', "application/vnd.spring-boot.actuator.v3+json")).status,
    ).toBe(204)
    expect(await configured()).toBe("ERROR")
    expect(
      (await post('{"configuredLevel":"INFO"}', "application/vnd.spring-boot.actuator.v2+json")).status,
    ).toBe(204)
    expect(await configured()).toBe("INFO")
    expect((await post(new TextEncoder().encode('{"configuredLevel":"DEBUG"}'))).status).toBe(204)
    expect(await configured()).toBe("DEBUG")
    expect((await post("{}", "application/json; charset=utf-8")).status).toBe(204)
    expect(await configured()).toBeNull()
  })
})

describe("c2cwsgiutils logging level", () => {
  const c2c = (qs: string, headers: Record<string, string> = { "x-api-key": ADMIN_TOKEN }, on = app) =>
    on.request(`/c2c/logging/level?${qs}`, { headers })

  test("403 without a valid secret; ?secret= only behind the compatibility flag", async () => {
    expect((await c2c("name=app.db", {})).status).toBe(403)
    expect((await c2c("name=app.db", { "x-api-key": "wrong" })).status).toBe(403)
    expect((await c2c(`name=app.db&secret=${ADMIN_TOKEN}`, {})).status).toBe(403)
    expect(await (await c2c("name=app.db", {}, flagged)).json()).toEqual({
      status: 403,
      message: "Missing or invalid secret",
    })
    flagged.host.logging.logger("app.db")
    const ok = await c2c(`name=app.db&secret=${ADMIN_TOKEN}`, {}, flagged)
    expect(ok.status).toBe(200)
  })

  test("get, set, list and reset in c2c's shapes", async () => {
    expect(await (await c2c("name=app.db")).json()).toEqual({
      status: 200,
      name: "app.db",
      level: "NOTSET",
      effective_level: "DEBUG",
    })
    const bad = await c2c("name=app.db&level=debugg")
    expect(bad.status).toBe(400)
    expect(await activeCount()).toBe(0)
    expect((await c2c("name=unknown.one&level=DEBUG")).status).toBe(404)
    expect(await (await c2c("name=app.db&level=ERROR")).json()).toEqual({
      status: 200,
      name: "app.db",
      level: "ERROR",
      effective_level: "ERROR",
    })
    expect(app.host.logging.levels.effective("app.db")).toBe("error")
    expect(await (await c2c("")).json()).toEqual({ status: 200, overrides: { "app.db": "ERROR" } })
    expect((await c2c("name=unknown.one&level=INFO&create=true")).status).toBe(200)
    expect(await (await c2c("name=app.db&level=NOTSET")).json()).toEqual({
      status: 200,
      name: "app.db",
      level: "NOTSET",
      effective_level: "DEBUG",
    })
    expect(timeline.events.at(-1)?.tags?.action).toBe("revoke")
  })
})
