// Backup and restore of one service while the others moved on (issue 15.8).
//
// The real registry (producer) and reporting (consumer) run as processes from source,
// on their own test databases and BullMQ prefix. Reporting's database is backed up with
// scripts/backup.mjs, more children are registered, reporting is stopped and restored
// from the backup with scripts/restore.mjs — its read model is then behind the registry
// — and the documented procedure brings it level: a rebuild of the projection from the
// producers' snapshots (POST /api/v1/reports/rebuild, then each producer's
// POST /api/v1/snapshots/…; here the registry is the only producer running).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, freePort, startTestIssuer, testPrefix, until, type TestDatabase, type TestIssuer } from "@shouhu/testing";
// @ts-expect-error plain ESM scripts without type declarations
import { backup } from "../../scripts/backup.mjs";
// @ts-expect-error plain ESM scripts without type declarations
import { restore } from "../../scripts/restore.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const PG_BASE = (process.env.TEST_DATABASE_ADMIN_URL ?? "postgresql://root@127.0.0.1:5432/postgres").replace(/\/[^/]*$/, "");
const prefix = testPrefix("backup");

interface Service {
  name: string;
  port: number;
  db: TestDatabase;
  child?: ChildProcess;
  log: string;
}

let issuer: TestIssuer;
let registry: Service;
let reporting: Service;
let backupDir: string;

async function start(s: Service): Promise<void> {
  const child = spawn(process.execPath, ["--import", "tsx", "--conditions", "source", `services/${s.name}/src/main.ts`], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(s.port),
      ROLE: "all",
      DATABASE_URL: s.db.url,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      OIDC_ISSUER_URL: issuer.issuerUrl,
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (d) => (s.log += d));
  child.stderr!.on("data", (d) => (s.log += d));
  s.child = child;
  await until(
    `${s.name} ready`,
    async () => {
      if (child.exitCode !== null) throw new Error(`${s.name} exited ${child.exitCode}: ${s.log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 200));
      return fetch(`http://127.0.0.1:${s.port}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
    },
    90_000,
  );
}

async function stop(s: Service): Promise<void> {
  const child = s.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const t = setTimeout(() => child.kill("SIGKILL"), 30_000);
  await exited;
  clearTimeout(t);
}

async function ids(db: TestDatabase): Promise<string[]> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    return (await c.query<{ id: string }>("SELECT id::text FROM children ORDER BY id")).rows.map((r) => r.id);
  } finally {
    await c.end();
  }
}

let seq = 0;
async function registerChild(): Promise<string> {
  // A valid GB 11643 number in the demo county, new for each call.
  const body17 = `36099920140101${String(100 + seq++).padStart(3, "0")}`;
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const idNumber = body17 + "10X98765432"[[...body17].reduce((a, d, i) => a + Number(d) * w[i]!, 0) % 11];
  const res = await fetch(`http://127.0.0.1:${registry.port}/api/v1/children`, {
    method: "POST",
    headers: { ...(await issuer.as("county.admin")), "content-type": "application/json" },
    body: JSON.stringify({
      idNumber,
      name: "备份测",
      sex: Number(idNumber[16]) % 2 ? "male" : "female",
      birthDate: "2014-01-01",
      villageCode: "360999101201",
      address: "长岭村3组",
      schoolId: "S360999101001",
      grade: "四年级",
      className: "2班",
      leftBehindType: "both_parents_away",
      riskLevel: "medium",
      guardians: [{ name: "李大山", relation: "祖父", phone: "13907310001", age: 68, health: "良好" }],
      parents: [{ role: "father", name: "李建国", phone: "13800000001", workProvince: "广东省", workCity: "东莞市" }],
    }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

const level = (what: string) =>
  until(
    what,
    async () => {
      await new Promise((r) => setTimeout(r, 200));
      return JSON.stringify(await ids(reporting.db)) === JSON.stringify(await ids(registry.db));
    },
    60_000,
  );

beforeAll(async () => {
  issuer = await startTestIssuer();
  registry = { name: "registry", port: await freePort(), db: await createTestDatabase("backup_registry"), log: "" };
  reporting = { name: "reporting", port: await freePort(), db: await createTestDatabase("backup_reporting"), log: "" };
  backupDir = mkdtempSync(path.join(os.tmpdir(), "shouhu-backup-test-"));
  await Promise.all([start(registry), start(reporting)]);
}, 180_000);

afterAll(async () => {
  await Promise.all([registry && stop(registry), reporting && stop(reporting)].filter(Boolean));
  await issuer?.close();
  await registry?.db.drop();
  await reporting?.db.drop();
  if (backupDir) rmSync(backupDir, { recursive: true, force: true });
  // This prefix's Redis keys go with the vitest setup file's removeTestKeys().
}, 120_000);

describe("backup and restore of one service (reporting) while the registry moved on", () => {
  it("backs up, restores to the older state, and a rebuild from the producers' snapshots brings the read model level", async () => {
    for (let i = 0; i < 3; i++) await registerChild();
    await level("reporting holds the first 3 children");

    const manifest = backup({ out: backupDir, pg: PG_BASE, services: ["reporting"], dbs: { reporting: reporting.db.name } });
    expect(manifest.entries).toHaveLength(1);
    expect(manifest.entries[0]).toMatchObject({ service: "reporting", database: reporting.db.name, file: "reporting.dump" });
    expect(readFileSync(path.join(backupDir, "reporting.dump")).subarray(0, 5).toString()).toBe("PGDMP"); // custom format

    // The county moves on: two more children, which reporting's live read model takes in.
    const later = [await registerChild(), await registerChild()];
    await level("reporting holds all 5 children before the restore");

    // Reporting's database is lost; restored from the backup, it is behind the registry.
    await stop(reporting);
    const restored = restore({ from: backupDir, pg: PG_BASE, services: ["reporting"], dbs: { reporting: reporting.db.name } });
    expect(restored).toHaveLength(1);
    const afterRestore = await ids(reporting.db);
    expect(afterRestore).toHaveLength(3);
    for (const id of later) expect(afterRestore).not.toContain(id);
    await start(reporting);

    // Level again: a rebuild of reporting's projection from the producers' snapshots.
    const headers = await issuer.as("county.admin");
    const rebuild = await fetch(`http://127.0.0.1:${reporting.port}/api/v1/reports/rebuild`, { method: "POST", headers });
    expect(rebuild.status).toBe(202);
    const snap = await fetch(`http://127.0.0.1:${registry.port}/api/v1/snapshots/registry`, { method: "POST", headers });
    expect(snap.status).toBeLessThan(300);
    await level("reporting holds all 5 children again after the rebuild");
    const rebuilt = (await (await fetch(`http://127.0.0.1:${reporting.port}/api/v1/reports/rebuild`, { headers })).json()) as { completed: string[] };
    expect(rebuilt.completed).toContain("registry");

    // A damaged dump is refused before anything is dropped.
    const manifestFile = path.join(backupDir, "manifest.json");
    const broken = JSON.parse(readFileSync(manifestFile, "utf8"));
    broken.entries[0].sha256 = "0".repeat(64);
    writeFileSync(manifestFile, JSON.stringify(broken));
    expect(() => restore({ from: backupDir, pg: PG_BASE, services: ["reporting"], dbs: { reporting: reporting.db.name } })).toThrow(/sha256/);
    expect(await ids(reporting.db)).toHaveLength(5);
  }, 240_000);
});
