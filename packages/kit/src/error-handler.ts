import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { AppError, type FieldIssue, ServiceUnavailableError, ValidationError } from "./errors.js";
import { isConcurrentWriteConflict, isDependencyUnavailable, RETRY_AFTER_SECONDS } from "./unavailable.js";

/** `/guardians/0/phone` → `guardians.0.phone`; the request part (body/query) as prefix when empty. */
function fieldFromPath(instancePath: string, context: string | undefined): string {
  const path = instancePath.replace(/^\//, "").replaceAll("/", ".");
  return path || context || "body";
}

/** Fastify's own 4xx codes, mapped to our shape so clients see one format. */
const fastifyClientErrors: Record<string, { code: string; message: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: "UNSUPPORTED_MEDIA_TYPE", message: "不支持的内容类型" },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: "VALIDATION_FAILED", message: "请求体不能为空" },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: "VALIDATION_FAILED", message: "请求体不是有效的 JSON" },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: "PAYLOAD_TOO_LARGE", message: "请求体过大" },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: "VALIDATION_FAILED", message: "Content-Length 无效" },
};

export function validationIssues(error: FastifyError): FieldIssue[] {
  const context = (error as FastifyError & { validationContext?: string }).validationContext;
  return (error.validation ?? []).map((v) => ({
    field: fieldFromPath(v.instancePath, context),
    message: v.message ?? "无效",
  }));
}

/**
 * Renders every error as `{ error: { code, message, details? } }`.
 * Anything unexpected is a 500 with a generic message; details go to the log only.
 */
export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof AppError) {
    if (error.statusCode === 503) {
      request.log.warn({ err: error }, error.message);
      reply.header("retry-after", String(error instanceof ServiceUnavailableError ? error.retryAfterSeconds : RETRY_AFTER_SECONDS));
    } else if (error.statusCode >= 500) request.log.error({ err: error }, error.message);
    return reply.status(error.statusCode).send(error.toJSON());
  }
  // PostgreSQL or Redis down: the request did nothing wrong and may simply be retried.
  if (isDependencyUnavailable(error)) {
    request.log.warn({ err: error }, "dependency unavailable");
    return reply.status(503).header("retry-after", String(RETRY_AFTER_SECONDS)).send(new ServiceUnavailableError().toJSON());
  }
  // Two requests changed the same rows at once and the database rolled this one back: nothing stored.
  if (isConcurrentWriteConflict(error)) {
    request.log.warn({ err: error }, "concurrent write conflict");
    return reply.status(409).send({ error: { code: "CONCURRENT_CHANGE", message: "这些数据正被他人同时修改，本次未作任何更改，请重试" } });
  }
  if (hasZodFastifySchemaValidationErrors(error) || error.validation) {
    return reply.status(400).send(new ValidationError(validationIssues(error)).toJSON());
  }
  const known = error.code ? fastifyClientErrors[error.code] : undefined;
  if (known) {
    return reply.status(error.statusCode ?? 400).send({ error: known });
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return reply.status(status).send({ error: { code: error.code ?? "BAD_REQUEST", message: error.message } });
  }
  request.log.error({ err: error }, "unhandled error");
  return reply.status(500).send({ error: { code: "INTERNAL", message: "服务器内部错误，请稍后重试" } });
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.status(404).send({ error: { code: "NOT_FOUND", message: `接口不存在：${request.method} ${request.url.split("?")[0]}` } });
}
