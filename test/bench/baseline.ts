// The benchmark baseline: plain Bun.serve hello-world, run as its own process by test/bench/run.ts
// (it takes its port from LOGBOOK_PORT like Logbook does, so both start the same way).
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.LOGBOOK_PORT ?? 0),
  fetch: () => new Response("Hello, World!"),
})
process.on("SIGTERM", () => {
  server.stop(true)
  process.exit(0)
})
