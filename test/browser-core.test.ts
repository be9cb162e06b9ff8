/**
 * The UI shell in a real browser (Debian chromium through playwright-core), on a real port, with every
 * built-in plugin plus a small probe plugin (so nav, widgets and one API operation exist even before the
 * feature plugins land): the home page renders and its widgets load, every nav entry navigates, no request
 * leaves 127.0.0.1 on any page, Swagger UI renders offline, the phone layout has a working menu toggle,
 * and the dark-mode toggle switches and persists.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import builtins from "logbook:builtin-plugins"
import { Elysia, t } from "elysia"
import type { Browser, BrowserContext, Locator, Page } from "playwright-core"
import { definePlugin } from "../src/plugin/contract"
import { html } from "../views/html"
import { browserAvailable, externalRequests, openBrowser } from "./browser"
import { createTestApp, type TestApp } from "./support"

const probe = definePlugin({
  id: "probe",
  title: "Probe",
  nav: [{ title: "Probe page", href: "/ui/probe", order: 999 }],
  widgets: [{ id: "probe", title: "Probe widget", url: "/ui/probe/widget", trigger: "load" }],
  routes: (ctx) =>
    new Elysia()
      .get(
        "/ui/probe",
        ({ request }) =>
          ctx.ui.page(request, {
            title: "Probe",
            body: html`<h1 id="probe-page">Probe page</h1>`,
            active: "/ui/probe",
          }),
        { detail: { hide: true } },
      )
      .get("/ui/probe/widget", () => ctx.ui.fragment(html`<p class="probe-widget">probe widget loaded</p>`), {
        detail: { hide: true },
      })
      .get("/api/v1/probe", () => ({ ok: true }), {
        response: t.Object({ ok: t.Boolean() }),
        detail: { summary: "Probe operation", tags: ["probe"] },
      }),
})

let app: TestApp
let base: string
let browser: Browser
/** Every URL any page of any context asked for, and every response that was an error. */
const requested: string[] = []
const failures: string[] = []

async function newContext(opts: Parameters<Browser["newContext"]>[0] = {}): Promise<BrowserContext> {
  const context = await browser.newContext({ colorScheme: "light", ...opts })
  context.on("request", (r) => requested.push(r.url()))
  context.on("response", (r) => {
    if (r.status() >= 400) failures.push(`${r.status()} ${r.url()}`)
  })
  // Anything not local is recorded above and then refused: the pages must work without it.
  await context.route(/^(?!https?:\/\/(127\.0\.0\.1|localhost)[:/])(?!data:|blob:)/, (route) => route.abort())
  return context
}

/** Clicks (or taps) a link and waits for the page it leads to; returns that document's status. */
async function follow(
  page: Page,
  link: Locator,
  href: string,
  how: "click" | "tap" = "click",
): Promise<number> {
  const target = new URL(href, base).href
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url() === target && r.request().isNavigationRequest(), { timeout: 10_000 }),
    how === "tap" ? link.tap() : link.click(),
  ])
  await page.waitForURL(target, { timeout: 10_000 })
  await page.waitForLoadState("load")
  return response.status()
}

async function visit(page: Page, path: string) {
  const r = await page.goto(`${base}${path}`)
  expect(r?.status(), path).toBe(200)
  await page.waitForLoadState("load")
}

