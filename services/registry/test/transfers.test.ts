import { describe, expect, it } from "vitest";
import { childBody, registryTest, type Harness } from "./harness.js";

let h: Harness;
registryTest("transfers").beforeAll(async ({ registry }) => {
  h = registry;
});

const CHANGLING_VILLAGE = "360999101201";
const SHIMEN_VILLAGE = "360999102201";
const SHIMEN_SCHOOL = "S360999102001";

async function create(seq: number, extra: Record<string, unknown> = {}): Promise<{ id: string; idNumber: string }> {
  const body = childBody({ seq, ...extra });
  const res = await h.app.inject({ method: "POST", url: "/api/v1/children", headers: await h.as("changling.supervisor"), payload: body });
  expect(res.statusCode).toBe(201);
  return { id: res.json().id, idNumber: body.idNumber };
}

const call = async (method: "GET" | "POST", user: string, url: string, payload?: unknown) =>
  h.app.inject({ method, url, headers: await h.as(user), ...(payload === undefined ? {} : { payload: payload as object }) });

const ask = (user: string, body: Record<string, unknown>) => call("POST", user, "/api/v1/transfers", body);

describe("transfers between townships", () => {
  it("the receiving side learns only that the child is registered elsewhere, and sees nothing of it before approval", async () => {
    const child = await create(1);
    const res = await ask("shimen.supervisor", {
      idNumber: child.idNumber,
      villageCode: SHIMEN_VILLAGE,
      schoolId: SHIMEN_SCHOOL,
      reason: "随父母回石门镇居住",
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(["id", "message", "status"]);
    expect(body.message).toMatch(/其他乡镇登记/);
    const text = JSON.stringify(body);
    for (const secret of [child.id, "李小花", CHANGLING_VILLAGE, "360999101", "长岭"]) expect(text).not.toContain(secret);

    // Before approval: the child is not readable, its request shows no child and no township.
    expect((await call("GET", "shimen.supervisor", `/api/v1/children/${child.id}`)).statusCode).toBe(404);
    const mine = (await call("GET", "shimen.supervisor", "/api/v1/transfers")).json().items;
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ id: body.id, direction: "incoming", status: "pending", child: null, fromTownship: null });
    expect(JSON.stringify(mine)).not.toContain("李小花");

    // The sending side sees the request with the child.
    const theirs = (await call("GET", "changling.supervisor", "/api/v1/transfers?status=pending")).json().items;
    expect(theirs[0]).toMatchObject({
      id: body.id,
      direction: "outgoing",
      child: { id: child.id, name: "李小花" },
      toVillage: { code: SHIMEN_VILLAGE, name: "石门村" },
    });

    // Only the sending side decides.
    expect((await call("POST", "shimen.supervisor", `/api/v1/transfers/${body.id}/approve`, {})).statusCode).toBe(404);
    expect((await call("POST", "changling.director", `/api/v1/transfers/${body.id}/approve`, {})).statusCode).toBe(403);

    const approved = await call("POST", "changling.supervisor", `/api/v1/transfers/${body.id}/approve`, {});
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({ status: "approved", childId: child.id });
    expect(JSON.parse(approved.headers["x-shouhu-audit"] as string)).toEqual({ action: "transfer-approve", childIds: [child.id] });

    const moved = await h.prisma.child.findUnique({ where: { id: child.id } });
    expect(moved).toMatchObject({ villageCode: SHIMEN_VILLAGE, townshipCode: "360999102", schoolId: SHIMEN_SCHOOL, className: null, revision: 2 });
    const history = await h.prisma.childHistory.findFirst({ where: { childId: child.id, revision: 2 } });
    expect(history).toMatchObject({ action: "transferred" });
    expect(history!.reason).toContain("随父母回石门镇居住");
    const event = await h.prisma.outboxEvent.findFirst({ where: { subject: child.id, type: "child.updated" } });
    expect(event).toMatchObject({ orgUnit: SHIMEN_VILLAGE });
    expect((event!.envelope as { data: { changes: { field: string }[] } }).data.changes.map((c) => c.field)).toEqual(
      expect.arrayContaining(["villageCode", "schoolId"]),
    );

    const transferred = await h.prisma.outboxEvent.findFirst({ where: { subject: child.id, type: "child.transferred" } });
    expect((transferred!.envelope as { data: unknown }).data).toMatchObject({
      transferId: body.id,
      fromVillage: CHANGLING_VILLAGE,
      fromTownship: "360999101",
      fromTownshipName: "长岭乡",
      toTownship: "360999102",
      toTownshipName: "石门镇",
      child: { villageCode: SHIMEN_VILLAGE },
    });

    // After approval the receiving side has the child; the sending side does not.
    expect((await call("GET", "shimen.supervisor", `/api/v1/children/${child.id}`)).statusCode).toBe(200);
    expect((await call("GET", "changling.supervisor", `/api/v1/children/${child.id}`)).statusCode).toBe(404);
    const after = (await call("GET", "shimen.supervisor", "/api/v1/transfers")).json().items;
    expect(after[0]).toMatchObject({ status: "approved", child: { id: child.id }, fromTownship: { code: "360999101", name: "长岭乡" } });
    const twice = await call("POST", "changling.supervisor", `/api/v1/transfers/${body.id}/approve`, {});
    expect(twice.statusCode).toBe(409);
    expect(twice.json().error.code).toBe("TRANSFER_DECIDED");
  });

  it("a refusal needs a reason and leaves the child where it is", async () => {
    const child = await create(2);
    const { id } = (await ask("shimen.supervisor", { idNumber: child.idNumber, villageCode: SHIMEN_VILLAGE, reason: "就近入学" })).json();
    const dup = await ask("shimen.supervisor", { idNumber: child.idNumber, villageCode: SHIMEN_VILLAGE, reason: "再次申请" });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error).toMatchObject({ code: "TRANSFER_PENDING", details: { field: "idNumber" } });

    const noReason = await call("POST", "changling.supervisor", `/api/v1/transfers/${id}/refuse`, {});
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json().error.details[0]).toMatchObject({ field: "reason" });
    const refused = await call("POST", "changling.supervisor", `/api/v1/transfers/${id}/refuse`, { reason: "该儿童仍在本乡居住" });
    expect(refused.statusCode).toBe(200);
    expect(await h.prisma.child.findUnique({ where: { id: child.id } })).toMatchObject({ villageCode: CHANGLING_VILLAGE, revision: 1 });
    const list = (await call("GET", "shimen.supervisor", "/api/v1/transfers?status=refused")).json().items;
    expect(list[0]).toMatchObject({ id, status: "refused", decisionNote: "该儿童仍在本乡居住", child: null });
    expect((await call("POST", "changling.supervisor", `/api/v1/transfers/${id}/approve`, {})).statusCode).toBe(409);
  });

  it("refuses bad input naming the field, stores nothing", async () => {
    const child = await create(3);
    const cases: [Record<string, unknown>, string, number][] = [
      [{ villageCode: SHIMEN_VILLAGE, reason: "x" }, "idNumber", 400],
      [{ idNumber: "123", villageCode: SHIMEN_VILLAGE, reason: "x" }, "idNumber", 400],
      [{ idNumber: child.idNumber, villageCode: "3609991022", reason: "x" }, "villageCode", 400],
      [{ idNumber: child.idNumber, villageCode: "360999102299", reason: "x" }, "villageCode", 400],
      [{ idNumber: child.idNumber, villageCode: SHIMEN_VILLAGE, reason: " " }, "reason", 400],
      [{ idNumber: child.idNumber, villageCode: SHIMEN_VILLAGE, reason: "x", schoolId: "S360999101001" }, "schoolId", 400],
      [{ idNumber: child.idNumber, villageCode: SHIMEN_VILLAGE, reason: "x", extra: 1 }, "extra", 400],
    ];
    for (const [body, field, status] of cases) {
      const res = await ask("shimen.supervisor", body);
      expect(res.statusCode, JSON.stringify(body)).toBe(status);
      expect(JSON.stringify(res.json().error.details), JSON.stringify(body)).toContain(field);
      expect(res.json().error.message).toMatch(/[\u4e00-\u9fa5]/);
    }
    // Into another's jurisdiction, or for a child already here, or an unknown child.
    expect((await ask("shimen.supervisor", { idNumber: child.idNumber, villageCode: CHANGLING_VILLAGE, reason: "x" })).statusCode).toBe(403);
    const here = await ask("changling.supervisor", { idNumber: child.idNumber, villageCode: "360999101202", reason: "x" });
    expect(here.statusCode).toBe(409);
    const unknown = await ask("shimen.supervisor", { idNumber: childBody({ seq: 99 }).idNumber, villageCode: SHIMEN_VILLAGE, reason: "x" });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.details).toEqual({ field: "idNumber" });
    expect((await ask("changling.director", { idNumber: child.idNumber, villageCode: "360999101201", reason: "x" })).statusCode).toBe(403);
    expect((await call("POST", "changling.supervisor", "/api/v1/transfers/not-a-uuid/approve", {})).statusCode).toBe(400);
    expect((await call("GET", "changling.supervisor", "/api/v1/transfers?status=maybe")).statusCode).toBe(400);
    expect(await h.prisma.transferRequest.count({ where: { childId: child.id } })).toBe(0);
  });
});
