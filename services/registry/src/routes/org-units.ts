import { z } from "zod";
import { OrgUnitCode, OrgUnitLevel } from "@shouhu/contracts";
import { NotFoundError, type ServiceApp } from "@shouhu/kit";
import type { PrismaClient } from "../data/db.js";
import { listOrgUnits, listSchools, orgUnitWithChildren } from "../data/org-units.js";
import { OrgUnitDetail, OrgUnitList, SchoolList } from "./schemas.js";

const UnitQuery = z.object({ parent: OrgUnitCode.optional(), level: OrgUnitLevel.optional() });
const SchoolQuery = z.object({ townshipCode: OrgUnitCode.optional() });

/** Org units and schools are reference data: every signed-in user can read them. */
export function registerOrgUnitRoutes(app: ServiceApp, prisma: PrismaClient): void {
  app.get(
    "/api/v1/org-units",
    { schema: { tags: ["org-units"], summary: "行政区划（县/乡镇/村）", querystring: UnitQuery, response: { 200: OrgUnitList } } },
    async (request) => {
      return { items: await listOrgUnits(prisma, request.query) };
    },
  );

  app.get(
    "/api/v1/org-units/:code",
    { schema: { tags: ["org-units"], summary: "行政区划及其下级", params: z.object({ code: OrgUnitCode }), response: { 200: OrgUnitDetail } } },
    async (request) => {
      const unit = await orgUnitWithChildren(prisma, request.params.code);
      if (!unit) throw new NotFoundError("行政区划", request.params.code);
      return unit;
    },
  );

  app.get("/api/v1/schools", { schema: { tags: ["org-units"], summary: "学校", querystring: SchoolQuery, response: { 200: SchoolList } } }, async (request) => {
    return { items: await listSchools(prisma, request.query.townshipCode) };
  });
}
