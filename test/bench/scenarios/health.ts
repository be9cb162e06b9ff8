// Health scenarios (issue 5): `/livez` — what a kubelet calls every few seconds on every pod — must stay
// close to a bare Bun.serve (target ratio ≥ 0.8), and `/health` (IETF health+json) with 20 cached checks
// must answer from the precomputed body while the results are fresh (target ≥ 0.3). The 20 checks come
// from a drop-in file written into the instance's LOGBOOK_PLUGINS_DIR before start, as a user would.
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { BenchScenario } from "../scenario"

const CHECKS = 20

const dropIn = `import { defineHealthCheck } from "logbook"

// ${CHECKS} cheap checks, each reusing its result for a minute
export default Array.from({ length: ${CHECKS} }, (_, i) =>
  defineHealthCheck({
    name: \`bench-\${i}\`,
    cacheTtlMs: 60_000,
    check: () => ({ status: "pass", message: \`check \${i} is fine\`, observedValue: i, observedUnit: "items" }),
  }),
)
`

export const scenarios: BenchScenario[] = [
  {
    name: "GET /livez",
    request: { method: "GET", path: "/livez" },
    target: { ratio: 0.8 },
  },
  {
    // kubelets open a new connection for every probe (their HTTP prober disables keep-alive)
    name: "GET /livez (a new connection per probe)",
    request: { method: "GET", path: "/livez" },
    keepAlive: false,
    target: { text: "informative: as kubelets call it" },
  },
  {
    name: `GET /health (${CHECKS} cached checks)`,
    env: { LOGBOOK_HEALTH_DEFAULT_CACHE_TTL_MS: "60000" },
    async seed({ env }) {
      const dir = env.LOGBOOK_PLUGINS_DIR as string
      mkdirSync(dir, { recursive: true })
      writeFileSync(join(dir, "bench-checks.ts"), dropIn)
    },
    request: { method: "GET", path: "/health" },
    target: { ratio: 0.3 },
  },
]
