import { beforeAll, describe, expect, it } from "vitest";
import { ageOutChildren } from "../src/jobs/age-out.js";
import { childBody, residentId, registryTest, type Harness } from "./harness.js";

let h: Harness;
registryTest("children").beforeAll(async ({ registry }) => {
  h = registry;
});

async function create(username: string, body: Record<string, unknown>) {
  return h.app.inject({ method: "POST", url: "/api/v1/children", headers: await h.as(username), payload: body });
}

async function outboxTypes(subject: string): Promise<string[]> {
  const rows = await h.prisma.outboxEvent.findMany({ where: { subject }, orderBy: { createdAt: "asc" } });
  return rows.map((r) => r.type);
}

describe("registering a child", () => {
  it("requires a token", async () => {
    const res = await h.app.inject({ method: "POST", url: "/api/v1/children", payload: childBody() });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe("UNAUTHORIZED");
  });

  it("stores the child, its first history entry and child.registered in the outbox", async () => {
    const res = await create("changling.supervisor", childBody({ seq: 10 }));
    expect(res.statusCode).toBe(201);
    const child = res.json();
    expect(child).toMatchObject({
      name: "李小花",
      villageCode: "360999101201",
      townshipCode: "360999101",
      status: "active",
      revision: 1,
      schoolName: "长岭乡中心小学",
    });
    expect(res.headers["x-shouhu-audit"]).toBe(JSON.stringify({ action: "create", childIds: [child.id] }));
    expect(await outboxTypes(child.id)).toEqual(["child.registered"]);
    const event = (await h.prisma.outboxEvent.findFirst({ where: { subject: child.id } }))!.envelope as Record<string, any>;
    expect(event).toMatchObject({ type: "child.registered", producer: "registry", orgUnit: "360999101201", subject: child.id });
    expect(event.data.child.guardian).toEqual({ name: "李大山", relation: "祖父", phone: "13907310001" });
    const history = await h.app.inject({ url: `/api/v1/children/${child.id}/history`, headers: await h.as("changling.supervisor") });
    expect(history.json().items).toHaveLength(1);
    expect(history.json().items[0]).toMatchObject({ revision: 1, action: "created" });
  });

  it("rejects a wrong check digit naming the field", async () => {
    const good = residentId("360999", "2015-03-07", 11, "female");
    const wrong = good.slice(0, 17) + (good[17] === "1" ? "2" : "1");
    const res = await create("changling.supervisor", childBody({ idNumber: wrong }));
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.map((d: { field: string }) => d.field)).toContain("idNumber");
  });

  it("rejects an ID number whose birth date or sex disagrees with the record", async () => {
    const id = residentId("360999", "2015-03-07", 12, "female");
    const res = await create("changling.supervisor", childBody({ idNumber: id, birthDate: "2015-03-08" }));
    expect(res.statusCode).toBe(400);
    const res2 = await create("changling.supervisor", childBody({ idNumber: id, sex: "male" }));
    expect(res2.statusCode).toBe(400);
  });

  it("accepts a real ID with an X check digit typed in lower case and full width digits", async () => {
    // 36099920150307003X: check digit X (computed by GB 11643 MOD 11-2).
    const res = await create("changling.supervisor", childBody({ idNumber: "３６０９９９２０１５０３０７００３x", sex: "male", name: "王小明" }));
    expect(res.statusCode).toBe(201);
    expect(res.json().idNumber).toBe("36099920150307003X");
  });

  it("refuses a second record for the same ID number and points at the first", async () => {
    const body = childBody({ seq: 20 });
    const first = await create("changling.supervisor", body);
    expect(first.statusCode).toBe(201);
    const second = await create("county.admin", { ...body, name: "李小花二" });
    expect(second.statusCode).toBe(409);
    expect(second.json().error).toMatchObject({ code: "DUPLICATE_CHILD", details: { field: "idNumber", existingChildId: first.json().id } });
    expect(await h.prisma.child.count({ where: { idNumber: body.idNumber } })).toBe(1);
  });

  it("a duplicate outside the caller's jurisdiction answers REGISTERED_ELSEWHERE and nothing about the record", async () => {
    const body = childBody({ seq: 41 });
    const first = await create("changling.supervisor", body);
    expect(first.statusCode).toBe(201);
    // 石门镇's supervisor registers the same ID number in their own village.
    const second = await create("shimen.supervisor", { ...body, villageCode: "360999102201", schoolId: undefined, name: "李小花" });
    expect(second.statusCode).toBe(409);
    expect(second.json()).toEqual({
      error: { code: "REGISTERED_ELSEWHERE", message: "该儿童已在其他辖区登记,请联系县民政局办理转移", details: { field: "idNumber" } },
    });
    for (const leak of [first.json().id, "360999101", "长岭"]) expect(second.body).not.toContain(leak);
    expect(await h.prisma.child.count({ where: { idNumber: body.idNumber } })).toBe(1);
  });

  it("refuses two concurrent registrations of the same ID with one record", async () => {
    const body = childBody({ seq: 21 });
    const results = await Promise.all([create("changling.supervisor", body), create("county.admin", body), create("changling.director", body)]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409, 409]);
    expect(await h.prisma.child.count({ where: { idNumber: body.idNumber } })).toBe(1);
  });

  it("rejects unknown villages and schools with the field named, and writes nothing", async () => {
    const before = await h.prisma.child.count();
    const res = await create("county.admin", childBody({ seq: 22, villageCode: "360999101299" }));
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details[0].field).toBe("villageCode");
    const res2 = await create("county.admin", childBody({ seq: 23, schoolId: "S000" }));
    expect(res2.statusCode).toBe(400);
    expect(res2.json().error.details[0].field).toBe("schoolId");
    expect(await h.prisma.child.count()).toBe(before);
  });

  it("does not let a township register a child in another township, nor a teacher register at all", async () => {
    const res = await create("shimen.supervisor", childBody({ seq: 24 }));
    expect(res.statusCode).toBe(403);
    const res2 = await create("changling.teacher", childBody({ seq: 25 }));
    expect(res2.statusCode).toBe(403);
  });

  it("rejects a child who is already 16", async () => {
    const res = await create("county.admin", childBody({ seq: 26, birthDate: "2010-01-05" }));
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.map((d: { field: string }) => d.field)).toContain("birthDate");
  });

  it("never answers bad JSON with a 500", async () => {
    const res = await h.app.inject({
      method: "POST",
      url: "/api/v1/children",
      headers: { ...(await h.as("county.admin")), "content-type": "application/json" },
      payload: "{",
    });
    expect(res.statusCode).toBe(400);
    const res2 = await create("county.admin", { name: 5 });
    expect(res2.statusCode).toBe(400);
  });
});

