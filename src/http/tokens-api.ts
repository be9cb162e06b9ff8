/**
 * Token administration over HTTP (admin only), the same operations as `logbook token create|list|revoke`.
 * Revoking here also clears this instance's principal cache, so the token stops working at once.
 */
import { Type } from "@sinclair/typebox"
import { Elysia, t } from "elysia"
import { createToken, listTokens, parseRoles } from "../auth/tokens"
import type { Host } from "../plugin/host"
import { ApiError, errorSchema } from "./errors"
import { jsonBodyAfter } from "./json-body"

const Role = t.Union([t.Literal("read"), t.Literal("ingest"), t.Literal("admin")])
const TokenInfo = t.Object({
  // TypeBox's own integer: Elysia's t.Integer renders as "string or integer" in the document
  id: Type.Integer(),
  name: t.String(),
  roles: t.Array(Role),
  createdAt: Type.Integer({ description: "epoch ms" }),
  revokedAt: t.Union([Type.Integer(), t.Null()], { description: "epoch ms, or null while live" }),
})
const tags = ["tokens"]

export function tokenApi(host: Host) {
  const admin = host.auth.need("admin")
  return new Elysia({ name: "logbook.tokens-api" })
    .get(
      "/api/v1/tokens",
      async () =>
        (await listTokens(host.db)).map((r) => ({
          id: Number(r.id),
          name: r.name,
          roles: parseRoles(r.roles),
          createdAt: Number(r.created_at),
          revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
        })),
      {
        beforeHandle: admin,
        response: { 200: t.Array(TokenInfo), 401: errorSchema, 403: errorSchema },
        detail: { summary: "List API tokens (never their secrets)", tags },
      },
    )
    .post(
      "/api/v1/tokens",
      async ({ body, set }) => {
        try {
          const { id, token } = await createToken(host.db, {
            name: body.name,
            roles: body.roles,
            now: host.now(),
          })
          set.status = 201
          return { id, name: body.name, roles: body.roles, token }
        } catch (e) {
          throw new ApiError(409, "conflict", (e as Error).message)
        }
      },
      {
        // JSON only; who may not create tokens learns nothing about the body: 401/403 before 400/415/422
        ...jsonBodyAfter(admin),
        body: t.Object({
          name: t.String({ pattern: "^[\\w.@-]{1,64}$", description: "1–64 letters, digits, _ . @ -" }),
          roles: t.Array(Role, { minItems: 1, uniqueItems: true }),
        }),
        response: {
          201: t.Object({
            id: Type.Integer(),
            name: t.String(),
            roles: t.Array(Role),
            token: t.String({ description: "shown once; store it now" }),
          }),
          400: errorSchema,
          401: errorSchema,
          403: errorSchema,
          409: errorSchema,
          415: errorSchema,
          422: errorSchema,
        },
        detail: { summary: "Create an API token; the secret is in this response only", tags },
      },
    )
    .delete(
      "/api/v1/tokens/:id",
      async ({ params }) => {
        if (!(await host.auth.revoke(params.id)))
          throw new ApiError(404, "not_found", `no live token ${params.id}`)
        return { revoked: params.id }
      },
      {
        beforeHandle: admin,
        params: t.Object({ id: t.String({ description: "token id or name" }) }),
        response: {
          200: t.Object({ revoked: t.String() }),
          401: errorSchema,
          403: errorSchema,
          404: errorSchema,
        },
        detail: { summary: "Revoke an API token (by id or name); it stops working at once", tags },
      },
    )
}
