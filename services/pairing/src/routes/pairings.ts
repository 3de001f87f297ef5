import { z } from "zod";
import { PairingKind, PairingRole, contains, orgUnitCode } from "@shouhu/contracts";
import { todayInChina } from "@shouhu/cn";
import { AppError, NotFoundError, markAudit, type ServiceApp } from "@shouhu/kit";
import type { Principal } from "@shouhu/auth";
import type { PrismaClient } from "../data/db.js";
import { approvePairing, endPairing, listPairingViews, loadPairings, pairByHand, rejectPairing, transferPairing, type Decider } from "../data/pairings.js";
import { presentPairing } from "./present.js";
import { DecisionsResponse, PairingPage, PairingResponse, TransferResponse } from "./schemas.js";
import { approvers, teacherOnly } from "./permissions.js";
import { actorOf, requireRole, scopeOf } from "@shouhu/auth";

export interface PairingRoutesDeps {
  prisma: PrismaClient;
  now: () => Date;
}

const IdParams = z.object({ id: z.uuid({ message: "结对编号格式不正确" }) });
const PairingStatus = z.enum(["proposed", "active", "ended", "rejected", "withdrawn"]);

const ListQuery = z.object({
  orgUnit: orgUnitCode().optional(),
  status: PairingStatus.optional(),
  kind: PairingKind.optional(),
  childId: z.uuid().optional(),
  helperId: z.uuid().optional(),
  /** Only pairings where the caller is the helper. */
  mine: z
    .enum(["true", "false"])
    .transform((v) => v === "true")
    .optional(),
  cursor: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const NoteBody = z.object({ note: z.string().trim().max(500).nullish() });
const reasonText = (what: string) =>
  z
    .string({ message: `请填写${what}` })
    .trim()
    .min(2, `请填写${what}（至少2个字）`)
    .max(500, `${what}最多500字`);
const EndBody = z.object({ note: reasonText("解除原因") }).strict();
const ManualBody = z
  .object({
    childId: z.uuid({ message: "儿童编号格式不正确" }),
    helperId: z.uuid({ message: "帮扶人编号格式不正确" }),
    kind: PairingKind.default("mentor"),
    /** primary 主要帮扶人 (default) | secondary 协助帮扶人 (mentors only, beside an active primary). */
    role: PairingRole.default("primary"),
    note: z.string().trim().max(500, "备注最多500字").nullish(),
  })
  .strict()
  .refine((b) => b.kind === "mentor" || b.role === "primary", { path: ["role"], message: "手拉手伙伴不分主要和协助，只能为主要" });
const TransferBody = z.object({ helperId: z.uuid({ message: "帮扶人编号格式不正确" }), reason: reasonText("移交原因") }).strict();
const DecisionsBody = z.object({
  ids: z.array(z.uuid()).min(1, "请选择至少一条结对建议").max(500, "一次最多审批500条"),
  action: z.enum(["approve", "reject"]),
  note: z.string().trim().max(500).nullish(),
});

function deciderOf(principal: Principal): Decider {
  return { actor: actorOf(principal), name: principal.name || principal.username, orgUnit: principal.orgUnit };
}

export function registerPairingRoutes(app: ServiceApp, deps: PairingRoutesDeps): void {
  const { prisma } = deps;
  const today = () => todayInChina(deps.now());

  app.get(
    "/api/v1/pairings",
    { schema: { tags: ["pairings"], summary: "结对记录与待审批建议", querystring: ListQuery, response: { 200: PairingPage } } },
    async (request, reply) => {
      const principal = request.principal!;
      const q = request.query;
      const teacher = teacherOnly(principal);
      const rows = await listPairingViews(prisma, {
        scope: scopeOf(principal, q.orgUnit),
        status: q.status ?? null,
        kind: q.kind ?? null,
        childId: q.childId ?? null,
        helperId: q.helperId ?? null,
        mine: q.mine ? principal.username : null,
        teacher: teacher ? { schoolId: teacher.schoolId ?? null, username: teacher.username } : null,
        cursor: q.cursor ?? null,
        limit: q.limit,
      });
      const more = rows.length > q.limit;
      const items = more ? rows.slice(0, q.limit) : rows;
      markAudit(reply, "pairing-read", [...new Set(items.map((p) => p.child.id))]);
      return { items: items.map((p) => presentPairing(principal, p)), nextCursor: more ? items[items.length - 1]!.id : null };
    },
  );

  app.get(
    "/api/v1/pairings/:id",
    { schema: { tags: ["pairings"], summary: "结对详情", params: IdParams, response: { 200: PairingResponse } } },
    async (request, reply) => {
      const principal = request.principal!;
      const [p] = await loadPairings(prisma, [request.params.id]);
      const teacher = teacherOnly(principal);
      const visible =
        p && contains(principal.orgUnit, p.child.villageCode) && (!teacher || p.child.schoolId === teacher.schoolId || p.helper.username === teacher.username);
      if (!visible) throw new NotFoundError("结对记录", request.params.id);
      markAudit(reply, "pairing-read", [p.child.id]);
      return presentPairing(principal, p);
    },
  );

  app.post(
    "/api/v1/pairings/:id/approve",
    { schema: { tags: ["pairings"], summary: "审批通过结对建议", params: IdParams, response: { 200: PairingResponse } } },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, approvers, "审批结对");
      const p = await approvePairing(prisma, request.params.id, deciderOf(principal), today());
      markAudit(reply, "pairing-decision", [p.child.id]);
      return presentPairing(principal, p);
    },
  );

  app.post(
    "/api/v1/pairings/:id/reject",
    { schema: { tags: ["pairings"], summary: "驳回结对建议（将为该儿童另行匹配）", params: IdParams, body: NoteBody, response: { 200: PairingResponse } } },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, approvers, "审批结对");
      const p = await rejectPairing(prisma, request.params.id, deciderOf(principal), request.body.note ?? null);
      markAudit(reply, "pairing-decision", [p.child.id]);
      return presentPairing(principal, p);
    },
  );

  app.post(
    "/api/v1/pairings/decisions",
    { schema: { tags: ["pairings"], summary: "批量审批或驳回结对建议（逐条处理，逐条返回结果）", body: DecisionsBody, response: { 200: DecisionsResponse } } },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, approvers, "审批结对");
      const { ids, action, note } = request.body;
      const decider = deciderOf(principal);
      const results: { id: string; ok: boolean; pairing?: ReturnType<typeof presentPairing>; error?: { code: string; message: string } }[] = [];
      // One transaction per proposal: one full helper or exited child must not block the rest.
      for (const id of [...new Set(ids)]) {
        try {
          const p = action === "approve" ? await approvePairing(prisma, id, decider, today()) : await rejectPairing(prisma, id, decider, note ?? null);
          results.push({ id, ok: true, pairing: presentPairing(principal, p) });
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          results.push({ id, ok: false, error: { code: err.code, message: err.message } });
        }
      }
      markAudit(
        reply,
        "pairing-decision",
        results.flatMap((r) => (r.pairing ? [r.pairing.child.id] : [])),
      );
      return { succeeded: results.filter((r) => r.ok).length, failed: results.filter((r) => !r.ok).length, results };
    },
  );

  app.post(
    "/api/v1/pairings/:id/end",
    { schema: { tags: ["pairings"], summary: "解除结对（须填写原因；儿童将重新匹配）", params: IdParams, body: EndBody, response: { 200: PairingResponse } } },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, approvers, "解除结对");
      const p = await endPairing(prisma, request.params.id, deciderOf(principal), today(), request.body.note);
      markAudit(reply, "pairing-end", [p.child.id]);
      return presentPairing(principal, p);
    },
  );

  app.post(
    "/api/v1/pairings",
    {
      schema: {
        tags: ["pairings"],
        summary: "人工结对：督导员直接为儿童指定主要或协助帮扶人、手拉手伙伴（不经匹配建议，立即生效）",
        body: ManualBody,
        response: { 201: PairingResponse },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, approvers, "人工结对");
      const { childId, helperId, kind, role, note } = request.body;
      const p = await pairByHand(prisma, { childId, helperId, kind, role, note: note ?? null }, deciderOf(principal), today());
      markAudit(reply, "pairing-create", [p.child.id]);
      return reply.status(201).send(presentPairing(principal, p));
    },
  );

  app.post(
    "/api/v1/pairings/:id/transfer",
    {
      schema: {
        tags: ["pairings"],
        summary: "移交结对：结束当前结对并改由另一位帮扶人帮扶（须填写原因）",
        params: IdParams,
        body: TransferBody,
        response: { 200: TransferResponse },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, approvers, "移交结对");
      const { ended, started } = await transferPairing(prisma, request.params.id, request.body, deciderOf(principal), today());
      markAudit(reply, "pairing-transfer", [started.child.id]);
      return { ended: presentPairing(principal, ended), started: presentPairing(principal, started) };
    },
  );
}
