import { fileURLToPath } from "node:url";
import { Queue, type Worker } from "bullmq";
import ExcelJS from "exceljs";
import { Redis } from "ioredis";
import type pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger, type ServiceApp } from "@shouhu/kit";
import { createTokenVerifier } from "@shouhu/auth";
import { createPgPool } from "@shouhu/db";
import { eventsQueue, subscriptions } from "@shouhu/contracts";
import { OutboxRelay, createEventConsumer, eventsOfJob } from "@shouhu/messaging";
import { createTestDatabase, testPrefix, type TestDatabase } from "@shouhu/testing";
import { PrismaClient } from "../src/generated/prisma/client.js";
import { buildGatewayApp } from "../src/app.js";
import { upstreamTable } from "../src/upstreams.js";
import type { AuditWriter } from "../src/audit/writer.js";
import { childBody, startRegistry, type Harness } from "../../registry/test/harness.js";
import { createPrisma as createHealthPrisma, type PrismaClient as HealthPrisma, type Tx as HealthTx } from "../../health/src/data/db.js";
import { buildHealthApp } from "../../health/src/app.js";
import { healthHandlers } from "../../health/src/events/handlers.js";
import { gatewayTest } from "./harness.js";

/**
 * Health as deployed behind the gateway: a child registered through the gateway
 * reaches health only by the registry's outbox, the relay and BullMQ; campaign,
 * exam, follow-up and coverage go through the gateway with real tokens; what
 * health publishes reaches reporting's and notifications' queues by its relay.
 */
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const connection = { url: REDIS_URL };
const prefix = testPrefix("hchain");

let registry: Harness;
let healthDb: TestDatabase;
let healthPrisma: HealthPrisma;
let healthPool: pg.Pool;
let healthApp: ServiceApp;
let prisma: PrismaClient;
let redis: Redis;
let gateway: ServiceApp & { audit: AuditWriter };
const stoppers: (() => Promise<unknown>)[] = [];

