import { fileURLToPath } from "node:url";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger, type ServiceApp } from "@shouhu/kit";
import { createTokenVerifier } from "@shouhu/auth";
import { createPgPool } from "@shouhu/db";
import { eventsQueue, subscriptions } from "@shouhu/contracts";
import { OutboxRelay, createEventConsumer, eventsOfJob } from "@shouhu/messaging";
import { createTestDatabase, testPrefix, type TestDatabase } from "@shouhu/testing";
import type { Worker } from "bullmq";
import type pg from "pg";
import { PrismaClient } from "../src/generated/prisma/client.js";
import { buildGatewayApp } from "../src/app.js";
import { upstreamTable } from "../src/upstreams.js";
import type { AuditWriter } from "../src/audit/writer.js";
import { childBody, startRegistry, type Harness } from "../../registry/test/harness.js";
import { startPairing, type PairingHarness } from "../../pairing/test/harness.js";
import type { Tx } from "../../pairing/src/data/db.js";
import { childEventHandlers } from "../../pairing/src/events/child-events.js";
import { startMatchPoller } from "../../pairing/src/jobs/match-poller.js";
import { createPrisma as createVisitsPrisma, type PrismaClient as VisitsPrisma, type Tx as VisitsTx } from "../../visits/src/data/db.js";
import { buildVisitsApp } from "../../visits/src/app.js";
import { visitEventHandlers } from "../../visits/src/events/handlers.js";
import { gatewayTest } from "./harness.js";

/**
 * The whole chain as deployed: a child registered through the gateway reaches
 * pairing and visits only by the registry's outbox, the relay and BullMQ; the
 * proposal is approved through the gateway; pairing.started reaches visits,
 * whose items then name the helper.
 */
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const connection = { url: REDIS_URL };
const prefix = testPrefix("chain");

let registry: Harness;
let pairing: PairingHarness;
let prisma: PrismaClient;
let redis: Redis;
let gateway: ServiceApp & { audit: AuditWriter };
let pairingPool: pg.Pool;
let visitsDb: TestDatabase;
let visitsPrisma: VisitsPrisma;
let visitsApp: ServiceApp;
let visitsSchedule: Queue;
const stoppers: (() => Promise<unknown>)[] = [];

