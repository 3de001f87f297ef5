import { z } from "zod";
import { ForbiddenError, ValidationError, markAudit, type ServiceApp } from "@shouhu/kit";
import { SpreadsheetLimitError, inspectXlsx } from "@shouhu/spreadsheet";
import { assertWithinJurisdiction, recordAccess } from "@shouhu/auth";
import { orgUnitCode } from "@shouhu/contracts";
import type { PrismaClient } from "../data/db.js";
import { campaignFor, coverage, createCampaign, listCampaigns, missedChildren, rosterChildren, rosterWithExams } from "../data/campaigns.js";
import { recordResults } from "../data/results.js";
import { summariseCoverage } from "../domain/coverage.js";
import { MAX_RESULT_ROWS } from "../domain/results-sheet.js";
import { readResults, rosterWorkbook } from "../domain/roster.js";
import { examiners, organisers, readers, recorderOf, requireRole } from "../access.js";

const orgCode = orgUnitCode();
const CampaignInput = z
  .object({
    name: z.string().trim().min(1, "请填写体检活动名称").max(100),
    orgUnits: z.array(orgCode).min(1, "请选择体检覆盖的乡镇或村").max(50),
    startDate: z.iso.date("日期格式应为 YYYY-MM-DD"),
    endDate: z.iso.date("日期格式应为 YYYY-MM-DD"),
    provider: z.string().trim().min(1, "请填写承担体检的医疗机构").max(100),
  })
  .refine((c) => c.endDate >= c.startDate, { path: ["endDate"], message: "结束日期不能早于开始日期" });
export const IdParams = z.object({ id: z.uuid({ message: "编号格式不正确" }) });
const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/** Check-up campaigns: create and list, coverage, the roster to fill in, and its results uploaded back. */
export function registerCampaignRoutes(app: ServiceApp, deps: { prisma: PrismaClient; today: () => string }): void {
  const { prisma } = deps;

  app.post("/api/v1/campaigns", { schema: { tags: ["health"], summary: "创建体检活动", body: CampaignInput } }, async (request, reply) => {
    const principal = request.principal!;
    requireRole(principal, organisers, "组织体检活动");
    for (const u of request.body.orgUnits) assertWithinJurisdiction(principal, u);
    return reply.status(201).send(await createCampaign(prisma, request.body, principal.username));
  });

  app.get("/api/v1/campaigns", { schema: { tags: ["health"], summary: "体检活动列表" } }, async (request) => ({
    items: await listCampaigns(prisma, request.principal!.orgUnit),
  }));

  app.get("/api/v1/campaigns/:id", { schema: { tags: ["health"], summary: "体检活动详情", params: IdParams } }, async (request) =>
    campaignFor(prisma, request.params.id, request.principal!.orgUnit),
  );

  app.get(
    "/api/v1/campaigns/:id/coverage",
    { schema: { tags: ["health"], summary: "体检覆盖：应检、已检、未检，按村；异常检出按类别", params: IdParams } },
    async (request) => {
      const { orgUnit } = request.principal!;
      const campaign = await campaignFor(prisma, request.params.id, orgUnit);
      const { rows, flags } = await coverage(prisma, campaign, orgUnit);
      return { campaign: { id: campaign.id, name: campaign.name }, ...summariseCoverage(rows, flags) };
    },
  );

  app.get("/api/v1/campaigns/:id/missed", { schema: { tags: ["health"], summary: "本次体检未检儿童名单", params: IdParams } }, async (request, reply) => {
    const principal = request.principal!;
    requireRole(principal, readers, "查看儿童名单");
    const items = await missedChildren(prisma, await campaignFor(prisma, request.params.id, principal.orgUnit), principal.orgUnit);
    markAudit(
      reply,
      "list",
      items.map((i) => i.id),
    );
    return { items };
  });

  app.get(
    "/api/v1/campaigns/:id/roster",
    { schema: { tags: ["health"], summary: "体检名单：应检儿童及其本次检查结果（已检、待检、未检）", params: IdParams } },
    async (request, reply) => {
      const principal = request.principal!;
      // Results per child: those who see results (case workers, health workers), not flags-only or coverage-only roles.
      if (recordAccess(principal, "checkups") !== "full") throw new ForbiddenError("当前角色无权查看体检名单");
      const campaign = await campaignFor(prisma, request.params.id, principal.orgUnit);
      const items = await rosterWithExams(prisma, campaign, principal.orgUnit, deps.today());
      markAudit(
        reply,
        "list",
        items.map((i) => i.id),
      );
      return { campaign, items };
    },
  );

  app.get(
    "/api/v1/campaigns/:id/roster.xlsx",
    { schema: { tags: ["health"], summary: "下载体检名单（填写结果后上传）", params: IdParams } },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, examiners, "下载体检名单");
      const campaign = await campaignFor(prisma, request.params.id, principal.orgUnit);
      const children = await rosterChildren(prisma, campaign, principal.orgUnit);
      markAudit(
        reply,
        "export",
        children.map((c) => c.id),
      );
      const buffer = Buffer.from(await rosterWorkbook(campaign.name, children).xlsx.writeBuffer());
      return reply
        .header("content-type", XLSX)
        .header("content-disposition", `attachment; filename*=UTF-8''${encodeURIComponent(`${campaign.name}-体检名单.xlsx`)}`)
        .send(buffer);
    },
  );

  app.post(
    "/api/v1/campaigns/:id/results",
    { schema: { tags: ["health"], summary: "批量录入体检结果（上传填好的名单 .xlsx，逐行返回错误）", params: IdParams } },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, examiners, "录入体检结果");
      const campaign = await campaignFor(prisma, request.params.id, principal.orgUnit);
      const file = await request.file();
      if (!file) throw ValidationError.field("file", "请上传填好的体检名单（.xlsx）");
      const rows = await resultRows(await file.toBuffer());
      const { accepted, recordedFor, errors } = await recordResults(prisma, rows, campaign.id, recorderOf(principal), deps.today());
      markAudit(reply, "import", recordedFor);
      return { rows: rows.length, accepted, rejected: errors.length, errors };
    },
  );
}

/** The sheet's rows, or a 400 naming the file: limits checked before exceljs loads it whole (a bomb or a whole-sheet merge is refused here). */
async function resultRows(buffer: Buffer) {
  try {
    inspectXlsx(buffer, { maxFileBytes: 10 * 1024 * 1024, maxRows: MAX_RESULT_ROWS + 50, maxMergedCells: 10_000 });
  } catch (err) {
    if (err instanceof SpreadsheetLimitError) throw ValidationError.field("file", err.message);
    throw err;
  }
  let sheet;
  try {
    sheet = await readResults(buffer);
  } catch {
    throw ValidationError.field("file", "无法读取该文件，请上传 .xlsx 格式的体检名单");
  }
  if (sheet.missing.length) throw ValidationError.field("file", `表格缺少列：${sheet.missing.join("、")}。请使用本活动下载的体检名单填写`);
  if (sheet.rows.length > MAX_RESULT_ROWS)
    throw ValidationError.field("file", `一次最多上传${MAX_RESULT_ROWS}行结果（本文件${sheet.rows.length}行），请按村分开上传`);
  return sheet.rows;
}
