import { describe, expect, it } from "vitest";
import type { Envelope } from "@shouhu/contracts";
import { publishRegistrySnapshot } from "../src/jobs/snapshot.js";
import { childBody, registryTest, type Harness } from "./harness.js";

let h: Harness;
registryTest("registry_snapshot").beforeAll(async ({ registry }) => {
  h = registry;
});

describe("snapshots for a reporting rebuild", () => {
  it("queue a background job for county admins only, and re-publish org units, every child and a completion marker", async () => {
    for (const seq of [1, 2, 3]) {
      const res = await h.app.inject({ method: "POST", url: "/api/v1/children", headers: await h.as("changling.supervisor"), payload: childBody({ seq }) });
      expect(res.statusCode, res.body).toBe(201);
    }
    expect((await h.app.inject({ method: "POST", url: "/api/v1/snapshots/registry", headers: await h.as("changling.supervisor") })).statusCode).toBe(403);
    const queued = await h.app.inject({ method: "POST", url: "/api/v1/snapshots/registry", headers: await h.as("county.admin") });
    expect(queued.statusCode).toBe(202);
    const { runId } = queued.json() as { runId: string };
    expect((await h.queues.schedule.getJob(`snapshot-${runId}`))?.name).toBe("publish-snapshot");

    const result = await publishRegistrySnapshot(h.prisma, runId);
    expect(result).toEqual({ runId, events: 4 });
    const rows = await h.prisma.outboxEvent.findMany({ where: { type: { startsWith: "snapshot." } }, orderBy: { createdAt: "asc" } });
    const events = rows.map((r) => r.envelope as unknown as Envelope);
    expect(events.map((e) => e.type)).toEqual(["snapshot.org-units", "snapshot.child", "snapshot.child", "snapshot.child", "snapshot.completed"]);
    const units = events[0]!.data as { units: { code: string; name: string }[]; schools: unknown[] };
    expect(units.units).toContainEqual(expect.objectContaining({ code: "360999101", name: expect.any(String) }));
    expect(units.schools.length).toBeGreaterThan(0);
    expect(events[1]!.data).toMatchObject({ runId, child: { name: "李小花", revision: 1, guardian: { name: "李大山" } } });
    expect(events[4]!.data).toEqual({ runId, producer: "registry", events: 4 });
  });
});
