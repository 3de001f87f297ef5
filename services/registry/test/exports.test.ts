import { describe, expect, it } from "vitest";
import { AUDIT_HEADER } from "@shouhu/kit";
import { AUDIT_NAMED_MAX, exportExpiresAt, purgeExpiredExports, runExport } from "../src/jobs/export-register.js";
import { writeRegisterWorkbook } from "../src/spreadsheet/register-export.js";
import { childBody, registryTest, type Harness } from "./harness.js";

/**
 * Issue 14.8: a register export is audited at download with the children it holds,
 * is the requester's alone (not another user's of the same county), and its time to
 * live is configurable.
 */
let h: Harness;
const ids: string[] = [];

registryTest("exports").beforeAll(async ({ registry }) => {
  h = registry;
  for (const seq of [71, 72]) {
    const res = await h.app.inject({ method: "POST", url: "/api/v1/children", headers: await h.as("changling.supervisor"), payload: childBody({ seq }) });
    expect(res.statusCode, res.body).toBe(201);
    ids.push(res.json().id);
  }
  // A child elsewhere (石门镇), which the supervisor's export must not hold.
  const elsewhere = await h.app.inject({
    method: "POST",
    url: "/api/v1/children",
    headers: await h.as("county.admin"),
    payload: childBody({ seq: 73, villageCode: "360999102201", schoolId: "S360999102001" }),
  });
  expect(elsewhere.statusCode, elsewhere.body).toBe(201);
});

async function exportAs(user: string): Promise<string> {
  const res = await h.app.inject({ method: "POST", url: "/api/v1/exports", headers: await h.as(user), payload: {} });
  expect(res.statusCode).toBe(202);
  await runExport(h.prisma, writeRegisterWorkbook, res.json().id);
  return res.json().id;
}

describe("export downloads", () => {
  it("are audited with the ids of the children the file holds, the export id and the count", async () => {
    const id = await exportAs("changling.supervisor");
    const file = await h.app.inject({ url: `/api/v1/exports/${id}/file`, headers: await h.as("changling.supervisor") });
    expect(file.statusCode).toBe(200);
    const audit = JSON.parse(String(file.headers[AUDIT_HEADER]));
    expect(audit).toEqual({ action: "export", childIds: expect.any(Array), exportId: id, childCount: 2 });
    expect([...audit.childIds].sort()).toEqual([...ids].sort());
    expect(AUDIT_NAMED_MAX * 40).toBeLessThan(1024 * 1024); // the gateway's header limit
  });

  it("are the requester's alone: another user of the same township and role gets 404, saying nothing of it", async () => {
    const id = await exportAs("changling.supervisor");
    const colleague = await h.issuer.issueToken("shimen.supervisor", "shouhu-web", { issuer: h.issuerUrl, overrides: { org_unit: "360999101" } });
    const res = await h.app.inject({ url: `/api/v1/exports/${id}/file`, headers: { authorization: `Bearer ${colleague}` } });
    expect(res.statusCode).toBe(404);
    expect(res.headers[AUDIT_HEADER]).toBeUndefined();
    expect((await h.app.inject({ url: `/api/v1/exports/${id}`, headers: { authorization: `Bearer ${colleague}` } })).statusCode).toBe(404);
  });

  it("expire after the configured time (EXPORT_TTL_HOURS), then the purge deletes row and file", async () => {
    const id = await exportAs("changling.supervisor");
    const job = (await h.prisma.exportJob.findUnique({ where: { id }, omit: { content: true } }))!;
    const hour = 3600_000;
    expect(exportExpiresAt(job, hour).getTime()).toBe(job.finishedAt!.getTime() + hour);
    // An hour's setting deletes it after an hour; the default (24 h) keeps it.
    const later = new Date(job.finishedAt!.getTime() + hour + 1000);
    expect(await purgeExpiredExports(h.prisma, later)).toBe(0);
    expect(await h.prisma.exportJob.findUnique({ where: { id }, select: { id: true } })).not.toBeNull();
    expect(await purgeExpiredExports(h.prisma, later, hour)).toBeGreaterThanOrEqual(1);
    expect(await h.prisma.exportJob.findUnique({ where: { id }, select: { id: true } })).toBeNull();
  });
});
