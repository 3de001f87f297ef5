import type { Readable } from "node:stream";
import type { FastifyReply, FastifyRequest } from "fastify";
import { Pool } from "undici";
import { AUDIT_HEADER, RETRY_AFTER_SECONDS, traceHeaders, type ServiceApp } from "@shouhu/kit";
import type { Principal } from "@shouhu/auth";
import type { AuditRecord, AuditWriter } from "../audit/writer.js";
import { findUpstream, type Upstream } from "../upstreams.js";

const childPath = /^\/api\/v1\/children\/([0-9a-f-]{36})(\/[a-z-]+)?/;

/** What to audit when a child endpoint answered without the header (belt and braces). */
function auditFromPath(request: FastifyRequest): { action: string; childIds: string[] } | undefined {
  const m = childPath.exec(request.url);
  if (!m) return request.url.startsWith("/api/v1/children") ? { action: request.method === "GET" ? "list" : "create", childIds: [] } : undefined;
  const action = request.method === "GET" ? (m[2] ? m[2].slice(1) : "read") : m[2] === "/status" ? "status-change" : "update";
  return { action, childIds: [m[1]!] };
}

type Audited = { action: string; childIds: string[] };
type Who = Pick<Principal, "userId" | "username" | "roles" | "orgUnit">;
const NOBODY: Who = { userId: "", username: "", roles: [], orgUnit: "" };
/** Who a token-less request (a link from an SMS, a provider callback) is in the audit trail: its source address says the rest. */
const PUBLIC_LINK: Who = { userId: "public", username: "（公开链接）", roles: [], orgUnit: "" };

export function auditRecord(request: FastifyRequest, who: Who, what: Audited, status: number, outcome: AuditRecord["outcome"]): AuditRecord {
  const client = request.headers["x-request-id"];
  return {
    userId: who.userId,
    username: who.username,
    roles: who.roles,
    orgUnit: who.orgUnit,
    action: what.action,
    childIds: what.childIds,
    method: request.method,
    path: request.url.split("?")[0]!,
    status,
    requestId: request.id,
    clientRequestId: typeof client === "string" ? client : null,
    outcome,
    sourceIp: sourceIps.get(request) ?? request.ip ?? null,
  };
}

/**
 * The client's address as the request arrived: after an `Expect: 100-continue` upload the
 * socket behind `request.ip` may already be gone when the audit row is written.
 */
const sourceIps = new WeakMap<FastifyRequest, string>();
export function rememberSourceIp(request: FastifyRequest, _reply: FastifyReply, done: () => void): void {
  if (request.ip) sourceIps.set(request, request.ip);
  done();
}

function recordRefused(audit: AuditWriter, request: FastifyRequest, record: AuditRecord): void {
  try {
    audit.record(record);
  } catch (err) {
    request.log.error({ err }, "audit of a refused attempt failed");
  }
}

/**
 * A request for a child's record answered 401 (no or a bad token) is recorded as a refused
 * attempt with its source address, after the answer has gone.
 */
export function auditUnauthenticated(audit: AuditWriter) {
  return (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (reply.statusCode === 401) {
      const attempt = auditFromPath(request);
      if (attempt) recordRefused(audit, request, auditRecord(request, request.principal ?? NOBODY, attempt, 401, "refused"));
    }
    done();
  };
}

/** The request span's context as W3C headers (the handler runs outside it now that it has no span of its own). */
function requestTraceHeaders(request: FastifyRequest): Record<string, string> {
  const otel = (
    request as FastifyRequest & { opentelemetry?: () => { instrumented: boolean; inject: (carrier: Record<string, string>) => void } }
  ).opentelemetry?.call(request);
  if (!otel?.instrumented) return traceHeaders();
  const carrier: Record<string, string> = {};
  otel.inject(carrier);
  return carrier;
}

/** Bodies up to this size with a content-length are read whole and sent as one Buffer. */
const BUFFERED_BODY_LIMIT = 256 * 1024;

