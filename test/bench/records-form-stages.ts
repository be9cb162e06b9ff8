/**
 * Where the HTTPHandler form POST's time goes inside a loaded server (records-costs.ts measures the same
 * functions in a tight loop, where they run about twice as fast as between real requests). Each stage is
 * its own server process doing one more part of the work, driven by wrk (-t2 -c64, keep-alive) with the
 * form POST benchmark's request; the figure is the server's main-thread CPU per request (from
 * /proc/<pid>/task/<pid>/stat), which is what bounds its throughput. Stages:
 *   plain      Bun.serve reads the body, answers a constant 800-byte 201
 *   form       + decodes the form (formFields)
 *   normalise  + normalises the record (normaliseOne)
 *   route      the whole Chronologer route (auth, decoding, normalising, answer) with a writer storing nothing
 *   logbook    Logbook itself (`logbook serve`, SQLite, all plugins): route + core + group-commit storage
 * Rounds interleave the stages; medians are printed and written to `.bench/records-form-stages.json`.
 *
 *   bun test/bench/records-form-stages.ts [--rounds 5] [--seconds 5]
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { recordPoster } from "../../plugins/records/compat"
import { formFields, normaliseOne } from "../../plugins/records/ingest"
import { FORM_BODY, FORM_HEADERS, storeNothingContext } from "./records-fixtures"
import { runWrk } from "./wrk"

const STAGES = ["plain", "form", "normalise", "route", "logbook"] as const
type Stage = (typeof STAGES)[number]

const { values: opts } = parseArgs({
  args: process.argv.slice(2),
  options: {
    rounds: { type: "string", default: "5" },
    seconds: { type: "string", default: "5" },
    serve: { type: "string" },
    port: { type: "string" },
  },
})

// ---- a stage's server (child process) -----------------------------------------------------------------

if (opts.serve) {
  const stage = opts.serve as Stage
  const ctx = storeNothingContext()
  const post = recordPoster(ctx)
  const answer = new Uint8Array(800).fill(0x20)
  const constant = () =>
    new Response(answer, { status: 201, headers: { "content-type": "application/json" } })
  Bun.serve({
    hostname: "127.0.0.1",
    port: Number(opts.port),
    async fetch(request) {
      if (request.method === "GET") return new Response("ok") // the parent's readiness probe
      if (stage === "route") return post(request)
      const text = await request.text()
      if (stage !== "plain") {
        const fields = formFields(text)
        if (stage === "normalise") normaliseOne(ctx, fields, false)
      }
      return constant()
    },
  })
} else {
  const rounds = Number(opts.rounds)
  const seconds = Number(opts.seconds)
  const TICK_US = 1_000_000 / 100 // USER_HZ
  const mainThreadTicks = (pid: number) => {
    const fields = readFileSync(`/proc/${pid}/task/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? []
    return Number(fields[11]) + Number(fields[12]) // utime + stime (fields 14 and 15 of stat)
  }

  async function measure(stage: Stage): Promise<{ cpuUsPerRequest: number; requestsPerSec: number }> {
    const port = 20_000 + Math.floor(Math.random() * 20_000)
    const dir = mkdtempSync(join(tmpdir(), "logbook-stages-"))
    const cmd =
      stage === "logbook"
        ? ["src/main.ts", "serve"]
        : ["test/bench/records-form-stages.ts", "--serve", stage, "--port", String(port)]
    const child = Bun.spawn([process.execPath, ...cmd], {
      env: {
        ...process.env,
        LOGBOOK_PORT: String(port),
        LOGBOOK_HOST: "127.0.0.1",
        LOGBOOK_DATA_DIR: join(dir, "data"),
        LOGBOOK_PLUGINS_DIR: join(dir, "plugins.d"),
        LOGBOOK_LOG_LEVEL: "warning",
        LOGBOOK_RECORDS_BASIC_USERS: "logger:",
      },
      stdout: "ignore",
      stderr: "inherit",
    })
    try {
      const url = `http://127.0.0.1:${port}/api/v1/record`
      for (let i = 0; ; i++) {
        if (
          await fetch(`http://127.0.0.1:${port}/livez`).then(
            () => true,
            () => false,
          )
        )
          break
        if (i > 200) throw new Error(`${stage}: the server did not start`)
        await Bun.sleep(50)
      }
      const request = {
        method: "POST" as const,
        path: "/api/v1/record",
        headers: FORM_HEADERS,
        body: FORM_BODY,
      }
      await runWrk({ url, request, connections: 64, durationSeconds: 2 }) // warm-up (JIT)
      const before = mainThreadTicks(child.pid)
      const wrk = await runWrk({ url, request, connections: 64, durationSeconds: seconds })
      const ticks = mainThreadTicks(child.pid) - before
      return { cpuUsPerRequest: (ticks * TICK_US) / wrk.requests, requestsPerSec: wrk.requestsPerSec }
    } finally {
      child.kill()
      await child.exited
      rmSync(dir, { recursive: true, force: true })
    }
  }

  const samples = new Map<Stage, Array<{ cpuUsPerRequest: number; requestsPerSec: number }>>()
  for (let round = 0; round < rounds; round++)
    for (const stage of STAGES) {
      const m = await measure(stage)
      samples.set(stage, [...(samples.get(stage) ?? []), m])
      console.log(
        `round ${round + 1} ${stage.padEnd(10)} ${m.cpuUsPerRequest.toFixed(1).padStart(6)} µs/request on the main thread, ${Math.round(m.requestsPerSec)} req/s`,
      )
    }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
  const result: Record<string, { cpu_us_per_request: number; requests_per_sec: number; added_us: number }> =
    {}
  let previous = 0
  console.log("\nstage        main-thread µs/request   added by the stage   req/s (medians)")
  for (const stage of STAGES) {
    const xs = samples.get(stage) ?? []
    const cpu = median(xs.map((x) => x.cpuUsPerRequest))
    const rps = median(xs.map((x) => x.requestsPerSec))
    result[stage] = {
      cpu_us_per_request: Number(cpu.toFixed(1)),
      requests_per_sec: Math.round(rps),
      added_us: Number((cpu - previous).toFixed(1)),
    }
    console.log(
      `${stage.padEnd(12)} ${cpu.toFixed(1).padStart(12)} ${(cpu - previous).toFixed(1).padStart(20)} ${String(Math.round(rps)).padStart(18)}`,
    )
    previous = cpu
  }
  mkdirSync(".bench", { recursive: true })
  writeFileSync(
    ".bench/records-form-stages.json",
    `${JSON.stringify({ at: new Date().toISOString(), bun: Bun.version, rounds, seconds, stages: result }, null, 2)}\n`,
  )
  console.log("wrote .bench/records-form-stages.json")
}
