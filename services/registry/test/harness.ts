import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { Queue } from "bullmq";
import pg from "pg";
import { createLogger, type ServiceApp } from "@shouhu/kit";
import { createTokenVerifier } from "@shouhu/auth";
import { createIssuerApp } from "@shouhu/dev-issuer";
import { migrate } from "@shouhu/db";
import { createTestDatabase, testPrefix, type TestDatabase } from "@shouhu/testing";
import { createPrisma, type PrismaClient } from "../src/data/db.js";
import { seedDemoOrg } from "../src/seed/demo-org.js";
import { buildRegistryApp } from "../src/app.js";

export const realmFile = fileURLToPath(new URL("../../../infra/keycloak/shouhu-realm.json", import.meta.url));
export const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));
export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const PASSWORD = "Shouhu@2026";

export interface Harness {
  db: TestDatabase;
  prisma: PrismaClient;
  pool: pg.Pool;
  app: ServiceApp;
  issuer: FastifyInstance;
  issuerUrl: string;
  prefix: string;
  queues: { imports: Queue; exports: Queue };
  clock: { now: Date };
  token(username: string): Promise<string>;
  as(username: string): Promise<{ authorization: string }>;
  close(): Promise<void>;
}

/**
 * A registry wired as in production against real PostgreSQL, Redis and the
 * development issuer (which reads the realm export), on a database and queue
 * prefix of its own so test files run in parallel.
 */
export async function startRegistry(label: string): Promise<Harness> {
  const db = await createTestDatabase(label);
  await migrate({ databaseUrl: db.url, migrationsDir });
  const prisma = createPrisma(db.url);
  await seedDemoOrg(prisma);
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });

  // Without a fixed public URL the issuer names itself after the Host it is called on.
  const issuerApp = await createIssuerApp({ realmFile });
  const issuerUrl = `${await issuerApp.listen({ port: 0, host: "127.0.0.1" })}/realms/shouhu`;

  const prefix = testPrefix(label);
  const connection = { url: REDIS_URL };
  const queues = {
    imports: new Queue("registry.import", { connection, prefix }),
    exports: new Queue("registry.export", { connection, prefix }),
  };
  const clock = { now: new Date("2026-11-22T02:00:00Z") };
  const verifier = createTokenVerifier({ issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-web", "shouhu-service"] });
  const app = await buildRegistryApp({
    prisma,
    verifier,
    logger: createLogger("registry-test", "silent"),
    now: () => clock.now,
    imports: { queue: queues.imports },
    exports: { queue: queues.exports },
  });
  await app.ready();

  const tokens = new Map<string, string>();
  async function token(username: string): Promise<string> {
    const cached = tokens.get(username);
    if (cached) return cached;
    const res = await fetch(`${issuerUrl}/protocol/openid-connect/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "password", client_id: "shouhu-web", username, password: PASSWORD }),
    });
    if (!res.ok) throw new Error(`token for ${username}: ${res.status} ${await res.text()}`);
    const { access_token } = (await res.json()) as { access_token: string };
    tokens.set(username, access_token);
    return access_token;
  }

  return {
    db,
    prisma,
    pool,
    app,
    issuer: issuerApp,
    issuerUrl,
    prefix,
    queues,
    clock,
    token,
    as: async (username) => ({ authorization: `Bearer ${await token(username)}` }),
    async close() {
      await app.close();
      await issuerApp.close();
      for (const q of Object.values(queues)) {
        await q.obliterate({ force: true }).catch(() => undefined);
        await q.close();
      }
      await prisma.$disconnect();
      await pool.end();
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
