import { Elysia } from "elysia"
import type { Health } from "./service"

export function healthUi(_h: Health) {
  return new Elysia({ name: "health.ui", strictPath: true })
}
