/** The part of pino we use, so any pino logger fits and tests can pass nothing. */
export interface MessagingLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

const noop = () => undefined;
export const silentLogger: MessagingLogger = { info: noop, warn: noop, error: noop, debug: noop };
