import { fileURLToPath } from "node:url";
import { Queue } from "bullmq";
import pg from "pg";
import { createLogger, type ServiceApp } from "@shouhu/kit";
import { createTokenVerifier } from "@shouhu/auth";
import type { IssuerApp } from "@shouhu/dev-issuer";
import { createTestDatabase, startTestIssuer, startTestObjectStore, testPrefix, type TestDatabase, type TestIssuer } from "@shouhu/testing";
import { AttachmentStore } from "@shouhu/attachments";
import { serviceTest } from "@shouhu/testing/vitest";
import { createPrisma, type PrismaClient } from "../src/data/db.js";
import { seedDemoOrg } from "../src/seed/demo-org.js";
import { buildRegistryApp } from "../src/app.js";

export const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));
export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

export interface Harness {
  db: TestDatabase;
  prisma: PrismaClient;
  pool: pg.Pool;
  app: ServiceApp;
  issuer: IssuerApp;
  issuerUrl: string;
  prefix: string;
  queues: { imports: Queue; exports: Queue; schedule: Queue };
  clock: { now: Date };
  /** Only on `registryWithAttachmentsTest`: the store, on the embedded S3 server. */
  attachments?: AttachmentStore;
  token(username: string): Promise<string>;
  as(username: string): Promise<{ authorization: string }>;
  close(): Promise<void>;
}

/**
 * A registry wired as in production against real PostgreSQL, Redis and the
 * development issuer (which reads the realm export), on the given database, issuer and
 * queue prefix (a file's fixtures, or `startRegistry`'s own). `close()` closes what it
 * opened (app, queues, clients), not the database or the issuer.
 */
async function buildRegistry({
  db,
  issuer,
  prefix,
  attachments,
}: {
  db: TestDatabase;
  issuer: TestIssuer;
  prefix: string;
  attachments?: AttachmentStore;
}): Promise<Harness> {
  const prisma = createPrisma(db.url);
  await seedDemoOrg(prisma);
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  const issuerUrl = issuer.issuerUrl;

  const connection = { url: REDIS_URL };
  const queues = {
    imports: new Queue("registry.import", { connection, prefix }),
    exports: new Queue("registry.export", { connection, prefix }),
    schedule: new Queue("registry.schedule", { connection, prefix }),
  };
  const clock = { now: new Date("2026-11-22T02:00:00Z") };
  const verifier = createTokenVerifier({ issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-web", "shouhu-service"] });
  const app = await buildRegistryApp({
    prisma,
    pool,
    verifier,
    logger: createLogger("registry-test", "silent"),
    now: () => clock.now,
    imports: { queue: queues.imports },
    exports: { queue: queues.exports },
    snapshots: { queue: queues.schedule },
    ...(attachments ? { attachments } : {}),
  });
  await app.ready();

  return {
    db,
    prisma,
    pool,
    app,
    issuer: issuer.server,
    issuerUrl,
    prefix,
    queues,
    clock,
    ...(attachments ? { attachments } : {}),
    token: issuer.token,
    as: issuer.as,
    async close() {
      await app.close();
      for (const q of Object.values(queues)) {
        await q.obliterate({ force: true }).catch(() => undefined);
        await q.close();
      }
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

/**
 * The registry test file's `test`: `registry`, a {@link Harness} on the file's `db`, `issuer`
 * and `prefix` fixtures, built when a test or `test.beforeAll` first asks for it and closed
 * (then the database dropped, the issuer stopped) after the file.
 */
export const registryTest = (label: string) =>
  serviceTest(label, migrationsDir).extend("registry", { scope: "file" }, async ({ db, issuer, prefix }, { onCleanup }) => {
    const registry = await buildRegistry({ db, issuer, prefix });
    onCleanup(() => registry.close());
    return registry;
  });

/** `registryTest` with the attachment routes, on an embedded S3 server of the file's own. */
export const registryWithAttachmentsTest = (label: string) =>
  serviceTest(label, migrationsDir).extend("registry", { scope: "file" }, async ({ db, issuer, prefix }, { onCleanup }) => {
    const s3 = await startTestObjectStore();
    const store = new AttachmentStore(s3.config);
    await store.ensureBucket();
    const registry = await buildRegistry({ db, issuer, prefix, attachments: store });
    onCleanup(async () => {
      await registry.close();
      store.close();
      await s3.close();
    });
    return registry;
  });

/**
 * A registry with a database, issuer and queue prefix of its own, for files that run it
 * beside other services (the gateway's chain tests, reporting's rebuild fan-out); its
 * `close()` also drops the database and stops the issuer.
 */
export async function startRegistry(label: string): Promise<Harness> {
  const [db, issuer] = await Promise.all([createTestDatabase(label, { migrationsDir }), startTestIssuer()]);
  const registry = await buildRegistry({ db, issuer, prefix: testPrefix(label) });
  return {
    ...registry,
    async close() {
      await registry.close();
      await issuer.close();
      await db.drop();
    },
  };
}

/** Resident ID with a correct GB 11643 check digit. */
export function residentId(region: string, birthDate: string, seq: number, sex: "male" | "female"): string {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const checks = "10X98765432";
  const seqDigit = sex === "male" ? (seq * 2 + 1) % 10 : (seq * 2) % 10;
  const body = `${region}${birthDate.replaceAll("-", "")}${String(Math.floor(seq / 5) % 100).padStart(2, "0")}${seqDigit}`;
  const sum = [...body].reduce((acc, d, i) => acc + Number(d) * weights[i]!, 0);
  return body + checks[sum % 11];
}

export function childBody(overrides: Record<string, unknown> = {}) {
  const birthDate = (overrides.birthDate as string) ?? "2015-03-07";
  const sex = (overrides.sex as "male" | "female") ?? "female";
  return {
    idNumber: residentId("360999", birthDate, (overrides.seq as number) ?? 1, sex),
    name: "李小花",
    sex,
    birthDate,
    villageCode: "360999101201",
    address: "长岭村3组",
    schoolId: "S360999101001",
    grade: "四年级",
    className: "2班",
    leftBehindType: "both_parents_away",
    riskLevel: "medium",
    guardians: [{ name: "李大山", relation: "祖父", phone: "13907310001", age: 68, health: "良好" }],
    parents: [
      { role: "father", name: "李建国", phone: "13800000001", workProvince: "广东省", workCity: "东莞市" },
      { role: "mother", name: "王芳", phone: "13800000002", workProvince: "浙江省", workCity: "义乌市" },
    ],
    healthNotes: "轻度近视",
    psychologicalNotes: "性格内向",
    ...Object.fromEntries(Object.entries(overrides).filter(([k]) => k !== "seq")),
  };
}