/**
 * Per-connection headers (RFC 9110 §7.6.1): never forwarded in either direction. `expect`
 * too: the client's `Expect: 100-continue` (curl sends it above 1 MB) was answered by
 * this server already, and undici refuses a request carrying it (a 502 before).
 */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "host", "expect"]);

type Headers = Record<string, string | string[] | undefined>;

function forwardable(headers: Headers, drop?: string): Headers {
  const out: Headers = {};
  // Headers that `connection` names are per-connection too.
  const named =
    typeof headers.connection === "string"
      ? headers.connection
          .toLowerCase()
          .split(",")
          .map((h) => h.trim())
      : [];
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || name === drop || (named.length && named.includes(name))) continue;
    out[name] = headers[name];
  }
  return out;
}

/** The service could not be reached or dropped the connection: it is restarting or down, and the client may retry. */
const UNREACHABLE = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CLOSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH"]);

function upstreamError(reply: Pick<FastifyReply, "status" | "header">, error: { code?: string }) {
  const timeout = error.code === "UND_ERR_HEADERS_TIMEOUT" || error.code === "UND_ERR_BODY_TIMEOUT" || error.code === "UND_ERR_CONNECT_TIMEOUT";
  if (timeout) return reply.status(504).send({ error: { code: "UPSTREAM_TIMEOUT", message: "后端服务响应超时，请稍后重试" } });
  if (error.code && UNREACHABLE.has(error.code)) {
    return reply
      .status(503)
      .header("retry-after", String(RETRY_AFTER_SECONDS))
      .send({ error: { code: "SERVICE_UNAVAILABLE", message: "后端服务暂不可用，请稍后重试" } });
  }
  return reply.status(502).send({ error: { code: "UPSTREAM_UNAVAILABLE", message: "后端服务暂不可用，请稍后重试" } });
}

/**
 * One retry of a GET or HEAD whose connection was refused or reset before any answer:
 * a keep-alive socket the service closed while shutting down, or a replica that just
 * went away. Reads have no effect to double; anything else is never retried.
 */
async function requestOnce(pool: Pool, options: Parameters<Pool["request"]>[0]): ReturnType<Pool["request"]> {
  try {
    return await pool.request(options);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if ((options.method === "GET" || options.method === "HEAD") && code && UNREACHABLE.has(code)) {
      await new Promise((r) => setTimeout(r, 50));
      return pool.request(options);
    }
    throw err;
  }
}

/**
 * Proxying with undici's Pool, one per service: path preserved, token and
 * request id forwarded, hop-by-hop headers dropped both ways, bodies streamed
 * (uploads in, exports out) except small responses, which are read whole; a response
 * is released once its audit record is in the gateway's journal. @fastify/reply-from did the same with
 * ~10 % of the gateway's CPU on top (its header rewriting, retry wrapper and
 * per-request closures), and the gateway's throughput ratio is CPU-bound here.
 */
