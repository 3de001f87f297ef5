/**
 * Bulk import benchmark: a generated township register of N rows (default
 * 100,000) imported through the real pipeline (parse → validate → store children,
 * guardians, parents, history and outbox events in batches), beside a PostgreSQL
 * COPY of the same stored rows into same-shaped tables, in the same run.
 *
 *   npx tsx --conditions source bench/import-register.ts [--rows 100000] [--no-parse-only]
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import os from "node:os";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import pg from "pg";
import copyStreams from "pg-copy-streams";
import { randomUUID } from "node:crypto";
import { migrate } from "@shouhu/db";
import { createTestDatabase } from "@shouhu/testing";
import { createPrisma } from "../services/registry/src/data/db.js";
import { seedDemoOrg } from "../services/registry/src/seed/demo-org.js";
import { runImport } from "../services/registry/src/jobs/import-register.js";
import { parseRegisterWorkbook } from "../services/registry/src/spreadsheet/register-import.js";

/** CPU-busy milliseconds of the whole machine (all cores) since `since`. */
function machineBusy(since = 0): number {
  const total = os.cpus().reduce((s, c) => s + c.times.user + c.times.nice + c.times.sys + c.times.irq, 0);
  return total - since;
}

/** CPU milliseconds used so far by the PostgreSQL backends serving the import's pool (Linux /proc). */
async function backendCpuMs(pool: pg.Pool): Promise<number | null> {
  try {
    const { rows } = await pool.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = 'bench-import'");
    const tick = 1000 / Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim());
    return rows.reduce((sum, { pid }) => {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      return sum + (Number(fields[11]) + Number(fields[12])) * tick; // utime, stime
    }, 0);
  } catch {
    return null; // not Linux, or PostgreSQL on another host
  }
}

const rowsArg = process.argv.indexOf("--rows");
const rows = rowsArg > 0 ? Number(process.argv[rowsArg + 1]) : 100_000;
const root = fileURLToPath(new URL("..", import.meta.url));
const file = `${os.tmpdir()}/shouhu-bench-register-${rows}.xlsx`;

console.log(`generating a ${rows}-row register workbook → ${file}`);
execFileSync("npx", ["tsx", "--conditions=source", "services/registry/samples/generate-register.ts", "--rows", String(rows), "--out", file, "--clean"], {
  cwd: root,
  stdio: "inherit",
});
const content = readFileSync(file);

const db = await createTestDatabase("bench_import");
try {
  await migrate({ databaseUrl: db.url, migrationsDir: `${root}/services/registry/prisma/migrations` });
  const prisma = createPrisma(db.url);
  await seedDemoOrg(prisma);

  // Parse only, to show where the time goes.
  let parsed = 0;
  const p0 = performance.now();
  if (!process.argv.includes("--no-parse-only"))
    await parseRegisterWorkbook(content, {
      resolveVillage: () => ({ villageCode: "360999101201" }),
      resolveSchool: () => ({ schoolId: "S360999101001" }),
      today: "2026-11-22",
      batchSize: 1000,
      onBatch: async (batch) => void (parsed += batch.length),
    });
  const parseMs = performance.now() - p0;

  const batchId = randomUUID();
  await prisma.importBatch.create({
    data: {
      id: batchId,
      fileSha256: createHash("sha256").update(content).digest("hex"),
      fileName: "bench.xlsx",
      orgUnit: "360999",
      status: "queued",
      createdBy: "bench",
      file: { create: { content } },
    },
  });
  const busy0 = machineBusy();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const pool = new pg.Pool({ connectionString: db.url, max: 4, application_name: "bench-import" });
  const batch = await runImport({ prisma, pool, today: () => "2026-11-22" }, batchId);
  const importMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const busy = machineBusy(busy0);
  const pgCpuMs = await backendCpuMs(pool);
  await pool.end();

  // Baseline: COPY the very rows the import stored into same-shaped tables.
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const tables = ["children", "guardians", "parents"];
  const csv: Record<string, string> = {};
  for (const t of tables) {
    await client.query(`CREATE TABLE ${t}_copy (LIKE ${t} INCLUDING DEFAULTS)`);
    const chunks: Buffer[] = [];
    await pipeline(client.query(copyStreams.to(`COPY ${t} TO STDOUT`)), async function* (src) {
      for await (const c of src) chunks.push(c as Buffer);
    });
    csv[t] = Buffer.concat(chunks).toString();
  }
  const c0 = performance.now();
  await client.query("BEGIN");
  for (const t of tables) await pipeline(Readable.from([csv[t]!]), client.query(copyStreams.from(`COPY ${t}_copy FROM STDIN`)));
  await client.query("COMMIT");
  const copyMs = performance.now() - c0;
  await client.end();
  await prisma.$disconnect();

  const perSec = (n: number, ms: number) => Math.round((n / ms) * 1000);
  console.log(`\nmachine: ${os.cpus().length} × ${os.cpus()[0]?.model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`);
  console.log(`rows in workbook:           ${rows}`);
  console.log(`accepted / rejected:        ${batch.acceptedRows} / ${batch.rejectedRows}`);
  console.log(`parse only:                 ${(parseMs / 1000).toFixed(2)} s  (${perSec(parsed, parseMs)} rows/s)`);
  console.log(`import (parse+validate+store+events): ${(importMs / 1000).toFixed(2)} s  (${perSec(rows, importMs)} rows/s)`);
  console.log(
    `  CPU during import: this process ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s (main thread and workers), PostgreSQL backends ${pgCpuMs === null ? "?" : (pgCpuMs / 1000).toFixed(1)} s, whole machine ${(busy / 1000).toFixed(1)} s of ${((importMs * os.cpus().length) / 1000).toFixed(1)} s available`,
  );
  console.log(`PostgreSQL COPY of same rows (children+guardians+parents): ${(copyMs / 1000).toFixed(2)} s  (${perSec(batch.acceptedRows, copyMs)} rows/s)`);
  console.log(`ratio import/COPY throughput: ${(copyMs / importMs).toFixed(3)}  (import takes ${(importMs / copyMs).toFixed(1)}× as long)`);
  console.log(`target: ${rows} rows under 15 s → ${importMs < 15_000 ? "met" : "NOT met"}`);
} finally {
  if (!process.env.BENCH_KEEP_DB) await db.drop();
  else console.log(`kept database ${db.url}`);
}
