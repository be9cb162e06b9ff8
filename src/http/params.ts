/**
 * Integer query and path parameters for route schemas. Elysia's `t.Integer` / `t.Numeric` coerce the
 * string of a query or path value, but render in OpenAPI as `anyOf: [{type: "string", format: "integer",
 * default: 0}, {type: "integer"}]` — a `default` of 0 on a string, which OpenAPI 3.1 validators refuse.
 * `paramInteger` is `t.Integer` without that default (it never applied: an absent optional parameter stays
 * absent). Response and body schemas use TypeBox's plain `Type.Integer()` instead: they are never strings.
 */
import { t } from "elysia"

export function paramInteger(options?: Parameters<typeof t.Integer>[0]) {
  const schema = t.Integer(options)
  for (const alt of (schema as { anyOf?: Array<Record<string, unknown>> }).anyOf ?? [])
    if (alt.type === "string") delete alt.default
  return schema
}
