import { v7 as uuidv7 } from "uuid";
import type { Actor } from "@shouhu/contracts";
import { contains, labels, townshipOf, type TransferStatus } from "@shouhu/contracts";
import { AppError, ConflictError, ForbiddenError, NotFoundError, ValidationError } from "@shouhu/kit";
import type { Principal } from "@shouhu/auth";
import { appendToOutbox, buildEvent } from "@shouhu/messaging";
import { currentTraceparent } from "@shouhu/kit";
import { toSnapshot } from "../domain/child-record.js";
import { PRODUCER, placeChildInTx } from "./children.js";
import type { PrismaClient } from "./db.js";

/** What the receiving side is told when it asks for a child registered elsewhere: that, and the request's id. */
export const TRANSFER_REQUESTED_MESSAGE = "该儿童已在其他乡镇登记，已向其登记地提出转移申请，待对方审批";

export interface TransferInput {
  idNumber: string;
  villageCode: string;
  schoolId?: string | null;
  reason: string;
}

type Row = Awaited<ReturnType<PrismaClient["transferRequest"]["findMany"]>>[number];

/**
 * The receiving side asks for a child by ID number. The registry finds the record; the caller
 * is told only "registered in another township" and the request id — no name, village or
 * township — until the sending side approves.
 */
export async function requestTransfer(
  prisma: PrismaClient,
  principal: Principal,
  input: TransferInput,
  actor: Actor,
): Promise<{ id: string; status: "pending"; message: string }> {
  if (!contains(principal.orgUnit, input.villageCode)) throw new ForbiddenError(`只能把儿童转入本辖区：${input.villageCode}`);
  const village = await prisma.orgUnit.findUnique({ where: { code: input.villageCode } });
  if (!village || village.level !== "village") throw ValidationError.field("villageCode", `村（社区）代码不存在：${input.villageCode}`);
  if (village.retiredAt) throw ValidationError.field("villageCode", `${village.name}已撤销`);
  if (input.schoolId) {
    const school = await prisma.school.findUnique({ where: { id: input.schoolId } });
    if (!school || !contains(principal.orgUnit, school.townshipCode) || school.retiredAt) {
      throw ValidationError.field("schoolId", `本辖区没有该学校：${input.schoolId}`);
    }
  }
  const child = await prisma.child.findUnique({ where: { idNumber: input.idNumber }, select: { id: true, villageCode: true } });
  if (!child) throw new AppError(404, "NOT_FOUND", "未找到该身份证号的儿童档案，请直接建档", { field: "idNumber" });
  if (townshipOf(child.villageCode) === townshipOf(input.villageCode) || contains(principal.orgUnit, child.villageCode)) {
    throw new ConflictError("ALREADY_HERE", "该儿童已在本辖区登记，可直接修改其村（社区）和学校", { field: "idNumber" });
  }
  const id = uuidv7();
  try {
    await prisma.transferRequest.create({
      data: {
        id,
        childId: child.id,
        fromTownship: townshipOf(child.villageCode),
        toVillage: input.villageCode,
        toTownship: townshipOf(input.villageCode),
        toSchoolId: input.schoolId ?? null,
        status: "pending",
        reason: input.reason,
        requestedBy: actor.id,
        requestedName: actor.name ?? null,
      },
    });
  } catch (err) {
    if ((err as { code?: string }).code === "P2002")
      throw new ConflictError("TRANSFER_PENDING", "该儿童已有待审批的转移申请，请等待对方处理", { field: "idNumber" });
    throw err;
  }
  return { id, status: "pending", message: TRANSFER_REQUESTED_MESSAGE };
}

export interface TransferView {
  id: string;
  direction: "incoming" | "outgoing";
  status: "pending" | "approved" | "refused";
  reason: string;
  toVillage: { code: string; name: string | null };
  toSchool: { id: string; name: string | null } | null;
  fromTownship: { code: string; name: string | null } | null;
  requestedBy: string | null;
  requestedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionNote: string | null;
  /** The child: to the sending side always; to the receiving side only once approved. */
  child: { id: string; name: string; grade: string | null; schoolName: string | null; villageCode: string } | null;
}

/**
 * Requests the caller's jurisdiction sends (children registered here, asked for by others) and
 * receives (asked for by it). A receiving side sees its requests without the child until approved,
 * and without where the child is registered.
 */
