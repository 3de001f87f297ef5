import { Redis } from "ioredis";

/**
 * Workers block on Redis and must retry forever (`maxRetriesPerRequest: null`,
 * BullMQ's requirement); producers should fail fast when Redis is down rather
 * than queue commands in memory (`enableOfflineQueue: false`).
 */
export function createRedisConnection(url: string, options: { role: "worker" | "producer" }): Redis {
  const redis =
    options.role === "worker"
      ? new Redis(url, { maxRetriesPerRequest: null })
      : new Redis(url, { maxRetriesPerRequest: 3, enableOfflineQueue: false, lazyConnect: false });
  // An unhandled 'error' event would crash the process; ioredis reconnects by itself.
  redis.on("error", () => undefined);
  return redis;
}
