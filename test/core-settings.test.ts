/**
 * The start-up line of a plugin's configuration: secrets redacted when set, shown as unset ("") when not —
 * a list secret too, whose unset value is an empty list — and never the secret itself.
 */
import { expect, test } from "bun:test"
import { Type } from "@sinclair/typebox"
import { setting } from "../src/config"
import { definePlugin } from "../src/plugin/contract"
import { createTestApp } from "./support"

const withSecrets = definePlugin({
  id: "secretive",
  title: "Secretive",
  settings: {
    users: setting(Type.Array(Type.String({ pattern: "^[^:]+:.*$" }), { default: [] }), {
      env: "LOGBOOK_SECRETIVE_USERS",
      description: "user:password pairs",
      list: true,
      secret: true,
    }),
    key: setting(Type.String({ default: "" }), {
      env: "LOGBOOK_SECRETIVE_KEY",
      description: "a key",
      secret: true,
    }),
    size: setting(Type.Integer({ default: 3 }), { env: "LOGBOOK_SECRETIVE_SIZE", description: "a size" }),
  },
})

async function printedSettings(env: Record<string, string>) {
  const app = await createTestApp({ plugins: [withSecrets], env })
  try {
    const line = app.logs.find((l) => l.msg === "plugin configuration" && l.fields?.plugin === "secretive")
    return { settings: line?.fields?.settings, text: JSON.stringify(app.logs) }
  } finally {
    await app.close()
  }
}

test("an unset list secret is printed as unset, like other unset secrets, not as set", async () => {
  const { settings } = await printedSettings({})
  expect(settings).toEqual({
    LOGBOOK_SECRETIVE_USERS: "",
    LOGBOOK_SECRETIVE_KEY: "",
    LOGBOOK_SECRETIVE_SIZE: 3,
  })
})

test("a set list secret is printed redacted, and its value appears in no log line", async () => {
  const { settings, text } = await printedSettings({
    LOGBOOK_SECRETIVE_USERS: "logger:,ops:users-pw-never-printed",
    LOGBOOK_SECRETIVE_KEY: "key-never-printed",
  })
  expect(settings).toEqual({
    LOGBOOK_SECRETIVE_USERS: "(set, redacted)",
    LOGBOOK_SECRETIVE_KEY: "(set, redacted)",
    LOGBOOK_SECRETIVE_SIZE: 3,
  })
  for (const secret of ["users-pw-never-printed", "key-never-printed", "ops:", "logger:"])
    expect(text).not.toContain(secret)
})
