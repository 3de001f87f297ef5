import type { FastifyBaseLogger } from "fastify";
import { pino, type Logger, type LoggerOptions } from "pino";
import { scrubBindings, scrubText, scrubValue } from "./redact.js";

export type { Logger };

/**
 * Paths never written to logs: tokens, and minors' identifiers and contacts
 * (DESIGN.md: personal data of minors is sensitive).
 */
export const redactPaths = ["req.headers.authorization", 'req.headers["x-forwarded-authorization"]', "*.idNumber", "*.phone", "*.password", "*.access_token"];

/** Every depth of a logged object, and the message text, scrubbed of minors' personal data (redact.ts). */
export const scrubbingOptions: Pick<LoggerOptions, "formatters" | "hooks" | "onChild"> = {
  formatters: { log: (obj) => scrubValue(obj) as Record<string, unknown>, bindings: scrubBindings },
  // pino drops the bindings formatter for children (`logger.child({ row })`) and writes their
  // bindings on every line as they are: scrub them once here, when the child is made.
  onChild: scrubChildBindings,
  hooks: {
    logMethod(args, method) {
      for (let i = 0; i < args.length; i++) if (typeof args[i] === "string") args[i] = scrubText(args[i] as string);
      return method.apply(this, args);
    },
  },
};

function scrubChildBindings(child: Logger): void {
  const target = child as unknown as Record<symbol, string>;
  const serialised = target[pino.symbols.chindingsSym];
  if (!serialised) return;
  const bindings = JSON.parse(`{${serialised.slice(1)}}`) as Record<string, unknown>;
  target[pino.symbols.chindingsSym] = `,${JSON.stringify(scrubBindings(bindings)).slice(1, -1)}`;
}

export function createLogger(service: string, level: LoggerOptions["level"] = "info"): Logger {
  return pino({
    name: service,
    level,
    ...scrubbingOptions,
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
class LazyChildLogger {
  private made: FastifyBaseLogger | undefined;
  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly opts: ChildLoggerOptions,
  ) {}
  private real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.opts));
  }
  isLevelEnabled(level: string): boolean {
    return this.made ? (this.made as unknown as Logger).isLevelEnabled(level) : ((this.parent as Partial<Logger>).isLevelEnabled?.(level) ?? true);
  }
  get level(): string {
    return (this.made ?? this.parent).level;
  }
  set level(level: string) {
    this.real().level = level;
  }
  child(bindings: Bindings, opts?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real().child(bindings, opts);
  }
  silent(): void {}
}
// The level methods on the prototype: a request logger is one small object, no closures.
for (const level of LEVELS) {
  Object.defineProperty(LazyChildLogger.prototype, level, {
    value(this: LazyChildLogger, ...args: unknown[]) {
      if (this.isLevelEnabled(level)) ((this as unknown as { real(): FastifyBaseLogger }).real()[level] as (...a: unknown[]) => void)(...args);
    },
  });
}

export function lazyChildLogger(logger: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions): FastifyBaseLogger {
  if (opts.level) return logger.child(bindings, opts); // a route's own level: nothing to save
  return new LazyChildLogger(logger, bindings, opts) as unknown as FastifyBaseLogger;
}
