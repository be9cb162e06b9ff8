#!/usr/bin/env bun
/**
 * The `logbook` command (also the compiled binary): serve | migrate | token | check | types | --version | --help.
 */
import { ConfigError, withoutUrlPasswords } from "./config"
import { VERSION } from "./version"

const HELP = `logbook ${VERSION} — what changed, what broke, what is it saying right now

Usage:
  logbook serve                          start the server (default)
  logbook migrate                        apply database migrations and exit
  logbook token create --name N --role R create an API token (roles: read, ingest, admin; comma list allowed)
  logbook token list                     list tokens (never their secrets)
  logbook token revoke <id|name>         revoke a token
  logbook check                          run the health checks once; exit 1 when any fails
  logbook types [dir]                    write logbook.d.ts (drop-in editor types) into dir (default: plugins dir)
  logbook settings                       print every setting (core and built-in plugins) as a Markdown table
  logbook --version | --help

Configuration comes from LOGBOOK_* environment variables (see README).`

/** Commands that take no arguments: an argument given anyway (`serve --port 9999`) is refused, not ignored. */
const NO_ARGUMENTS = new Set(["serve", "migrate", "check", "settings"])

async function main(argv: string[]): Promise<number> {
  const [cmd = "serve", ...rest] = argv
  if (NO_ARGUMENTS.has(cmd) && rest.length) {
    console.error(
      `logbook ${cmd} takes no arguments, got ${JSON.stringify(rest.join(" "))}: settings come from LOGBOOK_* environment variables (e.g. LOGBOOK_PORT=9999)\n\n${HELP}`,
    )
    return 2
  }
  switch (cmd) {
    case "--version":
    case "-v":
    case "version":
      console.log(VERSION)
      return 0
    case "--help":
    case "-h":
    case "help":
      console.log(HELP)
      return 0
    case "serve": {
      const { serve } = await import("./server")
      await serve()
      return -1 // keep running
    }
    case "migrate":
    case "token":
    case "check":
    case "settings":
    case "types": {
      const { runCommand } = await import("./cli")
      return runCommand(cmd, rest)
    }
    default:
      console.error(`unknown command ${JSON.stringify(cmd)}\n\n${HELP}`)
      return 2
  }
}

try {
  const code = await main(process.argv.slice(2))
  if (code >= 0) process.exit(code)
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(`logbook: invalid configuration:\n${e.message}`)
    process.exit(2)
  }
  // an error may quote a connection URL (the database driver's do): never with its password
  console.error(withoutUrlPasswords(e instanceof Error ? (e.stack ?? String(e)) : String(e)))
  process.exit(1)
}
