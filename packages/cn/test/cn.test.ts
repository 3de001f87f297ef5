import { describe, expect, it } from "vitest";
import {
  ageOn,
  bornOnOrBefore,
  excelSerialToIso,
  normalizeDate,
  normalizeName,
  normalizePhone,
  parseSemester,
  semesterOf,
  todayInChina,
  toHalfWidth,
} from "../src/index.js";

describe("normalising what staff type", () => {
  it("turns full-width characters half-width and cleans names", () => {
    expect(toHalfWidth("１２３Ｘ")).toBe("123X");
    expect(normalizeName(" 李 小 花 ")).toBe("李小花");
    expect(normalizeName("阿依古丽.买买提")).toBe("阿依古丽·买买提");
  });

  it("accepts mobile and landline numbers in their usual spellings and names what is wrong", () => {
    expect(normalizePhone("+86 139-0731-0001")).toEqual({ ok: true, phone: "13907310001" });
    expect(normalizePhone("８６13907310001")).toEqual({ ok: true, phone: "13907310001" });
    expect(normalizePhone("0731-84567890")).toEqual({ ok: true, phone: "0731-84567890" });
    expect(normalizePhone("12345")).toMatchObject({ ok: false, reason: expect.stringContaining("12345") });
  });

  it("reads dates as registers hold them", () => {
    expect(normalizeDate("2012.5.3")).toEqual({ ok: true, date: "2012-05-03" });
    expect(normalizeDate("2012年5月3日")).toEqual({ ok: true, date: "2012-05-03" });
    expect(excelSerialToIso(41032)).toEqual({ ok: true, date: "2012-05-03" });
    expect(normalizeDate("2012-02-30").ok).toBe(false);
  });
});

describe("China time and ages", () => {
  it("uses the date in China, not UTC", () => {
    expect(todayInChina(new Date("2026-11-22T15:59:59Z"))).toBe("2026-11-22");
    expect(todayInChina(new Date("2026-11-22T16:00:00Z"))).toBe("2026-11-23");
  });

  it("counts whole years, birthdays included", () => {
    expect(ageOn("2010-11-22", "2026-11-22")).toBe(16);
    expect(ageOn("2010-11-23", "2026-11-22")).toBe(15);
    expect(bornOnOrBefore("2026-11-22", 16)).toBe("2010-11-22");
  });
});

describe("semesters (控辍保学, 工作总结)", () => {
  it("parses YYYY-YYYY-1|2 and finds the semester of a day", () => {
    expect(parseSemester("2026-2027-1")).toEqual({ code: "2026-2027-1", label: "2026—2027学年第一学期", from: "2026-09-01", to: "2027-01-31" });
    expect(parseSemester("2026-2027-2")).toMatchObject({ from: "2027-02-01", to: "2027-08-31" });
    for (const bad of ["2026-2028-1", "2026-2027-3", "2026-1", ""]) expect(parseSemester(bad)).toBeNull();
    expect(semesterOf("2027-01-31").code).toBe("2026-2027-1");
    expect(semesterOf("2027-02-01").code).toBe("2026-2027-2");
    expect(semesterOf("2027-09-01").code).toBe("2027-2028-1");
  });
});