describe.skipIf(!browserAvailable)("UI shell in chromium", () => {
  beforeAll(async () => {
    app = await createTestApp({ plugins: [...builtins.map((b) => b.plugin), probe] })
    base = await app.listen()
    browser = await openBrowser()
  }, 30_000)

  afterAll(async () => {
    await browser?.close()
    await app?.close()
  })

  test("the home page renders and every widget loads", async () => {
    const context = await newContext()
    const page = await context.newPage()
    await visit(page, "/")
    expect(await page.title()).toContain("Logbook")
    const widgets = page.locator("section.widget")
    const count = await widgets.count()
    expect(count).toBe(app.host.widgets().length)
    // each widget's placeholder is replaced by its fragment (htmx swapped it in)
    for (let i = 0; i < count; i++)
      await widgets.nth(i).getByText("Loading…").waitFor({ state: "detached", timeout: 10_000 })
    await expect(page.locator(".probe-widget").textContent()).resolves.toBe("probe widget loaded")
    expect(failures).toEqual([])
    await context.close()
  })

  test("every nav entry navigates to its page", async () => {
    const context = await newContext()
    const page = await context.newPage()
    await visit(page, "/")
    const hrefs = await page
      .locator("nav.mainnav a")
      .evaluateAll((as) => as.map((a) => a.getAttribute("href")))
    expect(hrefs).toEqual(app.host.nav().map((n) => n.href))
    expect(hrefs).toContain("/ui/probe")
    // from page to page through the menu that every page carries
    for (const href of hrefs as string[]) {
      const status = await follow(page, page.locator(`nav.mainnav a[href="${href}"]`), href)
      expect(status, href).toBe(200)
      expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe(href)
      await expect(page.locator("main#main").count()).resolves.toBe(1)
    }
    await expect(page.locator('nav.mainnav a[aria-current="page"]').getAttribute("href")).resolves.toBe(
      "/ui/probe",
    )
    // the brand and the footer's core links too
    for (const [selector, href] of [
      ["header a.brand", "/"],
      ['footer a[href="/ui/plugins"]', "/ui/plugins"],
      ['footer a[href="/openapi"]', "/openapi"],
    ]) {
      expect(await follow(page, page.locator(selector), href), href).toBe(200)
    }
    expect(failures).toEqual([])
    await context.close()
  })

  test("Swagger UI renders offline from embedded files", async () => {
    const context = await newContext()
    const page = await context.newPage()
    await visit(page, "/openapi")
    await page.locator(".swagger-ui .opblock").first().waitFor({ timeout: 15_000 })
    const summaries = await page.locator(".opblock-summary-path").allTextContents()
    expect(summaries.map((s) => s.replace(/\u200b/g, ""))).toContain("/api/v1/probe")
    await context.close()
  })

  test("phone width: the menu toggle opens the navigation, and nothing scrolls sideways", async () => {
    const context = await newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    })
    const page = await context.newPage()
    await visit(page, "/")
    const nav = page.locator("nav.mainnav")
    await expect(nav.isVisible()).resolves.toBe(false)
    await page.locator("button.nav-toggle").tap()
    await nav.waitFor({ state: "visible", timeout: 5000 })
    expect(await follow(page, nav.locator('a[href="/ui/probe"]'), "/ui/probe", "tap")).toBe(200)
    await page.locator("#probe-page").waitFor()
    for (const path of ["/", "/ui/plugins", "/ui/signin"]) {
      await visit(page, path)
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      expect(overflow, path).toBeLessThanOrEqual(0)
    }
    await context.close()
  })

  test("the dark-mode toggle switches the theme and remembers it", async () => {
    const context = await newContext()
    const page = await context.newPage()
    await visit(page, "/")
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor)
    const light = await background()
    await page.locator("button.theme-toggle").click()
    await expect(page.evaluate(() => document.documentElement.dataset.theme)).resolves.toBe("dark")
    const dark = await background()
    expect(dark).not.toBe(light)
    await visit(page, "/ui/plugins")
    await expect(page.evaluate(() => document.documentElement.dataset.theme)).resolves.toBe("dark")
    await page.locator("button.theme-toggle").click()
    await expect(page.evaluate(() => document.documentElement.dataset.theme)).resolves.toBe("light")
    await context.close()
  })

  test("no page made a request to another host", async () => {
    // every page visited above, plus the sign-in page and a 404 page
    const context = await newContext()
    const page = await context.newPage()
    await visit(page, "/ui/signin")
    const r = await page.goto(`${base}/ui/no-such-page`)
    expect(r?.status()).toBe(404)
    await context.close()
    expect(requested.length).toBeGreaterThan(10)
    expect(requested.some((u) => u.endsWith("/assets/htmx.min.js"))).toBe(true)
    expect(requested.some((u) => u.endsWith("/assets/swagger-ui-bundle.js"))).toBe(true)
    expect(externalRequests(requested)).toEqual([])
  })
})
