import { describe, expect, it } from "vitest";
import type { ChildSnapshot, Envelope, EventData } from "@shouhu/contracts";
import { buildEvent, consumeEvent } from "@shouhu/messaging";
import { childSnapshot, type TestIssuer } from "@shouhu/testing";
import type { ServiceApp } from "@shouhu/kit";
import type { PrismaClient, Tx } from "../src/data/db.js";
import { visitEventHandlers } from "../src/events/handlers.js";
import { visitsTest } from "./fixtures.js";

const clock = { now: new Date("2026-11-22T02:00:00Z") };
const handlers = visitEventHandlers(() => clock.now);
const teacher = { kind: "user" as const, id: "teacher-1", name: "王老师" };

let prisma: PrismaClient;
let issuer: TestIssuer;
let app: ServiceApp;
visitsTest("dropout", { now: () => clock.now }).beforeAll(async ({ visits }) => {
  ({ prisma, issuer, app } = visits);
});

const deliver = (event: Envelope) => consumeEvent<Tx>(event, handlers, (fn) => prisma.$transaction(fn));

/** The registry's enrolment revision: each event here is newer than the one before unless a test says otherwise. */
let revision = 0;

function enrolment(child: ChildSnapshot, over: Partial<EventData<"enrolment.changed">> = {}, at = clock.now): Envelope {
  return buildEvent(
    "enrolment.changed",
    {
      subject: child.id,
      orgUnit: child.villageCode,
      actor: teacher,
      data: {
        child: { id: child.id, name: child.name, villageCode: child.villageCode, townshipCode: child.townshipCode },
        semester: "2026-2027-1",
        status: "dropped_out",
        previousStatus: "enrolled",
        school: { id: "S360999101001", name: "长岭乡中心小学", townshipCode: "360999101" },
        source: "import",
        note: null,
        revision: ++revision,
        ...over,
      },
    },
    { producer: "registry", now: at },
  );
}

describe("控辍保学: a child reported 辍学 raises a dropout-risk concern", () => {
  it("opens one case owned by the township, publishes concern.raised (urgent), once per event and once per open case", async () => {
    const child = childSnapshot({ name: "辍学娃" });
    await deliver(buildEvent("child.registered", { subject: child.id, orgUnit: child.villageCode, actor: teacher, data: { child } }, { producer: "registry" }));

    await deliver(enrolment(child, { status: "suspended", previousStatus: null }));
    expect(await prisma.concern.count({ where: { childId: child.id } })).toBe(0);

    const dropped = enrolment(child);
    await deliver(dropped);
    await deliver(dropped); // redelivered: the inbox has it
    const cases = await prisma.concern.findMany({ where: { childId: child.id } });
    expect(cases).toHaveLength(1);
    expect(cases[0]).toMatchObject({ category: "dropout_risk", status: "open", ownerOrgUnit: "360999101", raisedBy: "teacher-1", raisedByName: "王老师" });
    expect(cases[0]!.description).toContain("2026—2027学年第一学期，长岭乡中心小学学籍名单显示辍学娃辍学");
    const raised = await prisma.outboxEvent.findMany({ where: { type: "concern.raised", subject: child.id } });
    expect(raised).toHaveLength(1);
    expect((raised[0]!.envelope as { data: unknown }).data).toMatchObject({ category: "dropout_risk", urgent: true, ownerOrgUnit: "360999101" });

    // Reported again (next semester, by hand) while the case is open: a note on it, no second case.
    await deliver(enrolment(child, { semester: "2026-2027-2", source: "manual", note: "外出打工" }));
    expect(await prisma.concern.count({ where: { childId: child.id } })).toBe(1);
    expect(await prisma.concernNote.count({ where: { concernId: cases[0]!.id } })).toBe(1);

    // The township supervisor sees it in the concern list with the new category; a response limit applies.
    const res = await app.inject({ url: `/api/v1/concerns?childId=${child.id}`, headers: await issuer.as("changling.supervisor") });
    expect(res.statusCode).toBe(200);
    expect(res.json().items).toMatchObject([{ category: "dropout_risk", responseLimitHours: 48 }]);
    expect((await app.inject({ url: `/api/v1/concerns?category=dropout_risk`, headers: await issuer.as("changling.supervisor") })).statusCode).toBe(200);

    // Resolved (劝返复学), a later report opens a new case.
    await prisma.concern.update({ where: { id: cases[0]!.id }, data: { status: "resolved", resolvedAt: clock.now, resolution: "已返校" } });
    await deliver(enrolment(child, { semester: "2027-2028-1" }));
    expect(await prisma.concern.count({ where: { childId: child.id, category: "dropout_risk" } })).toBe(2);
  });

  it("a dropout risk reported by hand or with a visit joins the child's open dropout case; another category opens its own", async () => {
    const child = childSnapshot({ name: "劝返娃" });
    await deliver(buildEvent("child.registered", { subject: child.id, orgUnit: child.villageCode, actor: teacher, data: { child } }, { producer: "registry" }));
    const raise = async (category: string) =>
      app.inject({
        method: "POST",
        url: "/api/v1/concerns",
        headers: await issuer.as("changling.director"),
        payload: { childId: child.id, category, description: "听说要跟父母去外地打工，不上学了" },
      });
    const first = await raise("dropout_risk");
    expect(first.statusCode).toBe(201);
    const again = await raise("dropout_risk");
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ id: first.json().id, status: "open" });
    const visit = await app.inject({
      method: "POST",
      url: "/api/v1/visit-records",
      headers: await issuer.as("changling.director"),
      payload: { childId: child.id, kind: "home_visit", date: "2026-11-22", concern: { category: "dropout_risk", description: "家访时孩子说不想上学" } },
    });
    expect(visit.statusCode).toBe(201);
    expect(visit.json().concernId).toBe(first.json().id);
    expect(await prisma.concern.count({ where: { childId: child.id, category: "dropout_risk" } })).toBe(1);
    expect(await prisma.concernNote.count({ where: { concernId: first.json().id } })).toBe(2);
    // concern.raised once: the joins are notes on a case already reported.
    const raised = await prisma.outboxEvent.findMany({ where: { type: "concern.raised", subject: child.id } });
    expect(raised).toHaveLength(1);
    expect((await raise("safety")).statusCode).toBe(201);
    expect(await prisma.concern.count({ where: { childId: child.id } })).toBe(2);
  });
});

