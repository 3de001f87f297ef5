import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import fastifyCookie from "@fastify/cookie";
import { Queue, type ConnectionOptions } from "bullmq";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { deadLetterQueue, eventsQueue, jobQueues, subscriptions } from "@shouhu/contracts";
import { ForbiddenError, UnauthorizedError, scrubValue, type ServiceApp } from "@shouhu/kit";
import { operationalRoles, tokenClaims, type Principal, type TokenVerifier } from "@shouhu/auth";

/** Where Bull Board is mounted. Outside `/api/v1`: a browser page, reached with the session cookie. */
const OPS_PATH = "/ops/queues";
const COOKIE = "shouhu_ops";
const OPS_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'none'";

/** Every queue of the deployment: each consumer's events and dead letters, and the job queues. */
export function opsQueueNames(): string[] {
  const consumers = [...new Set(Object.values(subscriptions).flat())];
  const events = consumers.map((c) => eventsQueue(c));
  return [...events, ...events.map(deadLetterQueue), ...Object.values(jobQueues)].sort();
}

const isOps = (principal: Principal) => operationalRoles(principal).includes("ops");

/**
 * Operators may look and retry, nothing else: removing, cleaning, emptying or promoting
 * jobs would lose or reorder events (a removed `child.registered` is a child some
 * service never hears of), so only reads and the retry endpoints pass.
 */
const RETRY = /^\/ops\/queues\/api\/queues\/[^/]+\/(?:retry\/[a-z]+|[^/]+\/retry)$/;
export const opsRequestAllowed = (method: string, path: string) => method === "GET" || (method === "PUT" && RETRY.test(path));

export interface OpsOptions {
  verifier: TokenVerifier;
  connection: ConnectionOptions;
  prefix: string;
}

/**
 * `POST /api/v1/ops/session` (bearer token, realm role `ops`) sets an HttpOnly,
 * SameSite=Strict cookie holding the token for `/ops` only, lasting as long as the
 * token; the browser then opens Bull Board, whose page and API calls carry no bearer
 * header. Each request re-verifies the cookie's token (cached until expiry) and its
 * role. Job payloads are shown scrubbed of personal data at every depth.
 */
export function registerOpsSession(api: ServiceApp): void {
  api.post(
    "/api/v1/ops/session",
    { schema: { tags: ["ops"], summary: "进入队列运维（仅运维角色）：设置只用于 /ops 的会话 Cookie" } },
    async (request, reply) => {
      const principal = request.principal!;
      if (!isOps(principal)) throw new ForbiddenError("只有运维人员可以查看队列");
      const exp = Number(tokenClaims(principal).exp ?? 0);
      const maxAge = Math.max(0, exp - Math.floor(Date.now() / 1000));
      const secure = request.protocol === "https" ? "; Secure" : "";
      reply.header("set-cookie", `${COOKIE}=${principal.token}; Path=/ops; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`);
      return { url: `${OPS_PATH}/`, expiresIn: maxAge };
    },
  );
}

export async function registerOps(app: FastifyInstance, options: OpsOptions): Promise<{ close: () => Promise<void> }> {
  const queues = opsQueueNames().map((name) => new Queue(name, { connection: options.connection, prefix: options.prefix }));
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(OPS_PATH);
  createBullBoard({
    queues: queues.map((q) => {
      const adapter = new BullMQAdapter(q, { allowRetries: true, description: q.name });
      adapter.setFormatter("data", (data) => scrubValue(data));
      adapter.setFormatter("returnValue", (value) => scrubValue(value));
      return adapter;
    }),
    serverAdapter,
    options: { uiConfig: { boardTitle: "守护 · 队列运维", locale: { lng: "zh-CN" } } },
  });
  await app.register(async (ops) => {
    await ops.register(fastifyCookie);
    ops.addHook("onRequest", async (request: FastifyRequest, reply: FastifyReply) => {
      const token = request.cookies[COOKIE];
      const principal = token ? await options.verifier.verify(token).catch(() => null) : null;
      reply.header("cache-control", "no-store");
      // Bull Board's page: its own scripts, styles (some inline) and API only; nothing from elsewhere.
      reply.raw.setHeader("content-security-policy", OPS_CSP);
      // Answered here in the one error shape: Bull Board's routes have an error handler of their own.
      const refuse = (err: UnauthorizedError | ForbiddenError) => reply.code(err.statusCode).send(err.toJSON());
      if (!principal) return refuse(new UnauthorizedError("会话已过期，请从工作台重新进入队列运维"));
      if (!isOps(principal)) return refuse(new ForbiddenError("只有运维人员可以查看队列"));
      if (!opsRequestAllowed(request.method, request.url.split("?")[0]!)) return refuse(new ForbiddenError("运维人员只能查看和重试任务"));
    });
    // setBasePath above gives the page its base; the plugin needs only the route prefix.
    await ops.register(serverAdapter.registerPlugin(), { prefix: OPS_PATH });
  });
  return { close: async () => void (await Promise.all(queues.map((q) => q.close()))) };
}