gatewayTest("chain_gateway").beforeAll(async ({ prisma: testPrisma, redis: testRedis }) => {
  [prisma, redis] = [testPrisma, testRedis];
  registry = await startRegistry("chain_registry");
  pairing = await startPairing("chain_pairing", {
    issuer: { issuerUrl: registry.issuerUrl, server: registry.issuer, token: registry.token, as: registry.as, close: async () => undefined },
  });
  const registryUrl = (await registry.app.listen({ port: 0, host: "127.0.0.1" })).replace("localhost", "127.0.0.1");
  const pairingUrl = (await pairing.app.listen({ port: 0, host: "127.0.0.1" })).replace("localhost", "127.0.0.1");
  visitsDb = await createTestDatabase("chain_visits", { migrationsDir: fileURLToPath(new URL("../../visits/prisma/migrations", import.meta.url)) });
  visitsPrisma = createVisitsPrisma(visitsDb.url);
  visitsSchedule = new Queue("visits.schedule", { connection, prefix });
  visitsApp = await buildVisitsApp({
    scheduleQueue: visitsSchedule,
    prisma: visitsPrisma,
    verifier: createTokenVerifier({ issuerUrl: registry.issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-web", "shouhu-service"] }),
    logger: createLogger("visits-test", "silent"),
    now: () => registry.clock.now,
  });
  const visitsUrl = (await visitsApp.listen({ port: 0, host: "127.0.0.1" })).replace("localhost", "127.0.0.1");

  gateway = await buildGatewayApp({
    prisma,
    verifier: createTokenVerifier({ issuerUrl: registry.issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-web", "shouhu-service"] }),
    redis,
    logger: createLogger("gateway-test", "silent"),
    upstreams: upstreamTable({
      registry: registryUrl,
      pairing: pairingUrl,
      visits: visitsUrl,
      health: "http://127.0.0.1:9",
      notifications: "http://127.0.0.1:9",
      reporting: "http://127.0.0.1:9",
      activities: "http://127.0.0.1:9",
    }),
    corsOrigins: [],
    rateLimitPerMinute: 10_000,
    rateLimitNamespace: `${prefix}-rl-`,
    timeoutMs: 5000,
  });
  await gateway.ready();

  // Registry worker side: its relay. Pairing worker side: consumer, matcher, relay.
  const registryRelay = new OutboxRelay({ pool: registry.pool, connection, prefix, producer: "registry", routes: subscriptions, pollIntervalMs: 200 });
  registryRelay.start();
  const consumer: Worker = createEventConsumer<Tx>({
    service: "pairing",
    connection,
    prefix,
    handlers: childEventHandlers(() => pairing.clock.now),
    runInTransaction: (fn) => pairing.prisma.$transaction(fn),
  });
  const poller = startMatchPoller(pairing.prisma, { quietMs: 0, pollMs: 100, logger: createLogger("matcher", "silent") });
  pairingPool = createPgPool(pairing.db.url, { max: 2 });
  const pairingRelay = new OutboxRelay({ pool: pairingPool, connection, prefix, producer: "pairing", routes: subscriptions, pollIntervalMs: 200 });
  pairingRelay.start();
  const visitsConsumer: Worker = createEventConsumer<VisitsTx>({
    service: "visits",
    connection,
    prefix,
    handlers: visitEventHandlers(() => registry.clock.now),
    runInTransaction: (fn) => visitsPrisma.$transaction(fn),
  });
  stoppers.push(
    () => registryRelay.stop(),
    () => consumer.close(),
    () => poller.close(),
    () => pairingRelay.stop(),
    () => visitsConsumer.close(),
  );
});

afterAll(async () => {
  for (const stop of stoppers) await stop();
  for (const service of ["pairing", "visits", "health", "notifications", "reporting"]) {
    const q = new Queue(eventsQueue(service), { connection, prefix });
    await q.obliterate({ force: true }).catch(() => undefined);
    await q.close();
  }
  await gateway?.close();
  await pairingPool?.end();
  await visitsApp?.close();
  await visitsSchedule?.obliterate({ force: true }).catch(() => undefined);
  await visitsSchedule?.close();
  await visitsPrisma?.$disconnect();
  await visitsDb?.drop();
  await pairing?.close();
  await registry?.close();
});

async function call(method: "GET" | "POST", url: string, user: string, payload?: object) {
  const res = await gateway.inject({ method, url, headers: await registry.as(user), ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.json() as any };
}

async function jobsIn(service: string, type: string): Promise<{ data: any }[]> {
  const q = new Queue(eventsQueue(service), { connection, prefix });
  try {
    const jobs = await q.getJobs(["waiting", "delayed", "prioritized", "wait"]);
    // The relay's batch jobs carry several events each: one entry per event of the type.
    return jobs.flatMap((j) =>
      eventsOfJob(j)
        .filter((e) => (e as { type?: string }).type === type)
        .map((data) => ({ data })),
    );
  } finally {
    await q.close();
  }
}

describe("registry → pairing → visits, through the gateway and the queues", () => {
  it("serves the pairing API's paths in the merged OpenAPI document", async () => {
    const doc = (await gateway.inject({ url: "/api/docs/json" })).json() as { paths: Record<string, unknown> };
    for (const path of [
      "/api/v1/helpers",
      "/api/v1/pairings/{id}/approve",
      "/api/v1/pairings/decisions",
      "/api/v1/pairing-runs",
      "/api/v1/unpaired-children",
      "/api/v1/children",
      "/api/v1/visit-records",
      "/api/v1/concerns",
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
  });

  it("pairs a newly registered child, and ends the pairing when the child exits", async () => {
    const helper = await call("POST", "/api/v1/helpers", "changling.supervisor", {
      kind: "proxy_parent",
      name: "黄爱心",
      phone: "13907318888",
      orgUnitCode: "360999101201",
    });
    expect(helper.status, JSON.stringify(helper.body)).toBe(201);

    const child = await call("POST", "/api/v1/children", "changling.supervisor", childBody({ seq: 41, riskLevel: "high" }));
    expect(child.status, JSON.stringify(child.body)).toBe(201);
    const childId = child.body.id as string;

    // The proposal appears once the event has travelled outbox → relay → BullMQ → consumer → matcher.
    let proposal: { id: string; helper: { id: string } } | undefined;
    await expect
      .poll(
        async () => {
          proposal = (await call("GET", `/api/v1/pairings?childId=${childId}&status=proposed`, "changling.supervisor")).body.items[0];
          return proposal !== undefined;
        },
        { timeout: 15_000, interval: 100 },
      )
      .toBe(true);
    expect(proposal!.helper.id).toBe(helper.body.id);

    const approved = await call("POST", `/api/v1/pairings/${proposal!.id}/approve`, "changling.supervisor");
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);

    // Notifications has no consumer yet: the event waits in its queue, as published.
    await expect.poll(async () => (await jobsIn("notifications", "pairing.started")).length, { timeout: 10_000, interval: 100 }).toBe(1);
    const [started] = await jobsIn("notifications", "pairing.started");
    expect(started!.data.data).toMatchObject({ child: { id: childId }, helper: { name: "黄爱心", phone: "13907318888" } });
    // Visits consumed it: the child's items now name the helper.
    await expect
      .poll(
        async () => {
          const items = (await call("GET", `/api/v1/visit-items?childId=${childId}`, "changling.supervisor")).body.items as {
            responsible: { name: string | null };
          }[];
          return items.length === 5 && items.every((i) => i.responsible.name === "黄爱心");
        },
        { timeout: 10_000, interval: 100 },
      )
      .toBe(true);

    // Reads and decisions on the child's pairings are in the gateway's audit trail.
    await gateway.audit.drain();
    const audited = await prisma.auditEntry.findMany({ where: { childIds: { has: childId } } });
    expect(audited.map((a) => a.action)).toEqual(expect.arrayContaining(["create", "pairing-read", "pairing-decision"]));

    const exit = await call("POST", `/api/v1/children/${childId}/status`, "changling.supervisor", { status: "exited", reason: "parent_returned" });
    expect(exit.status, JSON.stringify(exit.body)).toBe(200);
    await expect.poll(async () => (await jobsIn("notifications", "pairing.ended")).length, { timeout: 15_000, interval: 100 }).toBe(1);
    const [ended] = await jobsIn("notifications", "pairing.ended");
    expect(ended!.data.data).toMatchObject({ pairingId: proposal!.id, reason: "child_exited" });
    // And visits closed what was due for the child.
    await expect
      .poll(async () => (await call("GET", `/api/v1/visit-items?childId=${childId}`, "changling.supervisor")).body.items.length, { timeout: 10_000 })
      .toBe(0);
  });
});
