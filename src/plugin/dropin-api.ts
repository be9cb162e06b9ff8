/**
 * What drop-in files get from `import { … } from "logbook"`: the host registers this object as the
 * virtual module "logbook" before loading them (a drop-in cannot import the app's bundled modules or npm
 * packages by path or name, inside the compiled binary or out). Editor types: src/plugin/logbook.d.ts,
 * written next to the drop-ins by `logbook types`.
 */
import { Elysia, t } from "elysia"
import { escapeHtml, html, unsafeRaw } from "../../views/html"
import { defineHealthCheck, definePlugin } from "./contract"

export const dropInApi = { defineHealthCheck, definePlugin, html, unsafeRaw, escapeHtml, Elysia, t }
export type * from "./contract"
export { defineHealthCheck, definePlugin, Elysia, escapeHtml, html, t, unsafeRaw }
