/**
 * The README shows code that tests run: the drop-in example (test/core-example-dropin.ts, exercised by
 * core-dropins.test.ts) and the Python levels client (plugins/levels/logbook_levels.py, run by
 * plugins/levels/remote.test.ts). These checks keep the README's copies identical to the tested files,
 * and the README's settings tables complete.
 */
import { expect, test } from "bun:test"
import { join } from "node:path"
import { coreSettings } from "../src/config"

const root = join(import.meta.dir, "..")
const readme = await Bun.file(join(root, "README.md")).text()
const codeBlocks = [...readme.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => m[2])

const normalise = (s: string) => s.replace(/\r/g, "").trim()

test("the README's complete drop-in example is the tested file", async () => {
  const file = normalise(await Bun.file(join(root, "test/core-example-dropin.ts")).text())
  expect(codeBlocks.map(normalise)).toContain(file)
})

test("the README's Python levels client is the tested file", async () => {
  const file = normalise(await Bun.file(join(root, "plugins/levels/logbook_levels.py")).text())
  expect(codeBlocks.map(normalise)).toContain(file)
})

test("the README documents every core setting", () => {
  for (const s of Object.values(coreSettings)) expect(readme).toContain(`\`${s.env}\``)
})

test("the README gives the two commands: start and test", () => {
  expect(readme).toContain("npm install -g bun@1.4.5 && bun install && bun start")
  expect(readme).toContain("bun install && bun run test")
})
