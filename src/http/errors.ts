/**
 * One error shape for the native API: `{"error": {"code", "message", "details"}}` with the right status.
 * Compatibility routes build their own bodies and never throw ApiError at the caller.
 */
import { Type } from "@sinclair/typebox"

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message)
  }
}

/**
 * Content types Elysia parses into objects. A body of another type that fails an object schema is answered
 * 415 (app.ts); routes that check a body before the schema leave such bodies to it.
 */
export const STRUCTURED_BODY =
  /^(application\/([\w.+-]+\+)?json|application\/x-www-form-urlencoded|multipart\/form-data)/i

export const badRequest = (message: string, details?: unknown) =>
  new ApiError(400, "bad_request", message, details)
export const unprocessable = (message: string, details?: unknown) =>
  new ApiError(422, "validation_failed", message, details)
export const notFound = (message = "not found") => new ApiError(404, "not_found", message)

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown }
}

export function errorResponse(
  status: number,
  code: string,
  message: string,
  details?: unknown,
  headers?: Record<string, string>,
): Response {
  const body: ErrorBody = { error: { code, message, ...(details === undefined ? {} : { details }) } }
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  })
}

/** The error body as a TypeBox schema, for routes' `response` maps (OpenAPI). */
export const errorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { description: "Error" },
)
