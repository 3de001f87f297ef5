/**
 * One error shape on the wire: `{ error: { code, message, details? } }`.
 * Services throw these; the Fastify error handler in app.ts renders them.
 * Messages may be shown to staff, so they are zh-CN.
 */
export interface FieldIssue {
  /** Dotted path of the offending field, e.g. `guardians.0.phone`. */
  field: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }

  toJSON(): { error: { code: string; message: string; details?: unknown } } {
    return { error: { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) } };
  }
}

export class ValidationError extends AppError {
  constructor(issues: FieldIssue[], message?: string) {
    super(400, "VALIDATION_FAILED", message ?? `输入有误：${issues.map((i) => `${i.field} ${i.message}`).join("；")}`, issues);
  }
  static field(field: string, message: string): ValidationError {
    return new ValidationError([{ field, message }]);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = "未登录或登录已失效", reason?: string) {
    super(401, "UNAUTHORIZED", message, reason === undefined ? undefined : { reason });
  }
}

export class ForbiddenError extends AppError {
  constructor(message = "无权访问该记录") {
    super(403, "FORBIDDEN", message);
  }
}

export class NotFoundError extends AppError {
  constructor(what: string, id?: string) {
    super(404, "NOT_FOUND", id === undefined ? `${what}不存在` : `${what}不存在：${id}`);
  }
}

export class ConflictError extends AppError {
  constructor(code: string, message: string, details?: unknown) {
    super(409, code, message, details);
  }
}

export class TooManyRequestsError extends AppError {
  constructor(message = "请求过于频繁，请稍后再试") {
    super(429, "RATE_LIMITED", message);
  }
}

/** A dependency (PostgreSQL, Redis, the identity provider) is down for now: retry later. */
export class ServiceUnavailableError extends AppError {
  constructor(
    message = "服务暂时不可用，请稍后重试",
    readonly retryAfterSeconds = 5,
  ) {
    super(503, "SERVICE_UNAVAILABLE", message);
  }
}
