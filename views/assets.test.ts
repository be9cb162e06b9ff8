import { expect, test } from "bun:test"
import { assetResponse, assetServer } from "./assets"

const get = (name: string, headers: Record<string, string> = {}) =>
  assetResponse(name, new Request(`http://127.0.0.1/assets/${name}`, { headers }))

test("embedded assets are served with their type and an ETag; If-None-Match gives 304", async () => {
  const res = await get("htmx.min.js")
  expect(res?.status).toBe(200)
  expect(res?.headers.get("content-type")).toBe("text/javascript; charset=utf-8")
  expect((await res?.text())?.length).toBeGreaterThan(10_000)
  const etag = res?.headers.get("etag") ?? ""
  expect(etag).toMatch(/^"\w+"$/)
  expect((await get("htmx.min.js", { "if-none-match": etag }))?.status).toBe(304)
})

test("unknown names, including Object's own property names, are not assets", async () => {
  for (const name of ["nope.js", "constructor", "__proto__", "toString", "hasOwnProperty"])
    expect(await get(name)).toBeUndefined()
})

test("text assets and the cache-control of a plugin's server", async () => {
  const serve = assetServer({ "x.js": { text: "console.log(1)", type: "text/javascript" } }, "no-cache")
  const res = await serve("x.js", new Request("http://127.0.0.1/x.js"))
  expect(await res?.text()).toBe("console.log(1)")
  expect(res?.headers.get("cache-control")).toBe("no-cache")
})
