import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IMPORT_LOCK_MS, IMPORT_STALL_CHECK_MS } from "../src/jobs/workers.js";
import { createTestDatabase, freePort, startTestIssuer, testPrefix, until, type TestDatabase, type TestIssuer } from "@shouhu/testing";

// A registry process killed with SIGKILL part-way through an import: once a registry runs
// again, the import resumes from its last committed chunk (the job's lock expires and a
// stall check takes it over) and finishes without a duplicate child or event.
const ROWS = 40_000;
const root = fileURLToPath(new URL("../../..", import.meta.url));
let db: TestDatabase;
let issuer: TestIssuer;
let port: number;
let prefix: string;
let file: Buffer;
const processes: ChildProcess[] = [];

function startRegistry(): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "--conditions=source", fileURLToPath(new URL("../src/main.ts", import.meta.url))], {
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      PORT: String(port),
      OIDC_ISSUER_URL: issuer.issuerUrl,
      QUEUE_PREFIX: prefix,
      LOG_LEVEL: "silent",
      SHUTDOWN_DRAIN_MS: "0",
    },
    stdio: "ignore",
  });
  processes.push(child);
  return child;
}

async function batch(id: string) {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/imports/${id}`, {
    headers: { authorization: `Bearer ${await issuer.token("changling.supervisor")}` },
  });
  return (await res.json()) as { status: string; processedRows: number; acceptedRows: number; rejectedRows: number };
}

beforeAll(async () => {
  [db, issuer] = await Promise.all([createTestDatabase("import_crash"), startTestIssuer()]);
  port = await freePort();
  prefix = testPrefix("import_crash");
  const out = `${tmpdir()}/shouhu-crash-register-${ROWS}.xlsx`;
  execFileSync("npx", ["tsx", "--conditions=source", "services/registry/samples/generate-register.ts", "--rows", String(ROWS), "--out", out, "--clean"], {
    cwd: root,
    stdio: "ignore",
  });
  file = readFileSync(out);
}, 120_000);

afterAll(async () => {
  for (const p of processes) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  await issuer?.close();
  await db?.drop();
});

describe("an import survives its process being killed", () => {
  it("SIGKILL mid-import: a new registry resumes it within a minute and it completes exactly once", async () => {
    const first = startRegistry();
    await until("the registry is ready", async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200, 60_000);
    const form = new FormData();
    form.append("file", new Blob([file]), "长岭乡登记表.xlsx");
    const upload = await fetch(`http://127.0.0.1:${port}/api/v1/imports`, {
      method: "POST",
      headers: { authorization: `Bearer ${await issuer.token("changling.supervisor")}` },
      body: form,
    });
    expect(upload.status).toBe(202);
    const { id } = (await upload.json()) as { id: string };
    await until("some rows committed", async () => (await batch(id)).processedRows > 0, 60_000);
    first.kill("SIGKILL");
    await new Promise((r) => first.once("exit", r));
    const probe = new pg.Client({ connectionString: db.url });
    await probe.connect();
    const committedAtKill = (await probe.query<{ n: number }>("SELECT processed_rows AS n FROM import_batches WHERE id = $1", [id])).rows[0]?.n;
    await probe.end();
    expect(committedAtKill).toBeLessThan(ROWS);

    // By design the job is taken over within lock + stall check of a worker running again;
    // the wait below is generous only so a CPU-starved CI machine does not fail it.
    expect(IMPORT_LOCK_MS + IMPORT_STALL_CHECK_MS).toBeLessThanOrEqual(60_000); // lock + stall check interval of the import worker
    const killedAt = Date.now();
    startRegistry();
    await until("the registry is ready again", async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200, 60_000);
    const backAt = Date.now();
    await until("the import completed after the restart", async () => (await batch(id).catch(() => ({ status: "" }))).status === "completed", 150_000);
    console.log(
      `import completed ${((Date.now() - backAt) / 1000).toFixed(1)} s after the registry was back (${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill; rows committed before it: ${committedAtKill})`,
    );

    const done = await batch(id);
    expect(done.acceptedRows + done.rejectedRows).toBe(done.processedRows);
    const check = new pg.Client({ connectionString: db.url });
    await check.connect();
    try {
      const { rows } = await check.query<{ children: number; distinct_ids: number; events: number }>(
        `SELECT (SELECT count(*)::int FROM children) AS children, (SELECT count(DISTINCT id_number)::int FROM children) AS distinct_ids,
                (SELECT count(*)::int FROM outbox WHERE type = 'child.registered') AS events`,
      );
      expect(rows[0]!.children).toBe(done.acceptedRows);
      expect(rows[0]!.distinct_ids).toBe(done.acceptedRows);
      expect(rows[0]!.events).toBe(done.acceptedRows);
    } finally {
      await check.end();
    }
  }, 300_000);
});