describe("jurisdiction", () => {
  let changlingChild: string;
  let baishuiChild: string;
  let shimenChild: string;
  beforeAll(async () => {
    changlingChild = (await create("county.admin", childBody({ seq: 30, name: "长岭甲" }))).json().id;
    baishuiChild = (await create("county.admin", childBody({ seq: 31, name: "白水乙", villageCode: "360999101202", address: "白水村1组" }))).json().id;
    shimenChild = (
      await create("county.admin", childBody({ seq: 32, name: "石门丙", villageCode: "360999102201", address: "石门村2组", schoolId: "S360999102001" }))
    ).json().id;
  });

  it("a township user cannot read another township's child (404, nothing revealed)", async () => {
    const res = await h.app.inject({ url: `/api/v1/children/${shimenChild}`, headers: await h.as("changling.supervisor") });
    expect(res.statusCode).toBe(404);
    const own = await h.app.inject({ url: `/api/v1/children/${changlingChild}`, headers: await h.as("changling.supervisor") });
    expect(own.statusCode).toBe(200);
  });

  it("a township user cannot list another township, and sees only their own in an open list", async () => {
    const res = await h.app.inject({ url: "/api/v1/children?orgUnit=360999102", headers: await h.as("changling.supervisor") });
    expect(res.statusCode).toBe(403);
    const all = await h.app.inject({ url: "/api/v1/children?limit=200", headers: await h.as("changling.supervisor") });
    const codes = new Set(all.json().items.map((c: { townshipCode: string }) => c.townshipCode));
    expect([...codes]).toEqual(["360999101"]);
  });

  it("a village director sees only their village", async () => {
    const list = await h.app.inject({ url: "/api/v1/children?limit=200", headers: await h.as("changling.director") });
    const villages = new Set(list.json().items.map((c: { villageCode: string }) => c.villageCode));
    expect([...villages]).toEqual(["360999101201"]);
    const other = await h.app.inject({ url: `/api/v1/children/${baishuiChild}`, headers: await h.as("changling.director") });
    expect(other.statusCode).toBe(404);
  });

  it("a teacher sees their school's children only", async () => {
    const list = await h.app.inject({ url: "/api/v1/children?limit=200", headers: await h.as("changling.teacher") });
    const schools = new Set(list.json().items.map((c: { schoolId: string }) => c.schoolId));
    expect([...schools]).toEqual(["S360999101001"]);
    const other = await h.app.inject({ url: `/api/v1/children/${shimenChild}`, headers: await h.as("changling.teacher") });
    expect(other.statusCode).toBe(404);
  });

  it("the county sees every township", async () => {
    const res = await h.app.inject({ url: `/api/v1/children/${shimenChild}`, headers: await h.as("county.admin") });
    expect(res.statusCode).toBe(200);
  });
});

