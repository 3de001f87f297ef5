/**
 * How long a campaign's results upload takes (synchronous, one transaction per
 * row): N children announced by registry events, the roster downloaded, every row
 * filled in, uploaded. Prints JSON; run from the repo root:
 *
 *   node --conditions=source --import tsx services/health/bench/upload.ts [rows=2000]
 */
import { fileURLToPath } from "node:url";
import { randomUUID } from "node:crypto";
import ExcelJS from "exceljs";
import { createLogger } from "@shouhu/kit";
import { createTokenVerifier } from "@shouhu/auth";
import { migrate } from "@shouhu/db";
import type { ChildSnapshot } from "@shouhu/contracts";
import { buildEvent, consumeEvent } from "@shouhu/messaging";
import { createTestDatabase, startTestIssuer } from "@shouhu/testing";
import { createPrisma, type Tx } from "../src/data/db.js";
import { buildHealthApp } from "../src/app.js";
import { healthHandlers } from "../src/events/handlers.js";

const rows = Number(process.argv[2] ?? 2000);
const db = await createTestDatabase("health_bench");
await migrate({ databaseUrl: db.url, migrationsDir: fileURLToPath(new URL("../prisma/migrations", import.meta.url)) });
const prisma = createPrisma(db.url);
const issuer = await startTestIssuer();
const app = await buildHealthApp({
  prisma,
  verifier: createTokenVerifier({ issuerUrl: issuer.issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-web"] }),
  logger: createLogger("bench", "silent"),
  now: () => new Date("2026-11-22T02:00:00Z"),
});
const headers = await issuer.as("changling.doctor");
try {
  const handlers = healthHandlers();
  for (let i = 0; i < rows; i++) {
    const child: ChildSnapshot = {
      id: randomUUID(),
      name: `儿童${i}`,
      sex: i % 2 ? "male" : "female",
      birthDate: `201${i % 8}-0${1 + (i % 9)}-1${i % 10}`,
      villageCode: `3609991012${String(1 + (i % 20)).padStart(2, "0")}`,
      townshipCode: "360999101",
      countyCode: "360999",
      schoolId: null,
      schoolName: null,
      grade: null,
      className: null,
      leftBehindType: "both_parents_away",
      difficultyCategories: [],
      riskLevel: "low",
      status: "active",
      exitReason: null,
      guardian: { name: "监护人", relation: "祖母", phone: "13900000000" },
      parents: [],
      revision: 1,
    };
    await consumeEvent<Tx>(
      buildEvent(
        "child.registered",
        { subject: child.id, orgUnit: child.villageCode, actor: { kind: "system", id: "bench" }, data: { child } },
        { producer: "registry" },
      ),
      handlers,
      (fn) => prisma.$transaction(fn),
    );
  }
  const campaign = await app.inject({
    method: "POST",
    url: "/api/v1/campaigns",
    headers,
    payload: { name: "基准", orgUnits: ["360999101"], startDate: "2026-11-01", endDate: "2026-11-30", provider: "卫生院" },
  });
  const id = campaign.json().id as string;
  const roster = await app.inject({ url: `/api/v1/campaigns/${id}/roster.xlsx`, headers });
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(roster.rawPayload as unknown as ArrayBuffer);
  const sheet = wb.worksheets[0]!;
  const col = (h: string) => (sheet.getRow(1).values as unknown[]).indexOf(h);
  sheet.eachRow((row, n) => {
    if (n === 1) return;
    row.getCell(col("检查日期")).value = "2026-11-20";
    row.getCell(col("检查医生")).value = "李医生";
    row.getCell(col("身高(cm)")).value = 120 + (n % 40);
    row.getCell(col("体重(kg)")).value = 22 + (n % 25);
    row.getCell(col("左眼视力")).value = 4.6 + (n % 6) / 10;
    row.getCell(col("右眼视力")).value = 5.0;
    row.getCell(col("血红蛋白(g/L)")).value = 100 + (n % 40);
  });
  const buffer = Buffer.from(await wb.xlsx.writeBuffer());
  const boundary = "----bench";
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="r.xlsx"\r\n\r\n`),
    buffer,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const started = performance.now();
  const res = await app.inject({
    method: "POST",
    url: `/api/v1/campaigns/${id}/results`,
    headers: { ...headers, "content-type": `multipart/form-data; boundary=${boundary}` },
    payload: body,
  });
  const ms = performance.now() - started;
  const out = res.json();
  console.log(
    JSON.stringify({
      rows,
      status: res.statusCode,
      accepted: out.accepted,
      rejected: out.rejected,
      uploadMs: Math.round(ms),
      msPerRow: +(ms / rows).toFixed(2),
      followUps: await prisma.followUp.count(),
    }),
  );
} finally {
  await app.close();
  await issuer.close();
  await prisma.$disconnect();
  await db.drop();
}
