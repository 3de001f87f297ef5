#!/usr/bin/env node
/**
 * The floor of any HTTP hop on this machine: a proxy that does nothing but
 * forward (node:http in, undici Pool out, body buffered, as the gateway does for
 * records), with no auth, rate limit, audit, hooks or logging. bench/gateway.mjs
 * runs it beside the real gateway, so the ratio a bare hop reaches is measured in
 * the same run as the gateway's.
 *   node bench/bare-proxy.mjs <port> <upstream-url>
 */
import http from "node:http";
import { Pool } from "undici";

const [port, upstream] = process.argv.slice(2);
const pool = new Pool(upstream, { connections: 128, pipelining: 1, keepAliveTimeout: 60_000 });
const seen = new Set();
const hopByHop = new Set(["connection", "keep-alive", "transfer-encoding", "host"]);

http
  .createServer(async (req, res) => {
    try {
      const headers = {};
      for (const [k, v] of Object.entries(req.headers)) if (!hopByHop.has(k)) headers[k] = v;
      const up = await pool.request({ path: req.url, method: req.method, headers });
      const body = Buffer.from(await up.body.arrayBuffer());
      const out = {};
      for (const [k, v] of Object.entries(up.headers)) if (!hopByHop.has(k)) out[k] = v;
      out["content-length"] = body.length;
      res.writeHead(up.statusCode, out).end(body);
    } catch (err) {
      // Said once per kind of failure, so a run with failures is visibly not a floor.
      const kind = err?.code ?? String(err);
      if (!seen.has(kind)) console.error(`bare proxy: ${kind} ${err?.message ?? ""}`);
      seen.add(kind);
      res.writeHead(502, { "content-length": 0 }).end();
    }
  })
  .listen(Number(port), "127.0.0.1", () => process.send?.("ready"));
process.on("SIGTERM", () => process.exit(0));