describe("控辍保学: enrolment events out of order or redelivered", () => {
  const registered = async (name: string) => {
    const child = childSnapshot({ name });
    await deliver(buildEvent("child.registered", { subject: child.id, orgUnit: child.villageCode, actor: teacher, data: { child } }, { producer: "registry" }));
    return child;
  };
  const dropoutCases = (childId: string) => prisma.concern.findMany({ where: { childId, category: "dropout_risk" } });
  const raisedEvents = (childId: string) => prisma.outboxEvent.count({ where: { type: "concern.raised", subject: childId } });

  it("a stale 辍学 arriving after the child is recorded back 在读 opens nothing", async () => {
    const child = await registered("复学娃");
    const dropped = enrolment(child, { revision: 1 }, new Date("2026-11-20T02:00:00Z"));
    const back = enrolment(child, { status: "enrolled", previousStatus: "dropped_out", revision: 2 }, new Date("2026-11-21T02:00:00Z"));
    await deliver(back);
    await deliver(dropped);
    expect(await dropoutCases(child.id)).toHaveLength(0);
    expect(await raisedEvents(child.id)).toBe(0);
    expect(await prisma.enrolment.findUnique({ where: { childId_semester: { childId: child.id, semester: "2026-2027-1" } } })).toMatchObject({
      status: "enrolled",
      revision: 2,
    });
    // Another semester is its own line: a 辍学 there still opens a case.
    await deliver(enrolment(child, { semester: "2026-2027-2", revision: 1 }));
    expect(await dropoutCases(child.id)).toHaveLength(1);
  });

  it("in order, 辍学 opens one case; the later 在读 leaves it for the township to close", async () => {
    const child = await registered("顺序娃");
    await deliver(enrolment(child, { status: "enrolled", previousStatus: null, revision: 1 }));
    await deliver(enrolment(child, { revision: 2 }));
    await deliver(enrolment(child, { status: "enrolled", previousStatus: "dropped_out", revision: 3 }));
    expect(await dropoutCases(child.id)).toHaveLength(1);
    expect(await raisedEvents(child.id)).toBe(1);
  });

  it("a redelivered 辍学 (the same event, or a copy under a new id) opens no second case and adds no note, even once the case is resolved", async () => {
    const child = await registered("重投娃");
    const dropped = enrolment(child, { revision: 1 });
    await deliver(dropped);
    await deliver(dropped);
    await deliver({ ...dropped, id: enrolment(child).id });
    const [only, ...rest] = await dropoutCases(child.id);
    expect(rest).toHaveLength(0);
    expect(await prisma.concernNote.count({ where: { concernId: only!.id } })).toBe(0);
    await prisma.concern.update({ where: { id: only!.id }, data: { status: "resolved", resolvedAt: clock.now, resolution: "已返校" } });
    await deliver({ ...dropped, id: enrolment(child).id });
    expect(await dropoutCases(child.id)).toHaveLength(1);
    expect(await raisedEvents(child.id)).toBe(1);
  });

  it("events published before the revision was carried order by occurredAt, below any with a revision", async () => {
    const child = await registered("旧事件娃");
    const legacy = (status: "enrolled" | "dropped_out", at: string) => {
      const e = enrolment(child, { status }, new Date(at));
      delete (e.data as { revision?: number }).revision;
      return e;
    };
    await deliver(legacy("enrolled", "2026-11-21T02:00:00Z"));
    await deliver(legacy("dropped_out", "2026-11-20T02:00:00Z"));
    expect(await dropoutCases(child.id)).toHaveLength(0);
    // A newer one with a revision wins over any legacy event; a legacy event after it changes nothing.
    await deliver(enrolment(child, { status: "enrolled", revision: 1 }, new Date("2026-11-19T02:00:00Z")));
    await deliver(legacy("dropped_out", "2026-11-22T02:00:00Z"));
    expect(await dropoutCases(child.id)).toHaveLength(0);
  });
});
