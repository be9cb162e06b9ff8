/**
 * The UI shell in a real browser (Debian chromium through playwright-core), on a real port, with every
 * built-in plugin plus a small probe plugin (so nav, widgets and one API operation exist even before the
 * feature plugins land): the home page renders and its widgets load, every nav entry navigates, no request
 * leaves 127.0.0.1 on any page, Swagger UI renders offline, the phone layout has a working menu toggle,
 * a widget holding a long unbroken name keeps the page within the window, and the dark-mode toggle
 * switches and persists.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Elysia, t } from "elysia"
import type { Browser, BrowserContext, Locator, Page } from "playwright-core"
import { loadBuiltins } from "../src/boot"
import { definePlugin } from "../src/plugin/contract"
import { html } from "../views/html"
import { browserAvailable, openBrowser } from "./browser"
import { createTestApp, type TestApp } from "./support"

const LONG_NAME = `app.${"verylongmodulename".repeat(16)}.Handler`.slice(0, 300)

const probe = definePlugin({
  id: "probe",
  title: "Probe",
  nav: [{ title: "Probe page", href: "/ui/probe", order: 999 }],
  widgets: [
    { id: "probe", title: "Probe widget", url: "/ui/probe/widget", trigger: "load" },
    { id: "probe-long", title: "Probe widget with long names", url: "/ui/probe/long", trigger: "load" },
  ],
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
      // what a widget may hold: names without a place to break (a 300-character logger name, a URL)
      .get(
        "/ui/probe/long",
        () =>
          ctx.ui.fragment(html`<ol class="small"><li><a href="#" class="mono" id="long-name">${LONG_NAME}</a> <span class="badge">7</span></li></ol>
<table><tr><td><code>${LONG_NAME}</code></td><td>${"https://example.invalid/".padEnd(300, "x")}</td></tr></table>`),
        { detail: { hide: true } },
      )
      .get("/api/v1/probe", () => ({ ok: true }), {
        response: t.Object({ ok: t.Boolean() }),
        detail: { summary: "Probe operation", tags: ["probe"] },
      }),
})

let app: TestApp
let base: string
let browser: Browser
/** Every request the browser tried to send to another host (recorded, then refused). */
const external: string[] = []
/** Every request Logbook answered (`status method route`), from its own http.request events. */
const served: string[] = []
const failures = () => served.filter((r) => Number(r.split(" ")[0]) >= 400)

/**
 * A context whose requests to anywhere but 127.0.0.1 are recorded and refused: the pages must work
 * without them. (Playwright's request/response events are not used: under Bun they race with navigation
 * and fail with "Cannot find parent object request@…"; the route only ever sees the unwanted requests.)
 */
async function newContext(opts: Parameters<Browser["newContext"]>[0] = {}): Promise<BrowserContext> {
  const context = await browser.newContext({ colorScheme: "light", ...opts })
  await context.route(/^(?!https?:\/\/(127\.0\.0\.1|localhost)[:/])(?!data:|blob:|about:)/, (route) => {
    external.push(route.request().url())
    return route.abort()
  })
  return context
}

/** Clicks (or taps) a link, waits for the page it leads to, and returns that document's HTTP status. */
async function follow(
  page: Page,
  link: Locator,
  href: string,
  how: "click" | "tap" = "click",
): Promise<number> {
  const target = new URL(href, base).href
  await (how === "tap" ? link.tap() : link.click())
  await page.waitForURL(target, { timeout: 10_000, waitUntil: "load" })
  return documentStatus(page)
}

/**
 * Leaves every page (ending the live connections: SSE streams, polling widgets) before closing the context,
 * so no late network event arrives for a closed context.
 */
async function closeContext(context: BrowserContext) {
  for (const page of context.pages()) await page.goto("about:blank")
  await context.close()
}

const documentStatus = (page: Page) =>
  page.evaluate(
    () => (performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming).responseStatus,
  )

async function visit(page: Page, path: string) {
  await page.goto(`${base}${path}`, { waitUntil: "load" })
  expect(await documentStatus(page), path).toBe(200)
}

describe.skipIf(!browserAvailable)("UI shell in chromium", () => {
  beforeAll(async () => {
    const builtins = await loadBuiltins()
    app = await createTestApp({ plugins: [...builtins.map((b) => b.plugin), probe] })
    app.host.events.on("http.request", (r) => served.push(`${r.status} ${r.method} ${r.route}`))
    base = await app.listen()
    browser = await openBrowser()
  }, 30_000)

  afterAll(async () => {
    await browser?.close()
    await app?.close()
  }, 30_000)

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
    expect(failures()).toEqual([])
    await closeContext(context)
  }, 25_000)

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
    // the brand and the footer's plugins link too (/openapi has its own test below)
    for (const [selector, href] of [
      ["header a.brand", "/"],
      ['footer a[href="/ui/plugins"]', "/ui/plugins"],
    ]) {
      expect(await follow(page, page.locator(selector), href), href).toBe(200)
    }
    expect(failures()).toEqual([])
    await closeContext(context)
  }, 25_000)

  test("Swagger UI renders offline from embedded files", async () => {
    const context = await newContext()
    const page = await context.newPage()
    await visit(page, "/openapi")
    await page.locator(".swagger-ui .opblock").first().waitFor({ timeout: 15_000 })
    const summaries = await page.locator(".opblock-summary-path").allTextContents()
    expect(summaries.map((s) => s.replace(/\u200b/g, ""))).toContain("/api/v1/probe")
    await closeContext(context)
  }, 25_000)

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
    await closeContext(context)
  }, 25_000)

  test.each([
    ["laptop", { viewport: { width: 1400, height: 900 } }],
    ["phone", { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }],
  ])(
    "%s width: a widget with a long unbroken name keeps the home page within the window",
    async (_, options) => {
      const context = await newContext(options)
      const page = await context.newPage()
      await visit(page, "/")
      const name = page.locator("#long-name")
      await name.waitFor({ timeout: 10_000 })
      expect(await name.textContent()).toBe(LONG_NAME)
      const sizes = await page.evaluate(() => ({
        document: document.documentElement.scrollWidth,
        window: window.innerWidth,
        widget: document.querySelector("#widget-probe-long")?.getBoundingClientRect().right ?? Infinity,
        name: document.querySelector("#long-name")?.getBoundingClientRect().right ?? Infinity,
      }))
      expect(sizes.document).toBeLessThanOrEqual(sizes.window)
      expect(sizes.widget).toBeLessThanOrEqual(sizes.window)
      // the name is inside its widget (wrapped), not hanging out of it
      expect(sizes.name).toBeLessThanOrEqual(sizes.widget)
      await closeContext(context)
    },
    25_000,
  )

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
    await closeContext(context)
  }, 25_000)

  test("no page made a request to another host", async () => {
    // every page visited above, plus the sign-in page and a 404 page
    const context = await newContext()
    const page = await context.newPage()
    await visit(page, "/ui/signin")
    await page.goto(`${base}/ui/no-such-page`, { waitUntil: "load" })
    expect(await documentStatus(page)).toBe(404)
    expect(served.length).toBeGreaterThan(20)
    expect(served).toContain("200 GET /assets/*")
    expect(external).toEqual([])
    // the recorder itself works: a request to another host is seen (and refused)
    const outcome = await page.evaluate(() =>
      fetch("http://192.0.2.1/should-not-leave").then(
        () => "sent",
        () => "refused",
      ),
    )
    expect(outcome).toBe("refused")
    expect(external).toEqual(["http://192.0.2.1/should-not-leave"])
    await closeContext(context)
  }, 25_000)
})
