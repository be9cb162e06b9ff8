/**
 * Browser tests: Debian's Chromium driven by playwright-core (no browser download). `openBrowser` starts
 * it headless with the flags this closed network needs; `watchRequests` records every request a page
 * makes so a test can assert that nothing leaves 127.0.0.1.
 */
import { existsSync } from "node:fs"
import { type Browser, chromium, type Page } from "playwright-core"

export const CHROMIUM = process.env.LOGBOOK_CHROMIUM ?? "/usr/bin/chromium"
export const browserAvailable = existsSync(CHROMIUM)

export async function openBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  })
}

/** Collects the URL of every request the page makes (including blocked ones). */
export function watchRequests(page: Page): string[] {
  const urls: string[] = []
  page.on("request", (r) => urls.push(r.url()))
  return urls
}

/** URLs in `urls` that go anywhere but 127.0.0.1 / localhost (data: and about: are local). */
export function externalRequests(urls: string[]): string[] {
  return urls.filter((u) => {
    if (u.startsWith("data:") || u.startsWith("about:") || u.startsWith("blob:")) return false
    const h = new URL(u).hostname
    return h !== "127.0.0.1" && h !== "localhost"
  })
}
