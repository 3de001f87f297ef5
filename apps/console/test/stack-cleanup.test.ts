import { execFileSync } from "node:child_process";
import { afterEach, expect, it } from "vitest";
import { startStack } from "./stack.js";

/**
 * A console test stack that fails to start stops what it had started: a run that left the dev issuer, S3 and
 * registry holding their ports broke the files after it (EADDRINUSE) and `npm start` on this machine.
 */
const saved = process.env.RATE_LIMIT_PER_MINUTE;
afterEach(() => {
  if (saved === undefined) delete process.env.RATE_LIMIT_PER_MINUTE;
  else process.env.RATE_LIMIT_PER_MINUTE = saved;
});

it("a stack whose gateway cannot start leaves no process of its own running", async () => {
  process.env.RATE_LIMIT_PER_MINUTE = "not-a-number"; // the gateway's configuration refuses it: the last service fails
  await expect(startStack({})).rejects.toThrow(/exited during start-up/);
  const children = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(process.pid)])
    .toString()
    .split("\n")
    .filter((line) => line.trim() && !line.includes("ps -o"));
  expect(children).toEqual([]);
}, 120_000);
