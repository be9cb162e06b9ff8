// Core scenarios: the OpenAPI document (every plugin's routes), the home page (full layout, auth, CSRF
// token, plugin nav and widget shells), an embedded asset, and the home page on a new connection per
// request. No targets: the issue sets none for the core; these show where the core's own costs are.
import type { BenchScenario } from "../scenario"

export const scenarios: BenchScenario[] = [
  { name: "GET /openapi/json", request: { method: "GET", path: "/openapi/json" } },
  { name: "GET / (home page)", request: { method: "GET", path: "/" } },
  { name: "GET /assets/app.css", request: { method: "GET", path: "/assets/app.css" } },
  {
    name: "GET / new connection each",
    request: { method: "GET", path: "/" },
    keepAlive: false,
    connections: 16,
  },
]
