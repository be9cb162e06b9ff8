// Registers the virtual module of built-in plugins for `bun run` / `bun test` (see builtin-scan.ts).

import { resolve } from "node:path"
import { plugin } from "bun"
import { BUILTIN_MODULE, builtinModuleSource } from "./builtin-scan"

const root = resolve(import.meta.dir, "../..")
plugin({
  name: "logbook-builtin-plugins",
  setup(build) {
    build.module(BUILTIN_MODULE, () => ({ contents: builtinModuleSource(root), loader: "ts" }))
  },
})
