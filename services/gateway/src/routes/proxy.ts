import type { FastifyReply, FastifyRequest } from "fastify";
import replyFrom from "@fastify/reply-from";
import { AUDIT_HEADER, traceHeaders, type ServiceApp } from "@shouhu/kit";
import type { AuditWriter } from "../audit/writer.js";
import { findUpstream, type Upstream } from "../upstreams.js";

declare module "fastify" {
  interface FastifyRequest {
    audit?: { action: string; childIds: string[] };
  }
}

const childPath = /^\/api\/v1\/children\/([0-9a-f-]{36})(\/[a-z-]+)?/;

/** What to audit when a child endpoint answered without the header (belt and braces). */
function auditFromPath(request: FastifyRequest): { action: string; childIds: string[] } | undefined {
  const m = childPath.exec(request.url);
  if (!m) return request.url.startsWith("/api/v1/children") ? { action: request.method === "GET" ? "list" : "create", childIds: [] } : undefined;
  const action = request.method === "GET" ? (m[2] ? m[2].slice(1) : "read") : m[2] === "/status" ? "status-change" : "update";
  return { action, childIds: [m[1]!] };
}

/** The request span's context as W3C headers (the handler runs outside it now that it has no span of its own). */
function requestTraceHeaders(request: FastifyRequest): Record<string, string> {
  const otel = (request as FastifyRequest & { opentelemetry?: () => { instrumented: boolean; inject: (carrier: Record<string, string>) => void } }).opentelemetry?.call(request);
  if (!otel?.instrumented) return traceHeaders();
  const carrier: Record<string, string> = {};
  otel.inject(carrier);
  return carrier;
}

/** Bodies up to this size with a content-length are read whole and sent as one Buffer. */
const BUFFERED_BODY_LIMIT = 256 * 1024;

type UpstreamBody = NodeJS.ReadableStream & { arrayBuffer?: () => Promise<ArrayBuffer>; destroy?: () => void };

/**
 * The upstream body as one Buffer when it is small and its length known (a
 * record, a page of a list), else the stream (exports, uploads' reports). A
 * Buffer goes out with `res.end(buffer)`, headers and body in one write, without
 * the pipe between undici's body and the response (stream state, listeners,
 * end-of-stream bookkeeping per request).
 */
async function upstreamBody(upstreamRes: { headers: Record<string, unknown>; stream: unknown }): Promise<Buffer | UpstreamBody> {
  const body = upstreamRes.stream as UpstreamBody;
  const length = Number(upstreamRes.headers["content-length"]);
  if (typeof body.arrayBuffer !== "function" || !(length <= BUFFERED_BODY_LIMIT)) return body;
  return Buffer.from(await body.arrayBuffer());
}

function upstreamError(reply: Pick<FastifyReply, "status">, error: { statusCode?: number; code?: string }) {
  const timeout = error.statusCode === 504 || error.code === "FST_REPLY_FROM_GATEWAY_TIMEOUT";
  return reply.status(timeout ? 504 : 502).send({
    error: { code: timeout ? "UPSTREAM_TIMEOUT" : "UPSTREAM_UNAVAILABLE", message: timeout ? "后端服务响应超时，请稍后重试" : "后端服务暂不可用，请稍后重试" },
  });
}

export async function registerProxy(app: ServiceApp, deps: { upstreams: Upstream[]; audit: AuditWriter; timeoutMs: number }): Promise<void> {
  await app.register(replyFrom, {
    // maxHeaderSize: the audit header names every child a response holds (~40 bytes
    // each); undici's 16 kB default failed any list of more than ~400 children.
    undici: { connections: 128, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: deps.timeoutMs, bodyTimeout: deps.timeoutMs, maxHeaderSize: 1024 * 1024 },
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
    const principal = request.principal!;
    return reply.from(`${upstream.url}${request.url}`, {
      rewriteRequestHeaders: (_req, headers) => ({ ...headers, ...requestTraceHeaders(request), "x-request-id": request.id }),
      rewriteHeaders: (headers) => {
        const raw = headers[AUDIT_HEADER];
        if (typeof raw === "string") {
          try {
            request.audit = JSON.parse(raw);
          } catch {
            request.audit = auditFromPath(request);
          }
        }
        const { [AUDIT_HEADER]: _dropped, ...rest } = headers;
        return rest;
      },
      onResponse: (_req, res, raw) => {
        // What reply-from passes at run time (its type names the raw response).
        const upstreamRes = raw as unknown as { statusCode: number; headers: Record<string, unknown>; stream: unknown };
        const audit = request.audit ?? auditFromPath(request);
        const send = (body: Buffer | UpstreamBody) => void res.send(body);
        // A body that fails mid-read: the client gets what a broken upstream gives (502).
        const failed = (err: Error) => {
          request.log.warn({ err }, "upstream body failed");
          res.removeHeader("content-length"); // the upstream's, copied already
          void upstreamError(res as unknown as FastifyReply, {});
        };
        if (!audit || upstreamRes.statusCode >= 400) {
          upstreamBody(upstreamRes).then(send, failed);
          return;
        }
        // The body is read while the audit row is being committed; it is released only after the commit.
        const body = upstreamBody(upstreamRes);
        body.catch(() => undefined); // observed below, after the audit outcome
        deps.audit
          .record({
            userId: principal.userId,
            username: principal.username,
            roles: principal.roles,
            orgUnit: principal.orgUnit,
            action: audit.action,
            childIds: audit.childIds,
            method: request.method,
            path: request.url.split("?")[0]!,
            status: upstreamRes.statusCode,
            requestId: request.id,
          })
          .then(
            () => body.then(send, failed),
            (err: Error) => {
              // An unaudited read of a minor's record must not be served.
              request.log.error({ err }, "audit write failed; response withheld");
              const stream = upstreamRes.stream as UpstreamBody;
              stream.on("error", () => undefined); // destroying an undici body aborts it; that is intended
              stream.destroy?.();
              res.status(503).send({ error: { code: "AUDIT_UNAVAILABLE", message: "审计记录暂时无法写入，为保护儿童信息，本次请求未返回数据，请稍后重试" } });
            },
          );
      },
      onError: (res, { error }) => void upstreamError(res as unknown as FastifyReply, error as { statusCode?: number; code?: string }),
    });
  });
}
