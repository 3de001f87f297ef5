import type { Queue } from "bullmq";
import { countyOf } from "@shouhu/contracts";
import { v7 as uuidv7 } from "uuid";
import { ForbiddenError, type ServiceApp } from "@shouhu/kit";
import { hasAnyRole } from "@shouhu/auth";
import { SNAPSHOT_JOB } from "../jobs/snapshot.js";

/**
 * Re-publish the admin's own county as snapshot events, for a reporting rebuild. A
 * rebuild asks for this itself (snapshot.requested); the route remains for a manual run.
 */
export function registerSnapshotRoutes(app: ServiceApp, deps: { queue: Queue }): void {
  app.post("/api/v1/snapshots/registry", { schema: { tags: ["snapshots"], summary: "发布全部档案快照（供统计重建）" } }, async (request, reply) => {
    const principal = request.principal!;
    if (!hasAnyRole(principal, ["county-admin"])) throw new ForbiddenError("只有县级管理员可以发布快照");
    const runId = uuidv7();
    await deps.queue.add(SNAPSHOT_JOB, { runId, county: countyOf(principal.orgUnit) }, { jobId: `snapshot-${runId}` });
    return reply.status(202).send({ runId, status: "queued" });
  });
}