describe("masking by role", () => {
  let id: string;
  beforeAll(async () => {
    id = (await create("county.admin", childBody({ seq: 40, name: "遮挡测试" }))).json().id;
  });

  it("an inspector sees the ID number's region only, and no contacts or notes", async () => {
    const res = await h.app.inject({ url: `/api/v1/children/${id}`, headers: await h.as("county.inspector") });
    expect(res.statusCode).toBe(200);
    const child = res.json();
    expect(child.idNumber).toBe("360999************");
    expect(child.guardians).toEqual([]);
    expect(child.parents).toEqual([]);
    expect(child.address).toBeNull();
    expect(child.healthNotes).toBeNull();
    expect(child.psychologicalNotes).toBeNull();
    expect(JSON.stringify(child)).not.toMatch(/1390731|20150307/);
  });

  it("a teacher not paired with the child sees the ID number's region and no family contacts", async () => {
    const res = await h.app.inject({ url: `/api/v1/children/${id}`, headers: await h.as("changling.teacher") });
    const child = res.json();
    expect(child.idNumber).toBe("360999************");
    expect(child.guardians).toEqual([]);
    expect(child.psychologicalNotes).toBeNull();
  });

  it("a township supervisor sees everything", async () => {
    const child = (await h.app.inject({ url: `/api/v1/children/${id}`, headers: await h.as("changling.supervisor") })).json();
    expect(child.idNumber).toHaveLength(18);
    expect(child.psychologicalNotes).toBe("性格内向");
  });

  it("an inspector cannot search by ID-number fragment", async () => {
    const child = (await h.app.inject({ url: `/api/v1/children/${id}`, headers: await h.as("county.admin") })).json();
    const res = await h.app.inject({ url: `/api/v1/children?q=${child.idNumber.slice(6, 14)}`, headers: await h.as("county.inspector") });
    expect(res.json().items).toHaveLength(0);
    const admin = await h.app.inject({ url: `/api/v1/children?q=${child.idNumber.slice(6, 14)}`, headers: await h.as("county.admin") });
    expect(admin.json().items.map((c: { id: string }) => c.id)).toContain(id);
  });
});

describe("changes and history", () => {
  it("records field-level before/after and publishes child.updated", async () => {
    const id = (await create("county.admin", childBody({ seq: 50, name: "修改测试" }))).json().id;
    const res = await h.app.inject({
      method: "PATCH",
      url: `/api/v1/children/${id}`,
      headers: await h.as("changling.supervisor"),
      payload: { riskLevel: "high", grade: "五年级", revision: 1 },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ riskLevel: "high", grade: "五年级", revision: 2 });
    const history = (await h.app.inject({ url: `/api/v1/children/${id}/history`, headers: await h.as("changling.supervisor") })).json().items;
    expect(history[1]).toMatchObject({ revision: 2, action: "updated", actor: { role: "township-supervisor" } });
    expect(history[1].changes).toEqual(
      expect.arrayContaining([
        { field: "riskLevel", before: "medium", after: "high" },
        { field: "grade", before: "四年级", after: "五年级" },
      ]),
    );
    expect(history[1].changes).toHaveLength(2);
    expect(await outboxTypes(id)).toEqual(["child.registered", "child.updated"]);
  });

  it("a stale revision is refused with 409 and changes nothing", async () => {
    const id = (await create("county.admin", childBody({ seq: 51 }))).json().id;
    await h.app.inject({ method: "PATCH", url: `/api/v1/children/${id}`, headers: await h.as("county.admin"), payload: { grade: "五年级", revision: 1 } });
    const stale = await h.app.inject({
      method: "PATCH",
      url: `/api/v1/children/${id}`,
      headers: await h.as("county.admin"),
      payload: { grade: "六年级", revision: 1 },
    });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().error.code).toBe("STALE_REVISION");
  });

  it("an update that changes nothing records nothing", async () => {
    const id = (await create("county.admin", childBody({ seq: 52 }))).json().id;
    const res = await h.app.inject({ method: "PATCH", url: `/api/v1/children/${id}`, headers: await h.as("county.admin"), payload: { grade: "四年级" } });
    expect(res.statusCode).toBe(200);
    expect(res.json().revision).toBe(1);
    expect(await outboxTypes(id)).toEqual(["child.registered"]);
  });

  it("bad patch values are 400 naming the field", async () => {
    const id = (await create("county.admin", childBody({ seq: 53 }))).json().id;
    const res = await h.app.inject({ method: "PATCH", url: `/api/v1/children/${id}`, headers: await h.as("county.admin"), payload: { riskLevel: "extreme" } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details[0].field).toBe("riskLevel");
  });
});

