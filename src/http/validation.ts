/**
 * What a 422 says: which parameter of which part of the request failed its schema, and how, in words
 * (`limit: must be ≤ 1000, got 5000`, `id: must be an integer, got 'abc'`), from Elysia's ValidationError.
 *
 * Elysia 1.4 checks a `t.Numeric` / `t.Integer` / `t.Boolean` query, path or body parameter by decoding it
 * on its own, and a range error found there reaches `onError` as a ValidationError of type "property" with
 * an empty path: which parameter, and even which part of the request, is lost (elysia#1822). TypeBox's
 * decode error does carry the path, so for those the route's own schemas are decoded again, part by part
 * in Elysia's order, to find it. Only refused requests pay for this.
 */
import type { TSchema } from "@sinclair/typebox"
import { ValueErrorType as E, type ValueError } from "@sinclair/typebox/errors"
import { TransformDecodeError, Value } from "@sinclair/typebox/value"

/** The parts of a request Elysia validates, in the order it validates them. */
export const REQUEST_PARTS = ["headers", "params", "query", "body", "cookie"] as const
export type RequestPart = (typeof REQUEST_PARTS)[number]

/** The fields of Elysia's ValidationError read here. */
export interface ElysiaValidationError {
  type?: string
  valueError?: ValueError
  all?: ValueError[]
}

/** One problem: `path` a JSON pointer (`/limit`, `/items/0/name`; "" the whole part). */
export interface Problem {
  path: string
  message: string
}

export interface Described {
  /** The part of the request: `query`, `params`, `body`, …, or `request` when it cannot be told. */
  where: string
  problems: Problem[]
  /** `invalid query: limit: must be ≤ 1000, got 5000` */
  message: string
}

/**
 * The problems of a refused request. `schemas(part)` are the route's schemas of that part; `values` the
 * request's values as Elysia holds them when validation fails (parts validated before are decoded already).
 */
export function describeValidation(
  error: ElysiaValidationError,
  schemas: (part: RequestPart) => TSchema[],
  values: Partial<Record<RequestPart, unknown>>,
): Described {
  let where = error.type ?? "request"
  let problems: Problem[]
  if (where === "property") {
    const found = locateProperty(schemas, values)
    const inner = found?.error ?? error.valueError
    where = found?.part ?? "request"
    problems = [{ path: found?.path ?? "", message: inner ? problemOf(inner) : "is not valid" }]
  } else {
    const seen = new Set<string>()
    problems = []
    // one problem per path: TypeBox may report a missing field both as missing and as of the wrong type
    for (const x of error.all ?? [])
      if (!seen.has(x.path)) {
        seen.add(x.path)
        problems.push({ path: x.path, message: problemOf(x) })
      }
  }
  const first = problems[0]
  return {
    where,
    problems,
    message: first ? `invalid ${where}: ${nameOf(first.path)}: ${first.message}` : `invalid ${where}`,
  }
}

/**
 * `/limit` → `limit`, `/items/0/name` → `items.0.name`, "" → `(root)`; other paths (a Standard Schema
 * validator's `a.b`) as they are.
 */
export function nameOf(pointer: string): string {
  if (!pointer || pointer === "root") return "(root)"
  if (!pointer.startsWith("/")) return pointer
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"))
    .join(".")
}

function locateProperty(
  schemas: (part: RequestPart) => TSchema[],
  values: Partial<Record<RequestPart, unknown>>,
): { part: RequestPart; path: string; error?: ValueError } | undefined {
  for (const part of REQUEST_PARTS) {
    const value = values[part]
    if (value === undefined || value === null) continue
    for (const schema of schemas(part)) {
      try {
        Value.Decode(schema, Value.Convert(schema, value))
      } catch (e) {
        if (e instanceof TransformDecodeError && e.path)
          return {
            part,
            path: e.path,
            error: (e.error as { valueError?: ValueError } | undefined)?.valueError,
          }
      }
    }
  }
  return undefined
}

/** A value as a message shows it: numbers as they are, strings quoted and shortened. */
function shown(v: unknown): string {
  if (typeof v === "string") return `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`
  if (v === null) return "null"
  if (Array.isArray(v)) return "an array"
  if (typeof v === "object") return "an object"
  return String(v)
}

