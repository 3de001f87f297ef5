import { z } from "zod";
import { ForbiddenError, NotFoundError, ValidationError, markAudit, type ServiceApp } from "@shouhu/kit";
import { hasAnyRole, recordAccess, requireRole, type Principal } from "@shouhu/auth";
import type { Role } from "@shouhu/contracts";
import { todayInChina } from "@shouhu/cn";
import type { PrismaClient } from "../data/db.js";
import type { ChildReadDb } from "../data/child-read.js";
import { getVisibleChildAndView } from "../data/queries.js";
import { addGrowthEntry, growthEntryAuthor, listGrowthEntries, removeGrowthEntry } from "../data/growth.js";

const IdParams = z.object({ id: z.uuid({ message: "儿童档案编号格式不正确" }) });
const EntryParams = IdParams.extend({ entryId: z.uuid({ message: "记录编号格式不正确" }) });
const EntryInput = z
  .object({
    kind: z.enum(["award", "note"], { message: "类型应为 award（获奖）或 note（成长记录）" }),
    date: z.iso.date("日期格式应为 YYYY-MM-DD"),
    title: z.string().trim().min(1, "请填写标题").max(100, "标题最多100字"),
    detail: z.string().trim().max(1000, "内容最多1000字").nullish(),
  })
  .strict();

/** Who writes the 成长档案: the people who work with the child (teachers for the children they see). */
export const growthWriters: Role[] = ["county-admin", "township-supervisor", "village-director", "teacher"];
/** Who may remove an entry someone else wrote. */
export const growthRemovers: Role[] = ["county-admin", "township-supervisor", "village-director"];

/**
 * 成长档案 awards and notes (the rest of the growth file — visits, check-ups, activities — stays with the
 * services that keep them). Read as RECORD_ACCESS.growthNotes says: case workers and the federation all,
 * a teacher all for a child paired with them and otherwise what they wrote, health workers and inspectors none.
 */
export function registerGrowthRoutes(app: ServiceApp, deps: { prisma: PrismaClient; reads: ChildReadDb; now: () => Date }): void {
  const { prisma, reads } = deps;

  const readable = (principal: Principal, notesVisible: boolean): "all" | "own" => {
    const level = recordAccess(principal, "growthNotes");
    if (level === "all" || (level === "own-and-paired" && notesVisible)) return "all";
    if (level === "own-and-paired") return "own";
    throw new ForbiddenError("当前角色无权查看成长记录");
  };

  app.get(
    "/api/v1/children/:id/growth-entries",
    { schema: { tags: ["children"], summary: "成长档案：获奖和成长记录", params: IdParams } },
    async (request, reply) => {
      const principal = request.principal!;
      const { child, view } = await getVisibleChildAndView(reads, principal, request.params.id);
      const scope = readable(principal, view.familyNotes === "full");
      markAudit(reply, "growth", [child.id]);
      return { childId: child.id, items: await listGrowthEntries(prisma, child.id, scope === "all" ? null : principal.username) };
    },
  );

  app.post(
    "/api/v1/children/:id/growth-entries",
    { schema: { tags: ["children"], summary: "记一条获奖或成长记录", params: IdParams, body: EntryInput } },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, growthWriters, "记成长记录");
      const { child } = await getVisibleChildAndView(reads, principal, request.params.id);
      const body = request.body;
      const today = todayInChina(deps.now());
      if (body.date > today) throw ValidationError.field("date", `日期不能晚于今天（${today}）`);
      if (body.date < child.birthDate) throw ValidationError.field("date", "日期不能早于儿童出生日期");
      const entry = await addGrowthEntry(prisma, {
        childId: child.id,
        kind: body.kind,
        date: body.date,
        title: body.title,
        detail: body.detail ?? null,
        author: { username: principal.username, name: principal.name || principal.username },
      });
      markAudit(reply, "growth-add", [child.id]);
      return reply.status(201).send(entry);
    },
  );

  app.delete(
    "/api/v1/children/:id/growth-entries/:entryId",
    { schema: { tags: ["children"], summary: "删除一条成长记录（作者或个案工作者；保留备查）", params: EntryParams } },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, growthWriters, "删除成长记录");
      const { child } = await getVisibleChildAndView(reads, principal, request.params.id);
      const author = await growthEntryAuthor(prisma, child.id, request.params.entryId);
      if (!author) throw new NotFoundError("成长记录", request.params.entryId);
      if (author !== principal.username && !hasAnyRole(principal, growthRemovers)) throw new ForbiddenError("只能删除自己记的成长记录");
      if (!(await removeGrowthEntry(prisma, child.id, request.params.entryId, principal.username))) throw new NotFoundError("成长记录", request.params.entryId);
      markAudit(reply, "growth-remove", [child.id]);
      return reply.status(204).send();
    },
  );
}
