// Levels scenario (issue 7): logging-heavy requests with 0 and with 500 stored overrides. A bench-only
// drop-in plugin (written into the run's plugins dir by `seed`) serves GET /bench/levels/log, which calls
// `debug()` 50 times on 10 loggers whose level (INFO) disables it — so the request cost is dominated by
// the level checks. Measured in one Logbook in ABBA order: 0, 500, 500, 0 overrides (created and revoked
// through the API), so machine noise hits both alike; reported as with/without (target ≥ 0.95).
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { BenchScenario, ScenarioContext } from "../scenario"
import { runWrk } from "../wrk"

const TOKEN = "bench-levels-admin-token"
const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }

const DROP_IN = `import { definePlugin, Elysia } from "logbook"
export default definePlugin({
  id: "bench-levels",
  title: "Bench: logging-heavy route",
  routes(ctx) {
    const loggers = Array.from({ length: 10 }, (_, i) => ctx.logger(\`bench.app.module\${i}.worker\`))
    return new Elysia().get("/bench/levels/log", () => {
      for (let i = 0; i < 50; i++) loggers[i % 10].debug("bench message", { i })
      return "ok"
    }, { detail: { hide: true } })
  },
})
`

/** 500 overrides: most on unrelated loggers, some on ancestors of the logged ones (still disabling debug). */
async function create500(baseUrl: string): Promise<number[]> {
  const ids: number[] = []
  for (let i = 0; i < 500; i++) {
    const logger = i % 25 === 0 ? `bench.app.module${(i / 25) % 10}` : `bench.other.part${i % 40}.n${i}`
    const r = await fetch(`${baseUrl}/api/v1/levels/overrides`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ logger, level: i % 2 ? "INFO" : "WARNING", duration: "PT1H", reason: "bench" }),
    })
    if (r.status !== 201) throw new Error(`creating an override: ${r.status} ${await r.text()}`)
    ids.push(((await r.json()) as { id: number }).id)
  }
  return ids
}

async function revokeAll(baseUrl: string, ids: number[]) {
  for (const id of ids) {
    const r = await fetch(`${baseUrl}/api/v1/levels/overrides/${id}`, { method: "DELETE", headers: auth })
    if (r.status !== 200) throw new Error(`revoking override ${id}: ${r.status}`)
  }
}

async function withAndWithout(ctx: ScenarioContext): Promise<Record<string, number>> {
  const url = `${ctx.baseUrl}/bench/levels/log`
  const check = await fetch(url)
  if (!check.ok) throw new Error(`the bench drop-in is not loaded: ${check.status}`)
  const seconds = Math.max(2, Math.round(ctx.durationSeconds / 2))
  const measure = async () =>
    (await runWrk({ url, connections: ctx.connections, durationSeconds: seconds })).requestsPerSec
  await runWrk({ url, connections: ctx.connections, durationSeconds: seconds }) // warm-up (JIT), not counted
  // ABBA order (0, 500, 500, 0) so drift in the shared machine's load hits both sides alike
  const without: number[] = [await measure()]
  const ids = await create500(ctx.baseUrl)
  const with500: number[] = [await measure(), await measure()]
  await revokeAll(ctx.baseUrl, ids)
  without.push(await measure())
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
  return {
    rps_0_overrides: Math.round(sum(without) / without.length),
    rps_500_overrides: Math.round(sum(with500) / with500.length),
    ratio_500_vs_0: Math.round((sum(with500) / sum(without)) * 1000) / 1000,
  }
}

export const scenarios: BenchScenario[] = [
  {
    name: "GET 50× disabled debug, 500 vs 0 overrides",
    env: { LOGBOOK_ADMIN_TOKEN: TOKEN, LOGBOOK_LOG_LEVEL: "info" },
    async seed(ctx) {
      const dir = ctx.env.LOGBOOK_PLUGINS_DIR as string
      mkdirSync(dir, { recursive: true })
      writeFileSync(join(dir, "bench-levels.ts"), DROP_IN)
    },
    run: withAndWithout,
    target: { ratio: 0.95, text: "ratio_500_vs_0 ≥ 0.95" },
  },
]
