import type { FastifyBaseLogger } from "fastify";
import { pino, type Logger, type LoggerOptions } from "pino";

export type { Logger };

/**
 * Paths never written to logs: tokens, and minors' identifiers and contacts
 * (DESIGN.md: personal data of minors is sensitive).
 */
export const redactPaths = [
  "req.headers.authorization",
  'req.headers["x-forwarded-authorization"]',
  "*.idNumber",
  "*.phone",
  "*.password",
  "*.access_token",
];

export function createLogger(service: string, level: LoggerOptions["level"] = "info"): Logger {
  return pino({
    name: service,
    level,
    redact: { paths: redactPaths, censor: "[redacted]" },
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"] as const;
type Bindings = Parameters<FastifyBaseLogger["child"]>[0];
type ChildLoggerOptions = NonNullable<Parameters<FastifyBaseLogger["child"]>[1]>;

/**
 * Request loggers made on first use at an enabled level. Fastify gives every
 * request a pino child (`{reqId}`, serialised through redaction), ~3 % of the
 * gateway's CPU (every service's request path pays the same), although at the production level (warn) almost no request
 * logs anything; the child, when it is made, is pino's own, with the same bindings.
 */
export function lazyChildLogger(logger: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions): FastifyBaseLogger {
  if (opts.level) return logger.child(bindings, opts); // a route's own level: nothing to save
  const enabled = (level: string) => (logger as Partial<Logger>).isLevelEnabled?.(level) ?? true;
  let child: FastifyBaseLogger | undefined;
  const real = () => (child ??= logger.child(bindings, opts));
  const lazy = { child: (b: Bindings, o?: ChildLoggerOptions) => real().child(b, o), silent: () => undefined } as unknown as FastifyBaseLogger;
  for (const level of LEVELS) {
    (lazy as unknown as Record<string, unknown>)[level] = (...args: unknown[]) => {
      if (child || enabled(level)) (real()[level] as (...a: unknown[]) => void)(...args);
    };
  }
  Object.defineProperty(lazy, "level", { get: () => (child ?? logger).level, set: (level: string) => void (real().level = level), enumerable: true });
  return lazy;
}
