import type { ServiceApp } from "@shouhu/kit";
import { countyOf } from "@shouhu/contracts";
import type { PrismaClient } from "../data/db.js";
import { publishHealthSnapshot } from "../data/snapshot.js";
import { requireRole } from "../access.js";

export function registerSnapshotRoutes(app: ServiceApp, deps: { prisma: PrismaClient }): void {
  app.post("/api/v1/snapshots/health", { schema: { tags: ["snapshots"], summary: "发布全部体检记录的快照（供统计重建）" } }, async (request, reply) => {
    requireRole(request.principal!, ["county-admin"], "发布快照");
    // The admin's own county only.
    return reply.status(201).send(await publishHealthSnapshot(deps.prisma, { county: countyOf(request.principal!.orgUnit) }));
  });
}
