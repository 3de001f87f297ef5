import { describe, expect, it } from "vitest";
import { Writable } from "node:stream";
import { pino } from "pino";
import { lazyChildLogger, redactPaths } from "../src/index.js";

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) });
  return { logger: pino({ level, redact: { paths: redactPaths, censor: "[redacted]" } }, stream), lines };
}

describe("lazyChildLogger (per-request loggers made on first use)", () => {
  it("writes nothing below the level and makes no child for it; at an enabled level it is pino's child with the request binding and redaction", () => {
    const { logger, lines } = capture("warn");
    let children = 0;
    const child = logger.child.bind(logger);
    logger.child = ((...args: Parameters<typeof child>) => (children++, child(...args))) as typeof logger.child;
    const log = lazyChildLogger(logger, { reqId: "req-1" }, {});
    log.info({ a: 1 }, "request");
    log.debug("detail");
    expect(children).toBe(0);
    expect(lines).toEqual([]);
    log.warn({ guardian: { phone: "13907310001" } }, "slow upstream");
    log.error("failed");
    expect(children).toBe(1);
    expect(lines.map((l) => [l.reqId, l.msg, l.level])).toEqual([
      ["req-1", "slow upstream", 40],
      ["req-1", "failed", 50],
    ]);
    expect((lines[0]!.guardian as { phone: string }).phone).toBe("[redacted]");
    expect(log.level).toBe("warn");
  });

  it("a route's own level gets a real child at once", () => {
    const { logger, lines } = capture("warn");
    const log = lazyChildLogger(logger, { reqId: "req-2" }, { level: "info" });
    log.info("request");
    expect(lines.map((l) => [l.reqId, l.msg])).toEqual([["req-2", "request"]]);
  });
});
