import type { Redis } from "ioredis";

type IncrCallback = (err: Error | null, res?: { current: number; ttl: number }) => void;

interface Lease {
  /** The next permit number to hand out, and the last one this lease holds. */
  next: number;
  end: number;
  expiresAt: number;
  size: number;
  fetchedAt: number;
}

// INCRBY n takes permits current-n+1 … current of this window; a new key starts the window.
const LEASE_LUA = `
local current = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[2])
if current == tonumber(ARGV[1]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
else
  ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    ttl = tonumber(ARGV[2])
  end
end
return {current, ttl}`;

const MAX_LEASE = 64;

type LeaseRedis = Redis & { shouhuRateLease?: (key: string, size: number, windowMs: number) => Promise<[number, number]> };

/**
 * A @fastify/rate-limit store that takes permits from Redis in leases instead of
 * one round trip per request. The Redis counter is still the one truth shared
 * by every gateway instance: each permit has a number in the window, and a
 * request is let through only if its number is ≤ max, so a user never gets more
 * than max. A user sending steadily gets bigger leases (doubling while a lease
 * lasts < 100 ms, up to 64; back to 1 after a quiet second), and a lease never
 * reaches past the permits left, so the only cost is that permits leased but
 * unused when a window ends are lost (a busy user may be refused a few requests
 * early, never late). A user at ordinary rates leases one permit at a time:
 * exactly the plugin's own Redis store.
 */
export function leasedRedisStore(
  redis: Redis,
  prefix: string,
  fallback: MemoryFallback = new MemoryFallback(),
): new (params?: StoreParams) => LeasedRedisStore {
  const client = redis as LeaseRedis;
  if (!client.shouhuRateLease) client.defineCommand("shouhuRateLease", { numberOfKeys: 1, lua: LEASE_LUA });
  return class extends LeasedRedisStore {
    constructor(params?: StoreParams) {
      super(client, prefix, params, fallback);
    }
  };
}

/**
 * While Redis is unreachable the gateway keeps serving: each instance counts in its
 * own fixed window instead (a user may then get up to max per instance, which beats
 * refusing every request because a counter store is down). Redis is tried again on
 * every lease, so the shared counters return as soon as it is back.
 */
export class MemoryFallback {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  /** Is the fallback in use now (the last Redis attempt failed)? */
  active = false;
  /** Requests counted in memory since start (the `gateway_rate_limit_fallback_total` metric). */
  uses = 0;

  constructor(private readonly onChange: (active: boolean, err?: Error) => void = () => undefined) {}

  take(key: string, timeWindow: number, now = Date.now()): { current: number; ttl: number } {
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      if (this.windows.size > 10_000) for (const [k, v] of this.windows) if (v.resetAt <= now) this.windows.delete(k);
      w = { count: 0, resetAt: now + timeWindow };
      this.windows.set(key, w);
    }
    this.uses++;
    return { current: ++w.count, ttl: w.resetAt - now };
  }

  failed(err: Error): void {
    if (this.active) return;
    this.active = true;
    this.onChange(true, err);
  }

  recovered(): void {
    if (!this.active) return;
    this.active = false;
    this.windows.clear();
    this.onChange(false);
  }
}

type StoreParams = { timeWindow?: unknown; max?: unknown };

export class LeasedRedisStore {
  private readonly leases = new Map<string, Lease>();
  private readonly pending = new Map<string, Promise<void>>();

  private readonly defaults: { timeWindow: number; max: number };

  constructor(
    private readonly client: LeaseRedis,
    private readonly keyPrefix: string,
    params?: StoreParams,
    private readonly fallback: MemoryFallback = new MemoryFallback(),
  ) {
    this.defaults = {
      timeWindow: typeof params?.timeWindow === "number" ? params.timeWindow : 60_000,
      max: typeof params?.max === "number" ? params.max : Number.MAX_SAFE_INTEGER,
    };
  }

  // The plugin passes the window and max of the route (its typings omit them).
  incr(key: string, cb: IncrCallback, timeWindow = this.defaults.timeWindow, max = this.defaults.max): void {
    const fullKey = this.keyPrefix + key;
    const now = Date.now();
    const lease = this.leases.get(fullKey);
    if (lease && lease.next <= lease.end && now < lease.expiresAt) {
      cb(null, { current: lease.next++, ttl: lease.expiresAt - now });
      return;
    }
    let fetching = this.pending.get(fullKey);
    if (!fetching) {
      fetching = this.lease(fullKey, lease, now, timeWindow, max).finally(() => this.pending.delete(fullKey));
      this.pending.set(fullKey, fetching);
    }
    // Requests that arrived while the lease was fetched take from it in arrival order (or fetch the next).
    fetching.then(
      () => {
        this.fallback.recovered();
        this.incr(key, cb, timeWindow, max);
      },
      (err: Error) => {
        this.fallback.failed(err);
        cb(null, this.fallback.take(fullKey, timeWindow));
      },
    );
  }

  private async lease(fullKey: string, previous: Lease | undefined, now: number, timeWindow: number, max: number): Promise<void> {
    let size = 1;
    if (previous) {
      const lasted = now - previous.fetchedAt;
      size = lasted < 100 ? Math.min(previous.size * 2, MAX_LEASE) : lasted > 1000 ? 1 : previous.size;
      // Never lease past the permits left in this window (as last seen).
      const left = now < previous.expiresAt ? max - previous.end : max;
      size = Math.max(1, Math.min(size, left));
    }
    const [current, ttl] = await this.client.shouhuRateLease!(fullKey, size, timeWindow);
    if (this.leases.size > 10_000) {
      for (const [k, l] of this.leases) if (l.expiresAt <= now) this.leases.delete(k);
    }
    this.leases.set(fullKey, { next: current - size + 1, end: current, expiresAt: Date.now() + Math.max(ttl, 1), size, fetchedAt: now });
  }

  /** Per-route limits (`config.rateLimit`) count apart, as the plugin's Redis store does. */
  // At run time the plugin passes the merged params with `routeInfo` (its typings say RouteOptions).
  child(routeOptions: object) {
    const { routeInfo } = routeOptions as { routeInfo?: { method?: string; url?: string } };
    return new LeasedRedisStore(this.client, `${this.keyPrefix}${routeInfo?.method}${routeInfo?.url}-`, { ...this.defaults, ...routeOptions }, this.fallback);
  }
}
