import { z } from "zod";
import { RunResponse } from "./schemas.js";
import { ValidationError, markAudit, type ServiceApp } from "@shouhu/kit";
import type { PrismaClient } from "../data/db.js";
import { matchOrgUnit, recentRuns } from "../data/matching.js";
import { publishPairingSnapshot } from "../data/snapshot.js";
import { matchers } from "./permissions.js";
import { requireRole, scopeOf } from "@shouhu/auth";
import { countyOf, orgUnitCode, townshipOf } from "@shouhu/contracts";

const RunBody = z.object({
  orgUnit: orgUnitCode(["county", "township"], "应为6位县或9位乡镇代码（按乡镇匹配）"),
  /** Withdraw open proposals first and solve again from scratch. */
  replan: z.boolean().default(false),
});
const RunsQuery = z.object({
  orgUnit: orgUnitCode(["county", "township"], "应为6位县或9位乡镇代码").optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export function registerMatchingRoutes(app: ServiceApp, prisma: PrismaClient): void {
  app.post(
    "/api/v1/pairing-runs",
    { schema: { tags: ["matching"], summary: "按乡镇为未结对儿童生成结对建议（最优匹配）", body: RunBody, response: { 201: RunResponse } } },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, matchers, "发起结对匹配");
      const orgUnit = scopeOf(principal, request.body.orgUnit);
      if (orgUnit.length > 9) throw ValidationError.field("orgUnit", "结对匹配按乡镇进行，请选择乡镇或县");
      const runs = await matchOrgUnit(prisma, orgUnit, { trigger: "on-demand", replan: request.body.replan });
      markAudit(reply, "matching", []);
      return reply.status(201).send({
        runs,
        proposed: runs.reduce((n, r) => n + r.proposed, 0),
        unmatched: runs.reduce((n, r) => n + r.unmatched, 0),
      });
    },
  );

  app.post("/api/v1/snapshots/pairing", { schema: { tags: ["snapshots"], summary: "发布全部在办结对的快照（供统计重建）" } }, async (request, reply) => {
    requireRole(request.principal!, ["county-admin"], "发布快照");
    // The admin's own county only.
    return reply.status(201).send(await publishPairingSnapshot(prisma, { county: countyOf(request.principal!.orgUnit) }));
  });

  app.get("/api/v1/pairing-runs", { schema: { tags: ["matching"], summary: "最近的匹配记录", querystring: RunsQuery } }, async (request) => {
    const principal = request.principal!;
    const scope = scopeOf(principal, request.query.orgUnit);
    const items = await recentRuns(prisma, townshipOf(scope), request.query.limit);
    return { items };
  });
}
