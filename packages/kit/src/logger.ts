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
