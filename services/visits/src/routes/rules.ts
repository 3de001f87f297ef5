import { z } from "zod";
import { ForbiddenError, type ServiceApp } from "@shouhu/kit";
import { hasAnyRole } from "@shouhu/auth";
import type { PrismaClient } from "../data/db.js";
import { RuleSetInput } from "../domain/rhythm.js";
import { ruleSetFor, saveRuleSet } from "../data/rules.js";
import { SNAPSHOT_JOB } from "../data/snapshot.js";
import type { Queue } from "bullmq";
import { v7 as uuidv7 } from "uuid";
import { overlaps, orgUnitCode, countyOf } from "@shouhu/contracts";

const CountyParams = z.object({ countyCode: orgUnitCode(["county"], "应为6位县级行政区划代码") });

export function registerSnapshotRoute(app: ServiceApp, queue: Queue): void {
  app.post(
    "/api/v1/snapshots/visits",
    { schema: { tags: ["snapshots"], summary: "发布全部走访事项、记录和关注事项的快照（供统计重建）" } },
    async (request, reply) => {
      const principal = request.principal!;
      if (!hasAnyRole(principal, ["county-admin"])) throw new ForbiddenError("只有县级管理员可以发布快照");
      const runId = uuidv7();
      // The admin's own county only.
      await queue.add(SNAPSHOT_JOB, { runId, county: countyOf(principal.orgUnit) }, { jobId: `snapshot-${runId}` });
      return reply.status(202).send({ runId, status: "queued" });
    },
  );
}

export function registerRuleRoutes(app: ServiceApp, prisma: PrismaClient, now: () => Date): void {
  app.get(
    "/api/v1/visit-rules/:countyCode",
    { schema: { tags: ["visit-rules"], summary: "本县走访规则与学期设置（未设置时为默认节奏）", params: CountyParams } },
    async (request) => {
      const principal = request.principal!;
      const county = request.params.countyCode;
      if (!overlaps(principal.orgUnit, county)) throw new ForbiddenError(`无权查看该县的走访规则：${county}`);
      return ruleSetFor(prisma, county);
    },
  );

  app.put(
    "/api/v1/visit-rules/:countyCode",
    { schema: { tags: ["visit-rules"], summary: "设置本县走访规则与学期（县级管理员）", params: CountyParams, body: RuleSetInput } },
    async (request) => {
      const principal = request.principal!;
      const county = request.params.countyCode;
      if (!hasAnyRole(principal, ["county-admin"]) || principal.orgUnit !== county) throw new ForbiddenError("只有本县民政管理员可以设置走访规则");
      // New rules apply from the next item created; items already open keep their dates.
      await saveRuleSet(prisma, county, request.body.rules, request.body.calendar, principal.name || principal.username, now());
      return ruleSetFor(prisma, county);
    },
  );
}
