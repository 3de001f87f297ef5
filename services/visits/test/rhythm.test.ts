import { describe, expect, it } from "vitest";
import { itemDates, periodOn, periodsBetween, seedCalendar, seedRules, type SemesterCalendar } from "../src/domain/rhythm.js";
import { checkRecordDate } from "../src/domain/record.js";

describe("periods", () => {
  it("months run from the first to the last day, February included", () => {
    expect(periodOn("monthly", "2026-11-22", seedCalendar)).toEqual({ key: "2026-11", start: "2026-11-01", end: "2026-11-30" });
    expect(periodOn("monthly", "2028-02-10", seedCalendar)).toEqual({ key: "2028-02", start: "2028-02-01", end: "2028-02-29" });
    expect(periodOn("yearly", "2026-11-22", seedCalendar)).toEqual({ key: "2026", start: "2026-01-01", end: "2026-12-31" });
  });

  it("semesters: spring March–July, autumn September–January (named for the year it starts), nothing in the holidays", () => {
    expect(periodOn("semester", "2026-02-28", seedCalendar)).toBeNull();
    expect(periodOn("semester", "2026-03-01", seedCalendar)).toEqual({ key: "2026-spring", start: "2026-03-01", end: "2026-07-31" });
    expect(periodOn("semester", "2026-07-31", seedCalendar)?.key).toBe("2026-spring");
    expect(periodOn("semester", "2026-08-01", seedCalendar)).toBeNull();
    expect(periodOn("semester", "2026-08-31", seedCalendar)).toBeNull();
    expect(periodOn("semester", "2026-09-01", seedCalendar)).toEqual({ key: "2026-autumn", start: "2026-09-01", end: "2027-01-31" });
    expect(periodOn("semester", "2027-01-31", seedCalendar)?.key).toBe("2026-autumn");
    expect(periodOn("semester", "2027-02-01", seedCalendar)).toBeNull();
  });

  it("follows a county's own calendar", () => {
    const calendar: SemesterCalendar = { spring: { start: "02-20", end: "07-10" }, autumn: { start: "08-25", end: "01-20" } };
    expect(periodOn("semester", "2026-02-20", calendar)?.key).toBe("2026-spring");
    expect(periodOn("semester", "2026-07-11", calendar)).toBeNull();
    expect(periodOn("semester", "2026-08-25", calendar)).toEqual({ key: "2026-autumn", start: "2026-08-25", end: "2027-01-20" });
    expect(periodOn("semester", "2027-01-21", calendar)).toBeNull();
  });
});

describe("item dates", () => {
  it("due at the period's end plus grace, reminded before, escalated after", () => {
    const homeVisit = seedRules.find((r) => r.kind === "home_visit")!;
    expect(itemDates({ key: "2026-11", start: "2026-11-01", end: "2026-11-30" }, homeVisit)).toEqual({
      dueDate: "2026-12-05",
      remindOn: "2026-11-28",
      escalateOn: "2026-12-13",
    });
  });

  it("the seed rhythm: monthly home visit and parent call, a talk, guardian contact and letter each semester", () => {
    expect(seedRules.map((r) => `${r.kind}:${r.frequency}`)).toEqual([
      "home_visit:monthly",
      "parent_call:monthly",
      "talk:semester",
      "guardian_contact:semester",
      "letter:semester",
    ]);
  });
});

describe("record dates", () => {
  it("rejects the future and what lies beyond the back-dating window, naming the field", () => {
    expect(checkRecordDate("2026-11-22", "2026-11-22", 31)).toBeNull();
    expect(checkRecordDate("2026-11-23", "2026-11-22", 31)).toMatchObject({ field: "date", message: expect.stringContaining("不能晚于今天") });
    expect(checkRecordDate("2026-10-22", "2026-11-22", 31)).toBeNull();
    expect(checkRecordDate("2026-10-21", "2026-11-22", 31)).toMatchObject({ field: "date", message: expect.stringContaining("31天") });
  });
});

describe("periods between two days (the scan catching up)", () => {
  it("every month and semester holding a day of the range, holidays skipped, oldest first", () => {
    const keys = (f: "monthly" | "semester" | "yearly", from: string, to: string) => periodsBetween(f, from, to, seedCalendar).map((p) => p.key);
    expect(keys("monthly", "2026-11-30", "2027-01-03")).toEqual(["2026-11", "2026-12", "2027-01"]);
    expect(keys("monthly", "2026-11-22", "2026-11-22")).toEqual(["2026-11"]);
    // From the summer holidays to the winter holidays: the whole autumn semester, nothing for either holiday.
    expect(keys("semester", "2026-08-25", "2027-02-10")).toEqual(["2026-autumn"]);
    expect(keys("semester", "2026-07-20", "2027-03-01")).toEqual(["2026-spring", "2026-autumn", "2027-spring"]);
    expect(keys("semester", "2026-08-01", "2026-08-31")).toEqual([]);
    expect(keys("yearly", "2026-12-31", "2027-01-01")).toEqual(["2026", "2027"]);
    expect(keys("monthly", "2027-01-03", "2026-12-01")).toEqual([]);
  });
});
