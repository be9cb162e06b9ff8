/**
 * A JSON-only request body whose caller is checked before the body is judged: route options (`parse` and
 * `transform`) for a POST that takes JSON alone, the pattern of POST /api/v1/changes (5e4db04) as a helper.
 *
 * Elysia parses a body, and a hook-less route validates it, before `beforeHandle` runs, so a caller without
 * the role would learn about the body first (400 unparsable, 415 wrong type, 422 invalid). Here the parser
 * never refuses: a JSON body (or one sent without a type) is read and parsed as JSON, anything else is read
 * as text; `transform` (which runs before validation) checks the caller, then refuses a body of another type
 * (415, naming application/json) or one that is not JSON (400). The parser list names "json" alone, so the
 * OpenAPI document lists application/json alone.
 */
import { ApiError, STRUCTURED_BODY } from "./errors"

const FORM_BODY = /^(application\/x-www-form-urlencoded|multipart\/form-data)/i
/** application/json or a +json type (a form type is structured too, but not JSON). */
export const isJsonType = (type: string) => STRUCTURED_BODY.test(type) && !FORM_BODY.test(type)

/** A body sent as JSON that does not parse: refused in transform, after the caller's check. */
class Unparsable {}

type Check = (c: { request: Request; body?: unknown }) => unknown

/**
 * `parse` and `transform` for a JSON-only route; `check` is the caller's check (`auth.need(role)`), run
 * first. No body at all reaches the schema as undefined.
 */
export function jsonBodyAfter(check: Check) {
  return {
    parse: [
      async ({ request, contentType }: { request: Request; contentType: string }) => {
        if (!request.body) return ""
        const text = await request.text()
        if (contentType && !isJsonType(contentType)) return text
        if (text === "") return ""
        try {
          return JSON.parse(text) as unknown
        } catch {
          return new Unparsable()
        }
      },
      "json" as const,
    ],
    async transform(c: { request: Request; body: unknown }) {
      await check({ request: c.request, body: c.body })
      const type = c.request.headers.get("content-type")
      if (type && !isJsonType(type))
        throw new ApiError(
          415,
          "unsupported_media_type",
          `a body of type ${type.split(";")[0]} is not accepted here; send application/json`,
        )
      if (c.body instanceof Unparsable)
        throw new ApiError(400, "bad_request", "the request body could not be parsed")
      if (c.body === "") c.body = undefined
    },
  }
}
