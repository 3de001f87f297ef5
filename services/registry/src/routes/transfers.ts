import { z } from "zod";
import { markAudit, ValidationError, type ServiceApp } from "@shouhu/kit";
import { actorOf, requireRole } from "@shouhu/auth";
import { TransferStatus, orgUnitCode, type Role } from "@shouhu/contracts";
import { todayInChina } from "@shouhu/cn";
import { parseResidentId } from "../domain/resident-id.js";
import { decideTransfer, listTransfers, requestTransfer } from "../data/transfers.js";
import type { PrismaClient } from "../data/db.js";

/** Who asks for and decides transfers: township supervisors and county admins (for transfers between counties). */
export const transferers: Role[] = ["county-admin", "township-supervisor"];

const IdParams = z.object({ id: z.uuid({ message: "申请编号格式不正确" }) });
const Reason = z.string({ message: "请说明原因" }).trim().min(1, { message: "请说明原因" }).max(200, { message: "原因不超过200个字" });
const RequestBody = z.strictObject({
  idNumber: z.string({ message: "身份证号不能为空" }).min(1, { message: "身份证号不能为空" }).max(40, { message: "身份证号格式不正确" }),
  villageCode: orgUnitCode(["village"], "应为12位村（社区）代码"),
  schoolId: z.string().max(32, { message: "学校编号过长" }).nullish(),
  reason: Reason,
});
const DecideBody = z.strictObject({ reason: z.string().trim().max(200, { message: "原因不超过200个字" }).nullish() });
const ListQuery = z.object({ status: z.enum(TransferStatus.options, { message: "status 应为 pending、approved 或 refused" }).optional() });

export function registerTransferRoutes(app: ServiceApp, prisma: PrismaClient, now: () => Date): void {
  app.post(
    "/api/v1/transfers",
    { schema: { tags: ["transfers"], summary: "申请转入：按身份证号申请把在其他乡镇登记的儿童转入本辖区", body: RequestBody } },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, transferers, "申请转入");
      const id = parseResidentId(request.body.idNumber, todayInChina(now()));
      if (!id.ok) throw ValidationError.field("idNumber", id.reason);
      const result = await requestTransfer(prisma, principal, { ...request.body, idNumber: id.idNumber }, actorOf(principal));
      // The child is not the caller's to see: the audit names the request, not the child.
      markAudit(reply, "transfer-request", []);
      return reply.status(201).send(result);
    },
  );

  app.get(
    "/api/v1/transfers",
    { schema: { tags: ["transfers"], summary: "转移申请：本辖区转出（待审批）与转入", querystring: ListQuery } },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, transferers, "查看转移申请");
      const items = await listTransfers(prisma, principal, request.query.status);
      markAudit(
        reply,
        "list",
        items.flatMap((t) => (t.child ? [t.child.id] : [])),
      );
      return { items };
    },
  );

  for (const [path, approve] of [
    ["approve", true],
    ["refuse", false],
  ] as const) {
    app.post(
      `/api/v1/transfers/:id/${path}`,
      { schema: { tags: ["transfers"], summary: approve ? "批准转出：儿童档案转入申请方" : "拒绝转出（须说明原因）", params: IdParams, body: DecideBody } },
      async (request, reply) => {
        const principal = request.principal!;
        requireRole(principal, transferers, approve ? "批准转出" : "拒绝转出");
        const result = await decideTransfer(prisma, principal, request.params.id, { approve, note: request.body?.reason ?? null }, actorOf(principal));
        markAudit(reply, approve ? "transfer-approve" : "transfer-refuse", [result.childId]);
        return result;
      },
    );
  }
}
