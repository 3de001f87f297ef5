import type { FastifyRequest } from "fastify";
import { UnauthorizedError } from "@shouhu/kit";
import type { Principal } from "./principal.js";
import type { TokenVerifier } from "./verifier.js";

declare module "fastify" {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (!header) throw new UnauthorizedError("未登录：缺少 Authorization: Bearer 令牌", "missing token");
  const [scheme, token] = header.split(" ");
  if (scheme?.toLowerCase() !== "bearer" || !token) throw new UnauthorizedError("登录凭证格式不正确", "not a bearer token");
  return token;
}

/** An onRequest/preHandler hook: validates the bearer token and sets `request.principal`. */
export function authenticate(verifier: TokenVerifier) {
  return async (request: FastifyRequest): Promise<void> => {
    request.principal = await verifier.verify(bearerToken(request));
  };
}
