import { randomBytes } from "node:crypto";

/** A short unique name for one test file: database names, queue prefixes. */
export function testPrefix(label: string): string {
  const safe = label.toLowerCase().replace(/[^a-z0-9]+/g, "_").slice(0, 20);
  return `t_${safe}_${randomBytes(4).toString("hex")}`;
}
