import { z } from "zod";
import { orgUnitCode } from "@shouhu/contracts";
import { ForbiddenError, NotFoundError, ValidationError, type ServiceApp } from "@shouhu/kit";
import { assertWithinJurisdiction, hasAnyRole, type Principal } from "@shouhu/auth";
import type { PrismaClient } from "../data/db.js";
import { webhookUrlProblem } from "../channels/outbound.js";
import { setOfficeChannel } from "../data/message-admin.js";
import { officeView, removeOfficeChannel, setQuietHours } from "../data/office-settings.js";
import { parseQuietHours, type QuietHours } from "../domain/quiet-hours.js";
import { OfficeResponse } from "./schemas.js";

const office = orgUnitCode(["county", "township"], "应为6位县或9位乡镇代码");
const OfficeParams = z.object({ orgUnit: office });
const ChannelParams = z.object({ orgUnit: office, kind: z.enum(["wecom", "dingtalk"], { message: "应为 wecom（企业微信）或 dingtalk（钉钉）" }) });
const ChannelBody = z.object({ url: z.url("应为群机器人的 Webhook 地址"), secret: z.string().max(200).nullish() });
const QuietBody = z.object({
  // null: take the county's (or the deployment's) quiet hours again.
  quietHours: z
    .string()
    .trim()
    .nullable()
    .refine((v) => v === null || quietProblem(v) === null, { message: "免打扰时段应为 HH:MM-HH:MM（北京时间），如 21:00-08:00" }),
});

function quietProblem(spec: string): string | null {
  try {
    parseQuietHours(spec);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** An office's settings are its own staff's: the county admin (county and every township) and a township's supervisor. */
function requireOfficeKeeper(principal: Principal, orgUnit: string): void {
  if (!hasAnyRole(principal, ["county-admin", "township-supervisor"])) throw new ForbiddenError("当前角色无权修改通知设置");
  assertWithinJurisdiction(principal, orgUnit);
}

/** 通知设置: an office's quiet hours and its WeCom/DingTalk group robots. */
export function registerOfficeRoutes(app: ServiceApp, deps: { prisma: PrismaClient; webhookAllowedHosts?: readonly string[]; quiet: QuietHours }): void {
  const { prisma } = deps;

  app.get(
    "/api/v1/notifications/offices/:orgUnit",
    { schema: { tags: ["notifications"], summary: "通知设置：免打扰时段与办公群机器人", params: OfficeParams, response: { 200: OfficeResponse } } },
    async (request) => {
      requireOfficeKeeper(request.principal!, request.params.orgUnit);
      return officeView(prisma, request.params.orgUnit, deps.quiet);
    },
  );

  app.put(
    "/api/v1/notifications/offices/:orgUnit/quiet-hours",
    {
      schema: {
        tags: ["notifications"],
        summary: "设置免打扰时段（北京时间；非紧急短信顺延到时段结束，紧急事项不受限）",
        params: OfficeParams,
        body: QuietBody,
        response: { 200: OfficeResponse },
      },
    },
    async (request) => {
      const principal = request.principal!;
      requireOfficeKeeper(principal, request.params.orgUnit);
      await setQuietHours(prisma, request.params.orgUnit, request.body.quietHours, principal.username);
      return officeView(prisma, request.params.orgUnit, deps.quiet);
    },
  );

  app.put(
    "/api/v1/notifications/offices/:orgUnit/:kind",
    { schema: { tags: ["notifications"], summary: "设置乡镇/县办公群机器人（企业微信、钉钉）", params: ChannelParams, body: ChannelBody } },
    async (request) => {
      requireOfficeKeeper(request.principal!, request.params.orgUnit);
      const { orgUnit, kind } = request.params;
      // Only the provider's own HTTPS host: anything else would let this setting point our server inside the deployment.
      const problem = webhookUrlProblem(kind, request.body.url, deps.webhookAllowedHosts);
      if (problem) throw ValidationError.field("url", problem);
      await setOfficeChannel(prisma, { orgUnit, kind, url: request.body.url, secret: request.body.secret ?? null });
      return { orgUnit, kind, configured: true };
    },
  );

  app.delete(
    "/api/v1/notifications/offices/:orgUnit/:kind",
    { schema: { tags: ["notifications"], summary: "移除办公群机器人", params: ChannelParams } },
    async (request, reply) => {
      requireOfficeKeeper(request.principal!, request.params.orgUnit);
      if (!(await removeOfficeChannel(prisma, request.params.orgUnit, request.params.kind))) throw new NotFoundError("办公群机器人", request.params.kind);
      return reply.status(204).send();
    },
  );
}
