import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";

/** Prefixes handed out in this test file's process, so its Redis keys can be removed after it. */
const handedOut = new Set<string>();

/** A short unique name for one test file: database names, queue prefixes. */
export function testPrefix(label: string): string {
  const safe = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .slice(0, 20);
  const prefix = `t_${safe}_${randomBytes(4).toString("hex")}`;
  handedOut.add(prefix);
  return prefix;
}

/**
 * Deletes every Redis key under the prefixes this process handed out (queues, rate-limit
 * counters, locks): a test run leaves nothing behind. Run after each test file by the
 * vitest setup file; the shared Redis is never flushed, only these keys go.
 */
export async function removeTestKeys(url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379"): Promise<number> {
  if (handedOut.size === 0) return 0;
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on("error", () => undefined);
  let removed = 0;
  try {
    await redis.connect();
    for (const prefix of handedOut) {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
        cursor = next;
        if (keys.length) removed += await redis.unlink(...keys);
      } while (cursor !== "0");
    }
    handedOut.clear();
  } finally {
    redis.disconnect();
  }
  return removed;
}
