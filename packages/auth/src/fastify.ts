import { isIPv6 } from "node:net";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { TooManyRequestsError, UnauthorizedError } from "@shouhu/kit";
import type { Principal } from "./principal.js";
import type { TokenVerifier } from "./verifier.js";

declare module "fastify" {
  interface FastifyRequest {
    /** Set by `authenticate`; absent on routes that do not use it. */
    principal?: Principal;
  }
}

export function bearerToken(request: Pick<FastifyRequest, "headers">): string {
  const header = request.headers.authorization;
  if (!header) throw new UnauthorizedError("未登录：缺少 Authorization: Bearer 令牌", "missing token");
  const match = /^Bearer +(\S+) *$/i.exec(header);
  if (!match) throw new UnauthorizedError("登录凭证格式不正确", "not a bearer token");
  return match[1]!;
}

type HookDone = (err?: Error) => void;

/**
 * Failed token checks per source address (token guessing, replaying stolen expired
 * tokens): past `max` in a window, the address gets 429 with Retry-After until the
 * window ends, before its token is even looked at. Per process, in memory: the check
 * must not depend on Redis being up, and each gateway or service counts what it sees.
 */
/**
 * The key an address is limited under: an IPv4 address itself (also when written as
 * IPv4-mapped IPv6), an IPv6 address by its /64 — one host or customer usually holds a
 * whole /64, so keying by the full address would give an attacker 2^64 fresh budgets.
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = "", tail = ""] = address.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = address.includes("::") ? [...left, ...Array(8 - left.length - right.length).fill("0"), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

export class FailedAuthLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  constructor(
    readonly max = 20,
    readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until the address may try again; 0 when it may now. */
  blockedFor(address: string): number {
    if (this.windows.size === 0) return 0;
    const key = addressKey(address);
    const w = this.windows.get(key);
    if (!w) return 0;
    const now = this.now();
    if (w.resetAt <= now) {
      this.windows.delete(key);
      return 0;
    }
    return w.count >= this.max ? Math.ceil((w.resetAt - now) / 1000) : 0;
  }

  fail(address: string): void {
    const now = this.now();
    const key = addressKey(address);
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      if (this.windows.size > 50_000) for (const [k, v] of this.windows) if (v.resetAt <= now) this.windows.delete(k);
      w = { count: 0, resetAt: now + this.windowMs };
      this.windows.set(key, w);
    }
    w.count++;
  }
}

/**
 * An onRequest/preHandler hook: validates the bearer token and sets `request.principal`.
 * Errors (UnauthorizedError → 401) go to the service's error handler to render.
 * The gateway forwards the same bearer token, and each service runs this again with
 * its own verifier: keys are cached per verifier, so that costs one RSA verify.
 * Callback-style, and synchronous for a token seen before: every request passes here.
 */
export function authenticate(verifier: TokenVerifier, limiter: FailedAuthLimiter = new FailedAuthLimiter()) {
  return (request: FastifyRequest, reply: unknown, done: HookDone): void => {
    const wait = limiter.blockedFor(request.ip);
    if (wait > 0) {
      (reply as { header(name: string, value: string): void }).header("retry-after", String(wait));
      return done(new TooManyRequestsError(`登录凭证校验失败次数过多，请 ${wait} 秒后再试`));
    }
    let raw: string;
    try {
      raw = bearerToken(request);
    } catch (err) {
      return done(err as Error);
    }
    const known = verifier.verified?.(raw);
    if (known) {
      request.principal = known;
      return done();
    }
    verifier.verify(raw).then(
      (principal) => {
        request.principal = principal;
        done();
      },
      (err: Error) => {
        // A bad, forged or expired token counts; an outage of the identity provider (503) does not.
        if (err instanceof UnauthorizedError) limiter.fail(request.ip);
        done(err);
      },
    );
  };
}

/** The principal `authenticate` set; throws 401 where a route forgot the hook. */
export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw new UnauthorizedError();
  return request.principal;
}

/** The routes a service answers without a token: probes, metrics and its API description. */
export const OPEN_ROUTES: ReadonlySet<string> = new Set(["/healthz", "/readyz", "/metrics", "/openapi.json"]);

/**
 * Routes under this prefix are answered without a token: pages reached from an SMS (a
 * letter home, a one-time task link) and provider callbacks. Each such route checks its
 * own credential (a signed link, a callback signature) and reaches nothing else.
 */
export const PUBLIC_PREFIX = "/api/v1/public/";

/**
 * Inside a service every route validates the bearer token again (the network is not
 * trusted, DESIGN.md), except the open ones above. The decision is made on the route
 * the router matched — after it decoded and normalized the path — never on the raw
 * URL: `/%61pi/v1/children` matches `/api/v1/children` and so needs a token too, and an
 * unmatched path answers 401 before it can say whether anything lives there.
 */
export function protectApiRoutes(app: Pick<FastifyInstance, "addHook">, verifier: TokenVerifier): void {
  const check = authenticate(verifier);
  app.addHook("onRequest", (request: FastifyRequest, reply: unknown, done: HookDone) => {
    const route = request.routeOptions.url;
    if (route !== undefined && (OPEN_ROUTES.has(route) || route.startsWith(PUBLIC_PREFIX))) done();
    else check(request, reply, done);
  });
}
