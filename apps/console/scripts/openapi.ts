/**
 * Writes the gateway's merged OpenAPI document to apps/console/openapi.json without
 * running the system: each service's app is built with inert dependencies (route
 * registration touches no database, queue or issuer), listens on a free local port
 * for the one `/openapi.json` request, and the real gateway app merges them exactly
 * as it does in production (`/api/docs/json`).
 */
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { createLogger, type ServiceApp } from "@shouhu/kit";
import type { TokenVerifier } from "@shouhu/auth";
import { buildRegistryApp } from "../../../services/registry/src/app.js";
import { buildPairingApp } from "../../../services/pairing/src/app.js";
import { buildVisitsApp } from "../../../services/visits/src/app.js";
import { buildHealthApp } from "../../../services/health/src/app.js";
import { buildNotificationsApp } from "../../../services/notifications/src/app.js";
import { buildReportingApp } from "../../../services/reporting/src/app.js";
import { buildActivitiesApp } from "../../../services/activities/src/app.js";
import { buildGatewayApp } from "../../../services/gateway/src/app.js";
import { upstreamTable } from "../../../services/gateway/src/upstreams.js";

/** Any property, any call: fails loudly only if something is actually used. */
function inert<T>(name: string): T {
  const handler: ProxyHandler<object> = {
    get: (_t, prop) => (prop === "then" ? undefined : new Proxy(() => undefined, handler)),
    apply: () => {
      throw new Error(`${name} was used while only the OpenAPI document was wanted`);
    },
  };
  return new Proxy(() => undefined, handler) as T;
}

const logger = createLogger("openapi", "silent");
const verifier = inert<TokenVerifier>("verifier");
const prisma = inert<never>("prisma");
const queue = inert<never>("queue");

const services: Record<string, ServiceApp> = {
  registry: await buildRegistryApp({
    prisma,
    verifier,
    logger,
    imports: { queue },
    exports: { queue },
    snapshots: { queue },
    attachments: inert("attachments"),
  } as never),
  pairing: await buildPairingApp({ prisma, verifier, logger }),
  visits: await buildVisitsApp({ prisma, verifier, logger, scheduleQueue: queue, attachments: inert("attachments") } as never),
  health: await buildHealthApp({ prisma, verifier, logger }),
  notifications: await buildNotificationsApp({ prisma, verifier, logger, deadLetters: inert("deadLetters") } as never),
  reporting: await buildReportingApp({ prisma, verifier, logger, exports: queue } as never),
  activities: await buildActivitiesApp({ prisma, verifier, logger }),
};
const urls: Record<string, string> = {};
for (const [name, app] of Object.entries(services)) urls[name] = await app.listen({ port: 0, host: "127.0.0.1" });

const gateway = await buildGatewayApp({
  prisma,
  verifier,
  redis: inert("redis"),
  logger,
  upstreams: upstreamTable(urls as Parameters<typeof upstreamTable>[0]),
  corsOrigins: [],
  rateLimitPerMinute: 1,
  audit: inert("audit"),
  accounts: { accounts: inert("accounts"), orgUnitExists: inert("orgUnitExists") },
});
const res = await gateway.inject({ method: "GET", url: "/api/docs/json" });
if (res.statusCode !== 200) throw new Error(`gateway answered ${res.statusCode}: ${res.body}`);
const doc = res.json() as { paths: Record<string, unknown> };
const missing = Object.keys(urls).filter(
  (name) =>
    !Object.keys(doc.paths).some((p) =>
      upstreamTable(urls as never)
        .find((u) => u.name === name)!
        .prefixes.some((x) => p.startsWith(x)),
    ),
);
if (missing.length) throw new Error(`no paths from ${missing.join(", ")}`);

const out = fileURLToPath(new URL("../openapi.json", import.meta.url));
await writeFile(out, JSON.stringify(doc, null, 2) + "\n");
console.log(`openapi.json: ${Object.keys(doc.paths).length} paths`);
for (const app of Object.values(services)) await app.close();
process.exit(0); // the gateway's inert audit writer has nothing to drain