gatewayTest("hchain_gateway").beforeAll(async ({ prisma: testPrisma, redis: testRedis }) => {
  [prisma, redis] = [testPrisma, testRedis];
  registry = await startRegistry("hchain_registry");
  const registryUrl = (await registry.app.listen({ port: 0, host: "127.0.0.1" })).replace("localhost", "127.0.0.1");
  const verifier = () => createTokenVerifier({ issuerUrl: registry.issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-web", "shouhu-service"] });

  healthDb = await createTestDatabase("hchain_health", { migrationsDir: fileURLToPath(new URL("../../health/prisma/migrations", import.meta.url)) });
  healthPrisma = createHealthPrisma(healthDb.url);
  healthApp = await buildHealthApp({
    prisma: healthPrisma,
    verifier: verifier(),
    logger: createLogger("health-test", "silent"),
    now: () => registry.clock.now,
  });
  const healthUrl = (await healthApp.listen({ port: 0, host: "127.0.0.1" })).replace("localhost", "127.0.0.1");

  gateway = await buildGatewayApp({
    prisma,
    verifier: verifier(),
    redis,
    logger: createLogger("gateway-test", "silent"),
    upstreams: upstreamTable({
      registry: registryUrl,
      pairing: "http://127.0.0.1:9",
      visits: "http://127.0.0.1:9",
      health: healthUrl,
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

  // Worker sides: the registry's relay; health's consumer and relay (as ROLE=worker runs them).
  const registryRelay = new OutboxRelay({ pool: registry.pool, connection, prefix, producer: "registry", routes: subscriptions, pollIntervalMs: 200 });
  registryRelay.start();
  const consumer: Worker = createEventConsumer<HealthTx>({
    service: "health",
    connection,
    prefix,
    handlers: healthHandlers(),
    runInTransaction: (fn) => healthPrisma.$transaction(fn),
  });
  healthPool = createPgPool(healthDb.url, { max: 2 });
  const healthRelay = new OutboxRelay({ pool: healthPool, connection, prefix, producer: "health", routes: subscriptions, pollIntervalMs: 200 });
  healthRelay.start();
  stoppers.push(
    () => registryRelay.stop(),
    () => consumer.close(),
    () => healthRelay.stop(),
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
  await healthApp?.close();
  await healthPool?.end();
  await healthPrisma?.$disconnect();
  await healthDb?.drop();
  await registry?.close();
});

async function call(method: "GET" | "POST", url: string, user: string, payload?: object) {
  const res = await gateway.inject({ method, url, headers: await registry.as(user), ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.json() as any };
}

async function jobsIn(service: string, type: string): Promise<{ data: any }[]> {
  const q = new Queue(eventsQueue(service), { connection, prefix });
  try {
    // The relay's batch jobs carry several events each: one entry per event of the type.
    return (await q.getJobs(["waiting", "delayed", "prioritized", "wait"])).flatMap((j) =>
      eventsOfJob(j)
        .filter((e) => (e as { type?: string }).type === type)
        .map((data) => ({ data })),
    );
  } finally {
    await q.close();
  }
}

describe("registry → health → reporting and notifications, through the gateway and the queues", () => {
  it("serves health's paths in the merged OpenAPI document", async () => {
    const doc = (await gateway.inject({ url: "/api/docs/json" })).json() as { paths: Record<string, unknown> };
    for (const path of [
      "/api/v1/campaigns",
      "/api/v1/campaigns/{id}/coverage",
      "/api/v1/campaigns/{id}/results",
      "/api/v1/exams",
      "/api/v1/follow-ups",
      "/api/v1/follow-ups/{id}/referral",
      "/api/v1/snapshots/health",
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
  });

  it("a registered child is in the campaign's scope; an abnormal exam opens a follow-up and publishes checkup.recorded and checkup.flagged", async () => {
    const campaign = await call("POST", "/api/v1/campaigns", "changling.doctor", {
      name: "2026年秋季免费体检",
      orgUnits: ["360999101"],
      startDate: "2026-11-01",
      endDate: "2026-11-30",
      provider: "长岭乡卫生院",
    });
    expect(campaign.status, JSON.stringify(campaign.body)).toBe(201);
    const campaignId = campaign.body.id as string;

    const child = await call("POST", "/api/v1/children", "changling.supervisor", childBody({ seq: 51 }));
    expect(child.status, JSON.stringify(child.body)).toBe(201);
    const childId = child.body.id as string;

    // In scope once child.registered has travelled outbox → relay → BullMQ → health's consumer.
    await expect
      .poll(async () => (await call("GET", `/api/v1/campaigns/${campaignId}/coverage`, "changling.doctor")).body.total?.inScope, {
        timeout: 15_000,
        interval: 100,
      })
      .toBe(1);

    // Girl of 11 years 8 months: haemoglobin 108 g/L is moderate anaemia (WHO, 5–11 years: below 115).
    const exam = await call("POST", "/api/v1/exams", "changling.doctor", {
      childId,
      campaignId,
      date: "2026-11-20",
      examiner: "李医生",
      heightCm: 146,
      weightKg: 38,
      visionLeft: 5.0,
      visionRight: 5.0,
      hemoglobin: 108,
    });
    expect(exam.status, JSON.stringify(exam.body)).toBe(201);
    expect(exam.body.flags).toEqual([{ kind: "anaemia", severity: "moderate", label: "贫血（中度）" }]);
    // Out-of-bounds values are refused through the gateway too, naming the field.
    const bad = await call("POST", "/api/v1/exams", "changling.doctor", { childId, date: "2026-11-21", examiner: "李医生", weightKg: 760 });
    expect([bad.status, bad.body.error.details[0].field]).toEqual([400, "weightKg"]);

    const followUps = await call("GET", "/api/v1/follow-ups?status=open", "changling.director");
    expect(followUps.body.items).toEqual([expect.objectContaining({ childId, kind: "anaemia", status: "open", ownerRole: "village-director" })]);

    const coverage = await call("GET", `/api/v1/campaigns/${campaignId}/coverage`, "county.inspector");
    expect(coverage.status).toBe(200);
    expect(coverage.body.total).toEqual({ inScope: 1, examined: 1, missed: 0, flags: { anaemia: 1 } });
    expect((await call("GET", `/api/v1/exams?childId=${childId}`, "county.inspector")).status).toBe(403);
    expect((await call("GET", `/api/v1/campaigns/${campaignId}/coverage`, "shimen.supervisor")).status).toBe(404);

    // Health's relay delivered what it published to the services that consume it.
    await expect.poll(async () => (await jobsIn("reporting", "checkup.recorded")).length, { timeout: 10_000, interval: 100 }).toBe(1);
    const [recorded] = await jobsIn("reporting", "checkup.recorded");
    expect(recorded!.data).toMatchObject({
      producer: "health",
      subject: childId,
      orgUnit: "360999101201",
      data: { examId: exam.body.examId, campaignId, child: { id: childId, villageCode: "360999101201" }, flags: [{ kind: "anaemia" }] },
    });
    await expect.poll(async () => (await jobsIn("notifications", "checkup.flagged")).length, { timeout: 10_000, interval: 100 }).toBe(1);
    const [flagged] = await jobsIn("notifications", "checkup.flagged");
    expect(flagged!.data.data).toMatchObject({
      examId: exam.body.examId,
      findings: [{ kind: "anaemia", followUpId: followUps.body.items[0].id, followUpOpened: true }],
      guardian: { name: "李大山", phone: "13907310001" },
      helper: null,
    });

    // A referral through the gateway closes it; reads of the child's exams are in the audit trail.
    const referral = await call("POST", `/api/v1/follow-ups/${followUps.body.items[0].id}/referral`, "changling.doctor", {
      hospital: "县人民医院",
      date: "2026-11-21",
    });
    expect(referral.status, JSON.stringify(referral.body)).toBe(200);
    expect((await call("GET", "/api/v1/follow-ups?status=open", "changling.director")).body.items).toEqual([]);
    expect((await call("GET", `/api/v1/exams?childId=${childId}`, "changling.supervisor")).body.items).toHaveLength(1);
    await gateway.audit.drain();
    const audited = await prisma.auditEntry.findMany({ where: { childIds: { has: childId } } });
    expect(audited.map((a) => `${a.action} ${a.path}`)).toEqual(expect.arrayContaining(["update /api/v1/exams", "read /api/v1/exams"]));
  });

  it("bulk entry through the gateway: the roster downloads as .xlsx and the filled-in sheet uploads, with per-row errors", async () => {
    const campaign = await call("POST", "/api/v1/campaigns", "changling.supervisor", {
      name: "2026年冬季复查",
      orgUnits: ["360999101201"],
      startDate: "2026-11-15",
      endDate: "2026-11-30",
      provider: "长岭乡卫生院",
    });
    expect(campaign.status, JSON.stringify(campaign.body)).toBe(201);
    const second = await call("POST", "/api/v1/children", "changling.supervisor", childBody({ seq: 52, sex: "male", name: "李小虎", birthDate: "2016-05-10" }));
    expect(second.status, JSON.stringify(second.body)).toBe(201);
    await expect
      .poll(async () => (await call("GET", `/api/v1/campaigns/${campaign.body.id}/coverage`, "changling.doctor")).body.total?.inScope, {
        timeout: 15_000,
        interval: 100,
      })
      .toBe(2);

    const roster = await gateway.inject({ url: `/api/v1/campaigns/${campaign.body.id}/roster.xlsx`, headers: await registry.as("changling.doctor") });
    expect([roster.statusCode, roster.headers["content-type"]]).toEqual([200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(roster.rawPayload as unknown as ArrayBuffer);
    const sheet = wb.worksheets[0]!;
    const col = (h: string) => (sheet.getRow(1).values as unknown[]).indexOf(h);
    const rowOf = (name: string) => {
      let found = 0;
      sheet.eachRow((row, n) => {
        if (row.getCell(col("姓名")).value === name) found = n;
      });
      return sheet.getRow(found);
    };
    const fill = (name: string, values: Record<string, ExcelJS.CellValue>) => {
      const row = rowOf(name);
      for (const [h, v] of Object.entries(values)) row.getCell(col(h)).value = v;
      return row.number;
    };
    fill("李小虎", { 检查日期: "2026年11月20日", 检查医生: "李医生", "身高(cm)": 128, "体重(kg)": 26, 左眼视力: 5.0, 右眼视力: 5.0 });
    const badRow = fill("李小花", { 检查日期: "2026-11-20", 检查医生: "李医生", "身高(cm)": 14.6 });
    const boundary = "----gateway-upload";
    const payload = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="results.xlsx"\r\n\r\n`),
      Buffer.from(await wb.xlsx.writeBuffer()),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const res = await gateway.inject({
      method: "POST",
      url: `/api/v1/campaigns/${campaign.body.id}/results`,
      headers: { ...(await registry.as("changling.doctor")), "content-type": `multipart/form-data; boundary=${boundary}` },
      payload,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      rows: 2,
      accepted: 1,
      rejected: 1,
      errors: [{ row: badRow, issues: [{ field: "heightCm", message: "身高应在50–220厘米之间" }] }],
    });
    // 8 years 6 months, boys: BMI 15.9 is normal by WS/T 586 and WS/T 456.
    const exams = await call("GET", `/api/v1/exams?campaignId=${campaign.body.id}`, "changling.doctor");
    expect(exams.body.items).toEqual([expect.objectContaining({ childId: second.body.id, date: "2026-11-20", bmi: 15.9, flags: [] })]);
    // The upload is in the audit trail under the child whose record it wrote.
    await gateway.audit.drain();
    const audited = await prisma.auditEntry.findMany({ where: { childIds: { has: second.body.id }, action: "import" } });
    expect(audited.map((a) => a.path)).toEqual([`/api/v1/campaigns/${campaign.body.id}/results`]);
  });
});