export async function listTransfers(prisma: PrismaClient, principal: Principal, status?: string): Promise<TransferView[]> {
  const scope = principal.orgUnit;
  const rows = await prisma.transferRequest.findMany({
    where: {
      OR: [{ fromTownship: { startsWith: scope } }, { toTownship: { startsWith: scope } }],
      ...(status ? { status } : {}),
    },
    orderBy: { requestedAt: "desc" },
    take: 500,
  });
  const children = await prisma.child.findMany({
    where: { id: { in: rows.map((r) => r.childId) } },
    select: { id: true, name: true, grade: true, villageCode: true, school: { select: { name: true } } },
  });
  const units = await prisma.orgUnit.findMany({
    where: { code: { in: rows.flatMap((r) => [r.toVillage, r.fromTownship]) } },
    select: { code: true, name: true },
  });
  const schools = await prisma.school.findMany({
    where: { id: { in: rows.flatMap((r) => (r.toSchoolId ? [r.toSchoolId] : [])) } },
    select: { id: true, name: true },
  });
  const unitName = new Map(units.map((u) => [u.code, u.name]));
  const schoolName = new Map(schools.map((s) => [s.id, s.name]));
  const childById = new Map(children.map((c) => [c.id, c]));
  return rows.map((r: Row) => {
    const outgoing = contains(scope, r.fromTownship);
    const showChild = outgoing || r.status === "approved";
    const c = childById.get(r.childId);
    return {
      id: r.id,
      direction: outgoing ? "outgoing" : "incoming",
      status: r.status as TransferView["status"],
      reason: r.reason,
      toVillage: { code: r.toVillage, name: unitName.get(r.toVillage) ?? null },
      toSchool: r.toSchoolId ? { id: r.toSchoolId, name: schoolName.get(r.toSchoolId) ?? null } : null,
      fromTownship: outgoing || r.status === "approved" ? { code: r.fromTownship, name: unitName.get(r.fromTownship) ?? null } : null,
      requestedBy: r.requestedName,
      requestedAt: r.requestedAt.toISOString(),
      decidedBy: r.decidedName,
      decidedAt: r.decidedAt?.toISOString() ?? null,
      decisionNote: r.decisionNote,
      child: showChild && c ? { id: c.id, name: c.name, grade: c.grade, schoolName: c.school?.name ?? null, villageCode: c.villageCode } : null,
    };
  });
}

/**
 * The sending side decides. Approval moves the child in one transaction: request row and child row
 * locked, village (and school) changed with history "transferred" and `child.updated`, which pairing
 * (ends pairings, proposes in the new township), visits (moves schedules), reporting and
 * notifications follow. A refusal needs a reason and changes nothing about the child.
 */
export async function decideTransfer(
  prisma: PrismaClient,
  principal: Principal,
  id: string,
  decision: { approve: boolean; note?: string | null },
  actor: Actor,
): Promise<{ id: string; status: "approved" | "refused"; childId: string }> {
  return prisma.$transaction(async (tx) => {
    const [row] = await tx.$queryRawUnsafe<{ id: string }[]>("SELECT id FROM transfer_requests WHERE id = $1::uuid FOR UPDATE", id);
    const request = row ? await tx.transferRequest.findUnique({ where: { id } }) : null;
    if (!request || !contains(principal.orgUnit, request.fromTownship)) throw new NotFoundError("转移申请", id);
    if (request.status !== "pending") {
      throw new ConflictError("TRANSFER_DECIDED", `该申请${labels.transferStatus[request.status as TransferStatus]}`, { field: "id" });
    }
    const note = decision.note?.trim() || null;
    if (!decision.approve && !note) throw ValidationError.field("reason", "拒绝转移须说明原因");
    if (decision.approve) {
      const child = await tx.child.findUnique({ where: { id: request.childId }, select: { villageCode: true, schoolId: true } });
      if (!child || townshipOf(child.villageCode) !== request.fromTownship) {
        throw new ConflictError("CHILD_MOVED", "该儿童已不在本乡镇登记，申请不能批准", { field: "id" });
      }
      const changesSchool = (request.toSchoolId ?? null) !== child.schoolId;
      const reason = `${request.reason}${note ? `（${note}）` : ""}`;
      const { child: moved } = await placeChildInTx(
        tx,
        request.childId,
        { villageCode: request.toVillage, ...(changesSchool ? { schoolId: request.toSchoolId ?? null, className: null } : {}) },
        "transferred",
        actor,
        `转移：${reason}`,
      );
      const names = new Map(
        (await tx.orgUnit.findMany({ where: { code: { in: [request.fromTownship, request.toTownship] } }, select: { code: true, name: true } })).map((u) => [
          u.code,
          u.name,
        ]),
      );
      await appendToOutbox(tx, [
        buildEvent(
          "child.transferred",
          {
            subject: moved.id,
            orgUnit: moved.villageCode,
            actor,
            traceparent: currentTraceparent(),
            data: {
              child: toSnapshot(moved),
              transferId: request.id,
              fromVillage: child.villageCode,
              fromTownship: request.fromTownship,
              fromTownshipName: names.get(request.fromTownship) ?? request.fromTownship,
              toTownship: request.toTownship,
              toTownshipName: names.get(request.toTownship) ?? request.toTownship,
              reason,
            },
          },
          { producer: PRODUCER },
        ),
      ]);
    }
    await tx.transferRequest.update({
      where: { id },
      data: {
        status: decision.approve ? "approved" : "refused",
        decidedBy: actor.id,
        decidedName: actor.name ?? null,
        decidedAt: new Date(),
        decisionNote: note,
      },
    });
    return { id, status: decision.approve ? "approved" : "refused", childId: request.childId };
  });
}
