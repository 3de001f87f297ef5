import { z } from "zod";
import { OrgUnitCode, OrgUnitLevel } from "@shouhu/contracts";
import { NotFoundError, type ServiceApp } from "@shouhu/kit";
import type { PrismaClient } from "../data/db.js";

const UnitQuery = z.object({ parent: OrgUnitCode.optional(), level: OrgUnitLevel.optional() });
const SchoolQuery = z.object({ townshipCode: OrgUnitCode.optional() });

/** Org units and schools are reference data: every signed-in user can read them. */
export function registerOrgUnitRoutes(app: ServiceApp, prisma: PrismaClient): void {
  app.get("/api/v1/org-units", { schema: { tags: ["org-units"], summary: "行政区划（县/乡镇/村）", querystring: UnitQuery } }, async (request) => {
    const items = await prisma.orgUnit.findMany({
      where: { parentCode: request.query.parent, level: request.query.level },
      orderBy: { code: "asc" },
    });
    return { items };
  });

  app.get(
    "/api/v1/org-units/:code",
    { schema: { tags: ["org-units"], params: z.object({ code: OrgUnitCode }) } },
    async (request) => {
      const unit = await prisma.orgUnit.findUnique({ where: { code: request.params.code }, include: { children: { orderBy: { code: "asc" } } } });
      if (!unit) throw new NotFoundError("行政区划", request.params.code);
      return unit;
    },
  );

  app.get("/api/v1/schools", { schema: { tags: ["org-units"], summary: "学校", querystring: SchoolQuery } }, async (request) => {
    const items = await prisma.school.findMany({ where: { townshipCode: request.query.townshipCode }, orderBy: { id: "asc" } });
    return { items };
  });
}