describe("status", () => {
  async function setStatus(id: string, payload: Record<string, unknown>, user = "changling.supervisor") {
    return h.app.inject({ method: "POST", url: `/api/v1/children/${id}/status`, headers: await h.as(user), payload });
  }

  it("exits with a reason, records it, publishes child.status-changed; re-admission after a reversible exit", async () => {
    const id = (await create("county.admin", childBody({ seq: 60 }))).json().id;
    expect((await setStatus(id, { status: "exited" })).statusCode).toBe(400);
    const exited = await setStatus(id, { status: "exited", reason: "parent_returned", note: "母亲返乡照顾" });
    expect(exited.statusCode).toBe(200);
    expect(exited.json()).toMatchObject({ status: "exited", exitReason: "parent_returned", exitedAt: "2026-11-22" });
    expect((await setStatus(id, { status: "exited", reason: "moved_away" })).statusCode).toBe(409);
    const back = await setStatus(id, { status: "active", note: "母亲再次外出务工" });
    expect(back.statusCode).toBe(200);
    expect(back.json()).toMatchObject({ status: "active", exitReason: null });
    expect(await outboxTypes(id)).toEqual(["child.registered", "child.status-changed", "child.status-changed"]);
  });

  it("death is final; turning 16 cannot be claimed early", async () => {
    const id = (await create("county.admin", childBody({ seq: 61 }))).json().id;
    expect((await setStatus(id, { status: "exited", reason: "turned_16" })).statusCode).toBe(400);
    expect((await setStatus(id, { status: "exited", reason: "deceased" })).statusCode).toBe(200);
    const back = await setStatus(id, { status: "active" });
    expect(back.statusCode).toBe(409);
    expect(back.json().error.code).toBe("STATUS_FINAL");
  });

  it("the age-out job exits children who turned 16, once, with an event", async () => {
    const id = (await create("county.admin", childBody({ seq: 62, birthDate: "2010-11-25", name: "将满16岁" }))).json().id;
    expect((await ageOutChildren(h.prisma, "2026-11-24")).exited).toBe(0);
    const [a, b] = await Promise.all([ageOutChildren(h.prisma, "2026-11-25"), ageOutChildren(h.prisma, "2026-11-25")]);
    expect(a.exited + b.exited).toBeGreaterThanOrEqual(1);
    const child = await h.prisma.child.findUnique({ where: { id } });
    expect(child).toMatchObject({ status: "exited", exitReason: "turned_16" });
    expect((await outboxTypes(id)).filter((t) => t === "child.status-changed")).toHaveLength(1);
    expect((await ageOutChildren(h.prisma, "2026-11-26")).exited).toBe(0);
  });
});

describe("contact card", () => {
  it("shows child, guardian, parents, school and place names", async () => {
    const id = (await create("county.admin", childBody({ seq: 70, helperName: "张老师" }))).json().id;
    const res = await h.app.inject({ url: `/api/v1/children/${id}/contact-card`, headers: await h.as("changling.director") });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      child: { id, sexLabel: "女", leftBehindTypeLabel: "双留守" },
      address: { village: "长岭村", township: "长岭乡", detail: "长岭村3组" },
      school: { name: "长岭乡中心小学", grade: "四年级" },
      guardians: [{ name: "李大山", phone: "13907310001" }],
      helper: { name: "张老师" },
    });
    expect(res.json().parents).toHaveLength(2);
  });
});

describe("listing", () => {
  it("pages with a cursor and filters", async () => {
    const headers = await h.as("county.admin");
    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const res: { statusCode: number; json: () => any } = await h.app.inject({ url: `/api/v1/children?limit=3${cursor ? `&cursor=${cursor}` : ""}`, headers });
      expect(res.statusCode).toBe(200);
      for (const c of res.json().items) seen.add(c.id);
      cursor = res.json().nextCursor;
    } while (cursor);
    expect(seen.size).toBe(await h.prisma.child.count());
    const high = await h.app.inject({ url: "/api/v1/children?riskLevel=high&status=active", headers });
    expect(high.json().items.every((c: { riskLevel: string }) => c.riskLevel === "high")).toBe(true);
    const bad = await h.app.inject({ url: "/api/v1/children?limit=5000", headers });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details[0].field).toBe("limit");
  });
});