export async function registerProxy(app: ServiceApp, deps: { upstreams: Upstream[]; audit: AuditWriter; timeoutMs: number }): Promise<void> {
  const pools = new Map<Upstream, Pool>();
  for (const upstream of deps.upstreams) {
    // maxHeaderSize: the audit header names every child a response holds (~40 bytes
    // each); undici's 16 kB default failed any list of more than ~400 children.
    pools.set(
      upstream,
      new Pool(upstream.url, {
        connections: 128,
        pipelining: 1,
        keepAliveTimeout: 60_000,
        headersTimeout: deps.timeoutMs,
        bodyTimeout: deps.timeoutMs,
        maxHeaderSize: 1024 * 1024,
      }),
    );
  }
  app.addHook("onClose", async () => {
    await Promise.all([...pools.values()].map((pool) => pool.close()));
  });

  // Bodies pass through untouched (JSON, multipart uploads): the service parses and validates them.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_request, payload, done) => done(null, payload));

  // One server span per proxied request (the trace's parent for the service), not
  // one per hook and handler as well: at 1,000 requests/s those spans were ~5 % of
  // the gateway's CPU and say nothing the service's own spans do not.
  app.all("/api/v1/*", { schema: { hide: true }, config: { otel: { instrumentHooks: false, instrumentHandler: false } } }, async (request, reply) => {
    const upstream = findUpstream(deps.upstreams, request.url);
    if (!upstream) return reply.status(404).send({ error: { code: "NOT_FOUND", message: `接口不存在：${request.method} ${request.url.split("?")[0]}` } });
    const principal = request.principal ?? PUBLIC_LINK;
    const body = request.body as Readable | undefined;
    const headers = forwardable(request.headers);
    if (!body) delete headers["content-length"]; // GET, HEAD, or no body: nothing to send
    Object.assign(headers, requestTraceHeaders(request), { "x-request-id": request.id });
    // The address the gateway trusts (its own trustProxy), not whatever the client wrote: a token-less route audits it.
    if (!request.principal) headers["x-forwarded-for"] = sourceIps.get(request) ?? request.ip;

    let upstreamRes: Awaited<ReturnType<Pool["request"]>>;
    try {
      upstreamRes = await requestOnce(pools.get(upstream)!, { path: request.url, method: request.method as "GET", headers, body: body ?? null });
    } catch (err) {
      request.log.warn({ err, upstream: upstream.name }, "upstream request failed");
      return upstreamError(reply, err as { code?: string });
    }
    const { statusCode, headers: resHeaders, body: resBody } = upstreamRes;
    const raw = resHeaders[AUDIT_HEADER];
    let audit: { action: string; childIds: string[] } | undefined;
    if (typeof raw === "string") {
      try {
        audit = JSON.parse(raw) as { action: string; childIds: string[] };
      } catch {
        audit = auditFromPath(request);
      }
    } else audit = auditFromPath(request);

    // Small bodies are read whole (one send); large ones stream after the audit record.
    const length = Number(resHeaders["content-length"]);
    const payload: Promise<Buffer | Readable> = length <= BUFFERED_BODY_LIMIT ? resBody.arrayBuffer().then((b) => Buffer.from(b)) : Promise.resolve(resBody);
    payload.catch(() => undefined); // observed below, after the audit outcome
    if (audit && statusCode < 400) {
      try {
        // In the journal before the answer leaves (on disk too with AUDIT_JOURNAL_SYNC=group); PostgreSQL follows.
        deps.audit.record(auditRecord(request, principal, audit, statusCode, "allowed"));
        const onDisk = deps.audit.onDisk();
        if (onDisk) await onDisk;
      } catch (err) {
        // An unaudited read of a minor's record must not be served (journal full or unwritable).
        request.log.error({ err }, "audit record not journaled; response withheld");
        resBody.on("error", () => undefined); // destroying an undici body aborts it; that is intended
        resBody.destroy();
        return reply
          .status(503)
          .send({ error: { code: "AUDIT_UNAVAILABLE", message: "审计记录暂时无法写入，为保护儿童信息，本次请求未返回数据，请稍后重试" } });
      }
    }
    // A refused attempt on a child's record is evidence too (who probed what); it does not
    // hold the answer, which carries no child data.
    if (statusCode === 403 || statusCode === 404) {
      const attempt = auditFromPath(request);
      if (attempt) recordRefused(deps.audit, request, auditRecord(request, principal, attempt, statusCode, "refused"));
    }
    let out: Buffer | Readable;
    try {
      out = await payload;
    } catch (err) {
      // A body that fails mid-read: the client gets what a broken upstream gives (502).
      request.log.warn({ err }, "upstream body failed");
      return upstreamError(reply, {});
    }
    // The upstream's headers only now, so a withheld or failed answer carries none of them.
    return reply.status(statusCode).headers(forwardable(resHeaders, AUDIT_HEADER)).send(out);
  });
}
