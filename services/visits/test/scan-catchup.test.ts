// The daily scan did not run for a while (worker down for a month, across a
// semester's end): the next scan must create every missed period's items, so
// they are overdue and escalate as usual and no child drops out of sight.
// Each scenario has its own database: a scan covers every county, and the
// scenarios' clocks overlap.
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "@shouhu/db";
import type { ChildSnapshot, Envelope } from "@shouhu/contracts";
import { buildEvent, consumeEvent } from "@shouhu/messaging";
import { childSnapshot, createTestDatabase, type TestDatabase } from "@shouhu/testing";
import { createPrisma, type PrismaClient, type Tx } from "../src/data/db.js";
import { visitEventHandlers } from "../src/events/handlers.js";
import { dailyScan, type ScanResult } from "../src/data/scan.js";
import { saveRuleSet } from "../src/data/rules.js";
import { seedCalendar, type VisitRule } from "../src/domain/rhythm.js";

const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));
/** 10:00 China time on that day. */
const at = (date: string) => new Date(`${date}T02:00:00Z`);

interface Item {
  kind: string;
  period: string;
  dueDate: string;
  reminded: boolean;
  overdue: boolean;
  escalated: boolean;
}

/** A database of its own, a controllable clock, and the registry's events delivered through the real consumer. */
function scenario(name: string) {
  const s = {
    db: undefined as unknown as TestDatabase,
    prisma: undefined as unknown as PrismaClient,
    clock: { now: at("2026-11-22") },
    setToday(date: string) {
      s.clock.now = at(date);
    },
    /** The registry registered the child on `registeredOn`; this worker consumes the event now (clock). */
    async register(countyCode: string, registeredOn = s.clock.now.toISOString().slice(0, 10)): Promise<ChildSnapshot> {
      const child = childSnapshot({
        name: "张小明",
        sex: "male",
        birthDate: "2014-05-01",
        villageCode: `${countyCode}101201`,
        townshipCode: `${countyCode}101`,
        countyCode,
        schoolId: null,
        schoolName: null,
        riskLevel: "low",
      });
      const event = buildEvent(
        "child.registered",
        { subject: child.id, orgUnit: child.villageCode, actor: { kind: "user", id: "r", name: "登记员" }, data: { child } },
        { producer: "registry", now: at(registeredOn) },
      );
      await consumeEvent<Tx>(
        event,
        visitEventHandlers(() => s.clock.now),
        (fn) => s.prisma.$transaction(fn),
      );
      return child;
    },
    scan: (date: string): Promise<ScanResult> => dailyScan(s.prisma, at(date)),
    async items(childId: string): Promise<Item[]> {
      return s.prisma.$queryRawUnsafe<Item[]>(
        `SELECT kind, period_key AS period, to_char(due_date, 'YYYY-MM-DD') AS "dueDate", reminded_at IS NOT NULL AS reminded,
                overdue_notified_at IS NOT NULL AS overdue, escalated_at IS NOT NULL AS escalated
           FROM due_items WHERE child_id = $1::uuid ORDER BY period_start, kind`,
        childId,
      );
    },
    /** The child's events of a type, [kind, period, daysLeft] or [kind, period, level, daysOverdue], sorted (a batch's order is the items' random ids'). */
    async events(type: "visit.due" | "visit.overdue", childId: string): Promise<unknown[][]> {
      const rows = await s.prisma.outboxEvent.findMany({ where: { type, subject: childId }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
      const events = rows.map((r) => {
        const d = (r.envelope as unknown as Envelope).data as { kind: string; period: string; level?: number; daysLeft?: number; daysOverdue?: number };
        return type === "visit.due" ? [d.kind, d.period, d.daysLeft] : [d.kind, d.period, d.level, d.daysOverdue];
      });
      return events.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    },
  };
  beforeAll(async () => {
    s.db = await createTestDatabase(name);
    await migrate({ databaseUrl: s.db.url, migrationsDir });
    s.prisma = createPrisma(s.db.url);
  });
  afterAll(async () => {
    await s.prisma?.$disconnect();
    await s.db?.drop();
  });
  return s;
}

const keys = (items: Item[]) => items.map((i) => `${i.kind}:${i.period}`);
const monthly = (periods: string[]) => periods.flatMap((p) => [`home_visit:${p}`, `parent_call:${p}`]);
const semester = (period: string) => ["guardian_contact", "letter", "talk"].map((k) => `${k}:${period}`);

describe("worker down for all of December (seed rhythm: due 5 days after the month)", () => {
  const s = scenario("visits_catchup_dec");

  it("on 2027-01-03 December's items exist and are reminded (due 01-05), overdue on 01-06 and escalated on 01-13; November's are overdue and escalated at once", async () => {
    s.setToday("2026-11-22");
    const child = await s.register("360999");
    await s.scan("2026-11-30"); // the last scan before the outage

    const result = await s.scan("2027-01-03");
    // December's and January's monthly items, created by this one scan.
    expect(result.itemsCreated).toBe(4);
    const items = await s.items(child.id);
    expect(keys(items).sort()).toEqual([...monthly(["2026-11", "2026-12", "2027-01"]), ...semester("2026-autumn")].sort());
    const december = items.filter((i) => i.period === "2026-12");
    expect(december.map((i) => i.dueDate)).toEqual(["2027-01-05", "2027-01-05"]);
    // Still in time (grace to 01-05): a reminder, not an overdue.
    expect(await s.events("visit.due", child.id)).toEqual([
      ["home_visit", "2026-11", 5],
      ["home_visit", "2026-12", 2],
      ["parent_call", "2026-11", 5],
      ["parent_call", "2026-12", 2],
    ]);
    // November's items, due 12-05 and escalation-due 12-13, were missed during the outage: both at once, once.
    expect(await s.events("visit.overdue", child.id)).toEqual([
      ["home_visit", "2026-11", 1, 29],
      ["home_visit", "2026-11", 2, 29],
      ["parent_call", "2026-11", 1, 29],
      ["parent_call", "2026-11", 2, 29],
    ]);

    await s.scan("2027-01-05");
    expect((await s.events("visit.overdue", child.id)).filter((e) => e[1] === "2026-12")).toEqual([]);
    await s.scan("2027-01-06");
    await s.scan("2027-01-12");
    expect((await s.events("visit.overdue", child.id)).filter((e) => e[1] === "2026-12")).toEqual([
      ["home_visit", "2026-12", 1, 1],
      ["parent_call", "2026-12", 1, 1],
    ]);
    await s.scan("2027-01-13");
    await s.scan("2027-01-13");
    expect((await s.events("visit.overdue", child.id)).filter((e) => e[1] === "2026-12")).toEqual([
      ["home_visit", "2026-12", 1, 1],
      ["home_visit", "2026-12", 2, 8],
      ["parent_call", "2026-12", 1, 1],
      ["parent_call", "2026-12", 2, 8],
    ]);
  });
});

describe("worker down for all of December (a county whose month's visit is due within the month)", () => {
  const s = scenario("visits_catchup_dec0");
  const county = "360998";
  const rule = (kind: "home_visit" | "parent_call"): VisitRule => ({
    kind,
    frequency: "monthly",
    responsible: "mentor",
    graceDays: 0,
    remindDaysBefore: 3,
    escalateAfterDays: 5,
  });

  it("on 2027-01-03 December's items exist and are overdue, with no reminder for a day gone by, and escalate on 01-06; a child registered mid-outage has items only from its since", async () => {
    s.setToday("2026-11-22");
    await saveRuleSet(s.prisma, county, [rule("home_visit"), rule("parent_call")], seedCalendar, "county.admin", s.clock.now);
    const child = await s.register(county);
    await s.scan("2026-11-30");
    // The scan is down, but the event consumers still run: a child registered on 12-15 gets December's items at once.
    s.setToday("2026-12-15");
    const consumedAtOnce = await s.register(county);
    expect(keys(await s.items(consumedAtOnce.id))).toEqual(monthly(["2026-12"]));

    // Back on 01-03: the scan catches up first, then the queue of events that waited out the outage.
    s.setToday("2027-01-03");
    await s.scan("2027-01-03");
    const lateEvent = await s.register(county, "2026-12-20");

    const items = await s.items(child.id);
    expect(keys(items)).toEqual(monthly(["2026-11", "2026-12", "2027-01"]));
    const december = items.filter((i) => i.period === "2026-12");
    expect(december.every((i) => i.dueDate === "2026-12-31" && i.overdue && !i.reminded && !i.escalated)).toBe(true);
    expect((await s.events("visit.overdue", child.id)).filter((e) => e[1] === "2026-12")).toEqual([
      ["home_visit", "2026-12", 1, 3],
      ["parent_call", "2026-12", 1, 3],
    ]);
    // Past due when created: no visit.due for December (only November's, sent before the outage).
    expect((await s.events("visit.due", child.id)).map((e) => e[1])).toEqual(["2026-11", "2026-11"]);

    // Registered on 12-20 (the event's day), not on the day the worker got to it: December and January, never November.
    const since = await s.prisma.$queryRawUnsafe<{ since: string }[]>(
      `SELECT to_char(since, 'YYYY-MM-DD') AS since FROM children WHERE id = $1::uuid`,
      lateEvent.id,
    );
    expect(since).toEqual([{ since: "2026-12-20" }]);
    expect(keys(await s.items(lateEvent.id))).toEqual(monthly(["2026-12", "2027-01"]));
    expect(keys(await s.items(consumedAtOnce.id))).toEqual(monthly(["2026-12", "2027-01"]));

    await s.scan("2027-01-04");
    for (const c of [consumedAtOnce, lateEvent]) {
      expect((await s.events("visit.overdue", c.id)).map((e) => `${e[0]}:${e[1]}:${e[2]}`)).toEqual(["home_visit:2026-12:1", "parent_call:2026-12:1"]);
      expect(await s.events("visit.due", c.id)).toEqual([]);
    }
    await s.scan("2027-01-05");
    expect((await s.events("visit.overdue", child.id)).filter((e) => e[1] === "2026-12" && e[2] === 2)).toEqual([]);
    await s.scan("2027-01-06"); // 12-31 + 5 days + 1
    for (const c of [child, consumedAtOnce, lateEvent]) {
      expect((await s.events("visit.overdue", c.id)).filter((e) => e[1] === "2026-12" && e[2] === 2)).toEqual([
        ["home_visit", "2026-12", 2, 6],
        ["parent_call", "2026-12", 2, 6],
      ]);
    }
  });
});

describe("worker down from the summer holidays to the winter holidays (the whole autumn semester)", () => {
  const s = scenario("visits_catchup_sem");

  it("on 2027-02-10 autumn's items exist and are overdue without a reminder, the missed months are overdue (and escalated when that day has passed), spring comes on 03-01", async () => {
    s.setToday("2026-07-20");
    const child = await s.register("360997");
    await s.scan("2026-08-25"); // summer holidays: August's months, no semester
    expect(keys(await s.items(child.id)).sort()).toEqual([...semester("2026-spring"), ...monthly(["2026-07", "2026-08"])].sort());

    s.setToday("2027-02-10");
    const result = await s.scan("2027-02-10"); // winter holidays: no semester holds this day
    // September–February's months and autumn's three semester items.
    expect(result.itemsCreated).toBe(6 * 2 + 3);
    const autumn = (await s.items(child.id)).filter((i) => i.period === "2026-autumn");
    expect(autumn.map((i) => i.kind)).toEqual(["guardian_contact", "letter", "talk"]);
    expect(autumn.every((i) => i.dueDate === "2027-02-07" && i.overdue && !i.reminded && !i.escalated)).toBe(true);

    const overdue = await s.events("visit.overdue", child.id);
    // Level 1 once for every item past due; level 2 only where the escalation day (due + 7 + 1 for months) has passed: not January's (02-13).
    const level = (l: number) =>
      overdue
        .filter((e) => e[2] === l && e[0] !== "talk" && e[0] !== "letter" && e[0] !== "guardian_contact")
        .map((e) => `${e[0]}:${e[1]}`)
        .sort();
    expect(level(1)).toEqual(monthly(["2026-07", "2026-08", "2026-09", "2026-10", "2026-11", "2026-12", "2027-01"]).sort());
    expect(level(2)).toEqual(monthly(["2026-07", "2026-08", "2026-09", "2026-10", "2026-11", "2026-12"]).sort());
    expect(overdue.filter((e) => e[1] === "2026-autumn")).toEqual([
      ["guardian_contact", "2026-autumn", 1, 3],
      ["letter", "2026-autumn", 1, 3],
      ["talk", "2026-autumn", 1, 3],
    ]);
    // Nothing reminded for a period long gone; February's reminder is not due until 02-26.
    expect((await s.events("visit.due", child.id)).filter((e) => e[1] !== "2026-07" && e[1] !== "2026-08" && e[1] !== "2026-spring")).toEqual([]);

    // A child the registry registered on 10-15, whose event waited out the outage too: autumn and October on, nothing of spring or September.
    const late = await s.register("360997", "2026-10-15");
    expect(keys(await s.items(late.id)).sort()).toEqual(
      [...monthly(["2026-10", "2026-11", "2026-12", "2027-01", "2027-02"]), ...semester("2026-autumn")].sort(),
    );

    await s.scan("2027-02-22"); // autumn's escalation day: 02-07 + 14 + 1
    expect((await s.events("visit.overdue", child.id)).filter((e) => e[1] === "2026-autumn" && e[2] === 2).map((e) => e[0])).toEqual([
      "guardian_contact",
      "letter",
      "talk",
    ]);
    await s.scan("2027-03-01");
    expect(
      keys(await s.items(child.id))
        .filter((k) => k.endsWith("2027-spring"))
        .sort(),
    ).toEqual(semester("2027-spring"));
  });
});

describe("two catch-up scans at once", () => {
  const s = scenario("visits_catchup_two");

  it("create each missed item once and send each overdue event once", async () => {
    s.setToday("2026-11-22");
    const children = [];
    for (let i = 0; i < 12; i++) children.push(await s.register("360996"));
    await s.scan("2026-11-30");
    const other = createPrisma(s.db.url);
    try {
      const results = await Promise.all([dailyScan(s.prisma, at("2027-01-08"), { batchSize: 5 }), dailyScan(other, at("2027-01-08"), { batchSize: 5 })]);
      // December's and January's two monthly items per child, whichever scan inserted them.
      expect(results[0]!.itemsCreated + results[1]!.itemsCreated).toBe(children.length * 4);
      // November's and December's (due 01-05) items are overdue: 4 per child, each once.
      expect(results[0]!.overdue + results[1]!.overdue).toBe(children.length * 4);
      const perItem = await s.prisma.$queryRawUnsafe<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM outbox WHERE type = 'visit.overdue' GROUP BY envelope->'data'->>'itemId', envelope->'data'->>'level'`,
      );
      expect(perItem).toHaveLength(children.length * 4 + children.length * 2); // level 1 for four, level 2 for November's two (12-13)
      expect(perItem.every((r) => r.n === 1)).toBe(true);
      const state = await s.prisma.$queryRawUnsafe<{ day: string }[]>(
        `SELECT to_char(last_scanned_on, 'YYYY-MM-DD') AS day FROM scan_state WHERE county_code = '360996'`,
      );
      expect(state).toEqual([{ day: "2027-01-08" }]);
    } finally {
      await other.$disconnect();
    }
  });
});
