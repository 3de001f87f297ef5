import { existsSync } from "node:fs";
import path from "node:path";
import fastifyStatic from "@fastify/static";
import { NotFoundError, type Logger, type ServiceApp } from "@shouhu/kit";

export interface ConsoleOptions {
  /** The console's built `dist/` (index.html, assets/); absent: only /config.json is served. */
  dir: string | undefined;
  /** The OIDC issuer (realm URL) the browser signs in at; its origin goes into connect-src. */
  issuerUrl: string;
  clientId: string;
  logger: Logger;
}

/**
 * The console's policy. Ant Design writes its CSS-in-JS as <style> elements, so styles
 * need 'unsafe-inline'; scripts are only our own files. The issuer is reached by fetch
 * (token and refresh-token requests) and by navigation (login page, end_session).
 */
function consoleCsp(issuerUrl: string): string {
  const issuer = new URL(issuerUrl).origin;
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self' ${issuer}`,
    `frame-src ${issuer}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    `form-action 'self' ${issuer}`,
    "frame-ancestors 'none'",
  ].join("; ");
}

/**
 * Serves the built console at `/`: hashed assets cached for a year (their names change
 * with their content), index.html revalidated every time (it names the current assets),
 * the .br/.gz files written at build time instead of compressing per request, and
 * index.html for any other non-API path (client-side routes). `/api/...` is untouched.
 */
export async function registerConsole(app: ServiceApp, options: ConsoleOptions): Promise<void> {
  const csp = consoleCsp(options.issuerUrl);
  const runtimeConfig = JSON.stringify({ issuer: options.issuerUrl, clientId: options.clientId });
  // Read at start-up by the console, so one build runs against any issuer.
  app.get("/config.json", { schema: { hide: true } }, (_request, reply) => {
    reply.header("cache-control", "no-cache").type("application/json").send(runtimeConfig);
  });

  const dir = options.dir;
  if (!dir || !existsSync(path.join(dir, "index.html"))) {
    options.logger.warn({ dir }, "console not built: / is not served (npm run build -w apps/console)");
    return;
  }
  await app.register(fastifyStatic, {
    root: dir,
    prefix: "/",
    wildcard: false, // a route per file found at start-up; the SPA fallback below takes the rest
    preCompressed: true,
    index: false,
    cacheControl: false,
    setHeaders(res, filePath) {
      const hashed = filePath.startsWith(path.join(dir, "assets") + path.sep);
      res.setHeader("cache-control", hashed ? "public, max-age=31536000, immutable" : "no-cache");
      res.setHeader("content-security-policy", csp);
    },
  });
  const sendIndex = (_request: unknown, reply: { sendFile(name: string): unknown }) => reply.sendFile("index.html");
  app.get("/", { schema: { hide: true } }, sendIndex as never);
  app.get("/*", { schema: { hide: true } }, (request, reply) => {
    const url = request.url;
    // An unknown API path or a missing asset is a 404, never the app's page.
    if (url.startsWith("/api/") || url.startsWith("/assets/")) throw new NotFoundError("接口或文件");
    return reply.sendFile("index.html");
  });
}
