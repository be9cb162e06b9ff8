import { Elysia } from "elysia"
import type { RecordsContext } from "./settings"

export function recordsApi(_ctx: RecordsContext) {
  return new Elysia()
}