const TYPE_ERRORS = new Set([
  E.Integer,
  E.Number,
  E.String,
  E.Boolean,
  E.Array,
  E.Object,
  E.Null,
  E.Literal,
  E.Union,
  E.Kind,
])

/** What a schema asks for, as words: `an integer`, `true or false`, `'asc'`. */
function kindOf(schema: TSchema): string {
  if ("const" in schema) return shown(schema.const)
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map(shown).join(", ")}`
  // Elysia's coercion of query, path and form values: a string of that format, or the value itself
  if (schema.type === "string" && typeof schema.format === "string") {
    const f = schema.format
    if (f === "numeric") return "a number"
    if (f === "integer") return "an integer"
    if (f === "boolean") return "true or false"
    if (f === "ObjectString") return "an object"
    if (f === "ArrayString") return "an array"
    return `a string in the format ${f}`
  }
  if (Array.isArray(schema.anyOf)) return alternatives(schema.anyOf as TSchema[])
  switch (schema.type) {
    case "integer":
      return "an integer"
    case "number":
      return "a number"
    case "string":
      return "a string"
    case "boolean":
      return "true or false"
    case "array":
      return "an array"
    case "object":
      return "an object"
    case "null":
      return "null"
  }
  return "a valid value"
}

function alternatives(anyOf: TSchema[]): string {
  const kinds = [...new Set(anyOf.map(kindOf))]
  if (kinds.length === 1) return kinds[0] as string
  if (anyOf.every((s) => "const" in s)) return `one of ${kinds.join(", ")}`
  return `${kinds.slice(0, -1).join(", ")} or ${kinds.at(-1)}`
}

/** One problem in words, without the parameter's name. */
export function problemOf(x: ValueError): string {
  // a Standard Schema validator's issue (no TypeBox error type) is its own message; its value is the whole part
  if (typeof x.type !== "number") return x.message || "is not valid"
  const s = (x.schema ?? {}) as TSchema & Record<string, unknown>
  if (typeof s.error === "string") return s.error
  const got = `got ${shown(x.value)}`
  const length = typeof x.value === "string" ? x.value.length : 0
  switch (x.type) {
    case E.ObjectRequiredProperty:
      return "is required"
    case E.ObjectAdditionalProperties:
      return "is not allowed here"
    case E.IntegerMaximum:
    case E.NumberMaximum:
      return `must be ≤ ${s.maximum}, ${got}`
    case E.IntegerMinimum:
    case E.NumberMinimum:
      return `must be ≥ ${s.minimum}, ${got}`
    case E.IntegerExclusiveMaximum:
    case E.NumberExclusiveMaximum:
      return `must be < ${s.exclusiveMaximum}, ${got}`
    case E.IntegerExclusiveMinimum:
    case E.NumberExclusiveMinimum:
      return `must be > ${s.exclusiveMinimum}, ${got}`
    case E.IntegerMultipleOf:
    case E.NumberMultipleOf:
      return `must be a multiple of ${s.multipleOf}, ${got}`
    case E.StringMinLength:
      return s.minLength === 1
        ? "must not be empty"
        : `must be at least ${s.minLength} characters, got ${length}`
    case E.StringMaxLength:
      return `must be at most ${s.maxLength} characters, got ${length}`
    case E.StringPattern:
      return `must match ${s.pattern}, ${got}`
    case E.StringFormat:
      return `must be ${kindOf(s)}, ${got}`
    case E.ArrayMinItems:
      return `must have at least ${s.minItems} items, got ${Array.isArray(x.value) ? x.value.length : 0}`
    case E.ArrayMaxItems:
      return `must have at most ${s.maxItems} items, got ${Array.isArray(x.value) ? x.value.length : 0}`
    case E.Union: {
      // a value of the right kind that breaks a constraint of its alternative (`count: 11` for an integer
      // ≤ 10, which Elysia also accepts as a string) is that alternative's problem
      const own = (x.errors ?? []).map((it) => it.First()).find((e) => e && !TYPE_ERRORS.has(e.type))
      if (own) return problemOf({ ...own, path: x.path })
      break
    }
  }
  if (x.value === undefined) return "is required"
  if (TYPE_ERRORS.has(x.type)) return `must be ${kindOf(s)}, ${got}`
  return `${x.message}, ${got}`
}
