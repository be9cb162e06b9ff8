/**
 * The levels page in a real browser (Debian chromium): an admin signs in, sets a level for 15 minutes
 * with a reason (plain form POST with the CSRF token), sees it in the logger tree with a live countdown
 * and on the home widget, then revokes it. Nothing leaves 127.0.0.1; user text is shown escaped.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { Browser, Page } from "playwright-core"
import { browserAvailable, externalRequests, openBrowser, watchRequests } from "../../test/browser"
import { createTestApp, type TestApp, type TestClock } from "../../test/support"
import levels from "./plugin"
import { ADMIN_TOKEN, adminHeaders, testEnv, timelineRecorder } from "./testing"

const realClock: TestClock = { now: () => Date.now(), set() {}, advance() {} }

describe.skipIf(!browserAvailable)("levels page in a browser", () => {
  let app: TestApp
  let base: string
  let browser: Browser
  let page: Page
  let requests: string[]
  const timeline = timelineRecorder()

  beforeAll(async () => {
    app = await createTestApp({ plugins: [timeline.plugin, levels], env: testEnv, clock: realClock })
    app.host.logging.logger("app.db.pool")
    base = await app.listen()
    browser = await openBrowser()
    page = await browser.newPage()
    requests = watchRequests(page)
    await page.goto(`${base}/ui/signin`)
    await page.fill("#token", ADMIN_TOKEN)
    await Promise.all([
      page.waitForURL((u) => !u.pathname.startsWith("/ui/signin")),
      page.click("button.primary"),
    ])
  }, 30_000) // chromium start-up is slow on a loaded 2-core machine
  afterAll(async () => {
    await browser?.close()
    await app?.close()
  })

  test("set a level with a preset and a reason, see its countdown, revoke it", async () => {
    await page.goto(`${base}/ui/levels`)
    expect(await page.locator("#instances-applied").textContent()).toBe("1/1 instances applied")
    const form = page.locator("#set-level")
    await form.locator("input[name=logger]").fill("app.db")
    await form.locator("select[name=level]").selectOption("ERROR")
    await form.locator("select[name=duration]").selectOption("PT15M")
    await form.locator("input[name=reason]").fill("<b>slow</b> queries")
    await Promise.all([
      page.waitForURL((u) => u.searchParams.has("done")),
      form.locator("button[type=submit]").click(),
    ])

    expect(app.host.logging.levels.effective("app.db.pool")).toBe("error")
    const row = page.locator('#logger-tree tr[data-logger="app.db"]')
    expect(await row.locator("[data-effective]").textContent()).toBe("ERROR")
    expect(await row.textContent()).toContain("<b>slow</b> queries") // shown as text, not markup
    await page.waitForFunction(() =>
      /^14m \d\ds left$/.test(
        document.querySelector('#logger-tree tr[data-logger="app.db"] time[data-countdown]')?.textContent ??
          "",
      ),
    )
    expect(await page.locator('#logger-tree tr[data-logger="app.db.pool"]').textContent()).toContain(
      "inherited from app.db",
    )
    expect(timeline.events.at(-1)?.description).toBe(
      "app.db: DEBUG → ERROR for 15m by admin-token: <b>slow</b> queries",
    )

    await page.goto(`${base}/`)
    await page.waitForSelector(".levels-widget li")
    expect(await page.locator(".levels-widget").textContent()).toContain("app.db")
    await page.waitForFunction(() =>
      /left$/.test(document.querySelector(".levels-widget time[data-countdown]")?.textContent ?? ""),
    )

    await page.goto(`${base}/ui/levels`)
    await Promise.all([
      page.waitForURL((u) => (u.searchParams.get("done") ?? "").includes("revoked")),
      page.locator('#logger-tree [data-revoke="app.db"]').click(),
    ])
    expect(app.host.logging.levels.effective("app.db")).toBe("debug")
    expect(await page.locator('#logger-tree tr[data-logger="app.db"] [data-effective]').textContent()).toBe(
      "DEBUG",
    )
    expect(timeline.events.at(-1)?.tags?.action).toBe("revoke")
    expect(await page.locator("#history").textContent()).toContain("revoked by admin-token")
    expect(externalRequests(requests)).toEqual([])
  })

  test("a bad level from a tampered form is refused and shown, nothing stored", async () => {
    await page.goto(`${base}/ui/levels`)
    await page.evaluate(() => {
      const sel = document.querySelector("#set-level select[name=level]") as HTMLSelectElement
      sel.add(new Option("LOUD", "LOUD", true, true))
    })
    await page.locator("#set-level input[name=logger]").fill("app.db")
    await Promise.all([
      page.waitForURL((u) => u.searchParams.has("error")),
      page.locator("#set-level button[type=submit]").click(),
    ])
    expect(await page.locator(".notice.error").textContent()).toContain('invalid level "LOUD"')
    const n = await app.db.get<{ n: number }>(
      "SELECT COUNT(*) AS n FROM levels_overrides WHERE level = 'LOUD'",
    )
    expect(Number(n?.n)).toBe(0)
  })

  test('"until …" takes a wall-clock time in the viewer\'s zone', async () => {
    await page.goto(`${base}/ui/levels`)
    const form = page.locator("#set-level")
    await form.locator("input[name=logger]").fill("app.until")
    await form.locator("select[name=duration]").selectOption("until")
    const { local, ms } = await page.evaluate(() => {
      const d = new Date(Date.now() + 2 * 3600_000)
      d.setSeconds(0, 0)
      const p = (n: number) => String(n).padStart(2, "0")
      return {
        local: `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`,
        ms: d.getTime(),
      }
    })
    await form.locator("input[name=until_local]").fill(local)
    await Promise.all([
      page.waitForURL((u) => u.searchParams.has("done")),
      form.locator("button[type=submit]").click(),
    ])
    const row = await app.db.get<{ expires_at: number }>(
      "SELECT expires_at FROM levels_overrides WHERE logger = 'app.until'",
    )
    expect(Number(row?.expires_at)).toBe(ms)
  })

  test("History shows the selected target's changes; \"all targets\" shows every target's", async () => {
    for (const [target, logger] of [
      ["shop", "cart.checkout"],
      ["logbook", "app.history"],
    ]) {
      const r = await app.request("/api/v1/levels/overrides", {
        method: "POST",
        headers: adminHeaders,
        json: { target, logger, level: "DEBUG", duration: "PT15M" },
      })
      expect(r.status).toBe(201)
    }
    const targetsOfHistory = () =>
      page
        .locator("#history li")
        .evaluateAll((lis) => [...new Set(lis.map((li) => li.getAttribute("data-target")))])

    await page.goto(`${base}/ui/levels?target=shop`)
    expect(await targetsOfHistory()).toEqual(["shop"])
    expect(await page.locator("#history").textContent()).toContain("shop cart.checkout: NOTSET → DEBUG")
    expect(await page.locator("#history-target").getAttribute("class")).toContain("on")

    await Promise.all([
      page.waitForURL((u) => u.searchParams.get("history") === "all"),
      page.click("#history-all"),
    ])
    expect(new URL(page.url()).searchParams.get("target")).toBe("shop") // the tab stays selected
    expect((await targetsOfHistory()).sort()).toEqual(["logbook", "shop"])
    const all = await page.locator("#history").textContent()
    expect(all).toContain("shop cart.checkout: NOTSET → DEBUG")
    expect(all).toContain("app.history: DEBUG → DEBUG for 15m")

    await Promise.all([page.waitForURL((u) => !u.searchParams.has("history")), page.click("#history-target")])
    expect(await targetsOfHistory()).toEqual(["shop"])
    await page.goto(`${base}/ui/levels`)
    expect(await targetsOfHistory()).toEqual(["logbook"])
  })

  test("Triggers: without a profile the page says to save one first; then an admin adds a daily trigger", async () => {
    await page.goto(`${base}/ui/levels?target=shop`)
    expect(await page.locator("#no-triggers").isVisible()).toBe(true)
    expect(await page.locator("#add-trigger").count()).toBe(0)
    expect(await page.locator("#triggers-how").textContent()).toContain("first save a profile")
    await page.locator("#triggers-how a").click()
    expect(new URL(page.url()).hash).toBe("#save-profile")

    const profile = page.locator("#save-profile")
    await profile.locator("input[name=name]").fill("checkout-debug")
    await profile.locator("textarea[name=levels]").fill("cart=DEBUG\ncart.payment=TRACE")
    await Promise.all([page.waitForURL((u) => u.searchParams.has("done")), profile.locator("button").click()])
    expect(await page.locator(".notice").textContent()).toBe("profile checkout-debug saved")

    const form = page.locator("#add-trigger")
    expect(await form.locator("input[name=target]").inputValue()).toBe("shop")
    expect(await form.locator("select[name=profile]").inputValue()).toBe("checkout-debug")
    // "(daily)" without its times is refused, not turned into a 30-minute trigger
    await Promise.all([page.waitForURL((u) => u.searchParams.has("error")), form.locator("button").click()])
    expect(await page.locator(".notice.error").textContent()).toContain(
      "a daily trigger needs its from and to times",
    )
    expect(
      ((await (await app.request("/api/v1/levels/triggers")).json()) as { triggers: unknown[] }).triggers,
    ).toEqual([])

    await form.locator("select[name=mode]").selectOption("replace")
    await form.locator("input[name=from]").fill("22:00")
    await form.locator("input[name=to]").fill("06:00")
    await form.locator("input[name=tz]").fill("Europe/Zurich")
    await form.locator("input[name=reason]").fill("nightly <i>checkout</i> batch")
    await Promise.all([page.waitForURL((u) => u.searchParams.has("done")), form.locator("button").click()])
    expect(await page.locator(".notice").textContent()).toMatch(/^trigger #\d+ added$/)
    expect(new URL(page.url()).searchParams.get("target")).toBe("shop")

    const { triggers } = (await (await app.request("/api/v1/levels/triggers")).json()) as {
      triggers: Array<Record<string, unknown>>
    }
    expect(triggers).toHaveLength(1)
    expect(triggers[0]).toMatchObject({
      profile: "checkout-debug",
      target: "shop",
      mode: "replace",
      active: true,
      recurrence: { every: "daily", from: "22:00", to: "06:00", tz: "Europe/Zurich" },
      actor: "admin-token",
      reason: "nightly <i>checkout</i> batch",
    })
    const item = await page.locator("#triggers li").textContent()
    expect(item).toContain("profile checkout-debug → shop (replace, all)")
    expect(item).toContain("daily 22:00–06:00 Europe/Zurich")
    expect(await page.locator("#no-triggers").count()).toBe(0)
    expect(await page.locator("#history").textContent()).toContain(
      "profile checkout-debug (replace) scheduled for shop daily 22:00–06:00 Europe/Zurich by admin-token: nightly <i>checkout</i> batch",
    )
    expect(externalRequests(requests)).toEqual([])
  })

  test("a visitor who is not signed in is told how triggers are added, with no form", async () => {
    const anonymous = await browser.newPage()
    try {
      await anonymous.goto(`${base}/ui/levels`)
      expect(await anonymous.locator("#add-trigger").count()).toBe(0)
      const how = await anonymous.locator("#triggers-how").textContent()
      expect(how).toContain("signed in")
      expect(how).toContain("POST /api/v1/levels/triggers")
    } finally {
      await anonymous.close()
    }
  })
})
