import { describe, expect, it } from "vitest";
import { wst586 } from "../src/domain/standards/wst-586-2018.js";
import { wst456 } from "../src/domain/standards/wst-456-2014.js";
import { whoHemoglobin } from "../src/domain/standards/who-hemoglobin.js";
import { wst610 } from "../src/domain/standards/wst-610-2018.js";
import {
  ageBand,
  bmiOf,
  evaluateBloodPressure,
  evaluateBmi,
  evaluateExam,
  evaluateHemoglobin,
  evaluateStunting,
  evaluateVision,
} from "../src/domain/evaluate.js";

const sexes = ["male", "female"] as const;
const down = (x: number) => Math.round((x - 0.1) * 10) / 10;
const up = (x: number) => Math.round((x + 0.1) * 10) / 10;

describe("WS/T 586-2018 overweight and obesity, every row, both sexes", () => {
  for (const sex of sexes) {
    it(`${sex}: overweight from the cut-off (≥), obesity from its cut-off (≥)`, () => {
      expect(wst586[sex]).toHaveLength(25);
      for (const row of wst586[sex]) {
        expect(evaluateBmi(sex, row.age, row.overweight), `${sex} ${row.age}`).toBe("overweight");
        expect(evaluateBmi(sex, row.age, down(row.overweight)), `${sex} ${row.age}`).not.toMatch(/overweight|obese/);
        expect(evaluateBmi(sex, row.age, row.obese), `${sex} ${row.age}`).toBe("obese");
        expect(evaluateBmi(sex, row.age, down(row.obese)), `${sex} ${row.age}`).toBe("overweight");
      }
    });
  }

  it("matches the published values at hand-checked rows", () => {
    expect(wst586.male.find((r) => r.age === 6.0)).toEqual({ age: 6.0, overweight: 16.4, obese: 17.7 });
    expect(wst586.female.find((r) => r.age === 6.0)).toEqual({ age: 6.0, overweight: 16.2, obese: 17.5 });
    expect(wst586.male.find((r) => r.age === 12.0)).toEqual({ age: 12.0, overweight: 20.7, obese: 24.1 });
    expect(wst586.female.find((r) => r.age === 14.0)).toEqual({ age: 14.0, overweight: 22.8, obese: 25.9 });
    expect(wst586.male.find((r) => r.age === 18.0)).toEqual({ age: 18.0, overweight: 24.0, obese: 28.0 });
    expect(wst586.female.find((r) => r.age === 18.0)).toEqual({ age: 18.0, overweight: 24.0, obese: 28.0 });
  });
});

describe("WS/T 456-2014 wasting and stunting, every row, both sexes", () => {
  for (const sex of sexes) {
    it(`${sex}: moderate-to-severe wasting at or below its value, mild up to the mild value (≤)`, () => {
      expect(wst456.wasting[sex]).toHaveLength(24);
      for (const row of wst456.wasting[sex]) {
        expect(evaluateBmi(sex, row.age, row.moderateSevere), `${sex} ${row.age}`).toBe("wasting_moderate_severe");
        expect(evaluateBmi(sex, row.age, up(row.moderateSevere)), `${sex} ${row.age}`).toBe("wasting_mild");
        expect(evaluateBmi(sex, row.age, row.mild), `${sex} ${row.age}`).toBe("wasting_mild");
        expect(evaluateBmi(sex, row.age, up(row.mild)), `${sex} ${row.age}`).toBe("normal");
      }
    });

    it(`${sex}: stunting at or below the height cut-off (≤)`, () => {
      expect(wst456.stunting[sex]).toHaveLength(24);
      for (const row of wst456.stunting[sex]) {
        expect(evaluateStunting(sex, row.age, row.height), `${sex} ${row.age}`).toBe("stunting");
        expect(evaluateStunting(sex, row.age, up(row.height)), `${sex} ${row.age}`).toBe("normal");
      }
    });
  }

  it("matches the published values at hand-checked rows", () => {
    expect(wst456.wasting.male[0]).toEqual({ age: 6.0, moderateSevere: 13.2, mild: 13.4 });
    expect(wst456.wasting.female[0]).toEqual({ age: 6.0, moderateSevere: 12.8, mild: 13.1 });
    expect(wst456.wasting.female.find((r) => r.age === 14.0)).toEqual({ age: 14.0, moderateSevere: 15.3, mild: 16.0 });
    expect(wst456.stunting.male[0]).toEqual({ age: 6.0, height: 106.3 });
    expect(wst456.stunting.female[0]).toEqual({ age: 6.0, height: 105.7 });
  });

  it("does not apply outside 6–18 (wasting and stunting stop at 17.5, obesity at 18.0)", () => {
    expect(evaluateBmi("male", 5.5, 30)).toBe("not_applicable");
    expect(evaluateBmi("male", 18.5, 30)).toBe("not_applicable");
    expect(evaluateBmi("female", 18.0, 10)).toBe("normal"); // 18.0 has only WS/T 586's row
    expect(evaluateStunting("male", 18.0, 100)).toBe("not_applicable");
  });
});

describe("age bands and BMI", () => {
  it("round the exact age down to the half year, around birthdays", () => {
    expect(ageBand("2015-03-07", "2022-09-06")).toBe(7.0); // 7 years 5 months
    expect(ageBand("2015-03-07", "2022-09-07")).toBe(7.5); // 7 years 6 months
    expect(ageBand("2015-03-07", "2023-03-06")).toBe(7.5);
    expect(ageBand("2015-03-07", "2023-03-07")).toBe(8.0);
  });

  it("computes BMI to one decimal, rounding half up", () => {
    expect(bmiOf(120, 23.04)).toBe(16.0);
    expect(bmiOf(130, 28.73)).toBe(17.0);
    expect(bmiOf(100, 16.45)).toBe(16.5);
  });
});

describe("vision (5-point record) and haemoglobin (WHO 2011)", () => {
  it("grades reduced vision by the worse eye", () => {
    expect(evaluateVision(5.0, 5.1)).toBe("normal");
    expect(evaluateVision(4.9, 5.0)).toBe("mild");
    expect(evaluateVision(5.0, 4.8)).toBe("moderate");
    expect(evaluateVision(4.6, 4.6)).toBe("moderate");
    expect(evaluateVision(4.5, 5.0)).toBe("severe");
    expect(evaluateVision(null, null)).toBe("not_tested");
  });

  it("uses the age group's thresholds and grades severity, at each boundary", () => {
    // 5–11 years: anaemia below 115; mild 110–114; moderate 80–109; severe below 80.
    expect(evaluateHemoglobin("male", 8 * 12, 115)).toBe("normal");
    expect(evaluateHemoglobin("male", 8 * 12, 114)).toBe("mild");
    expect(evaluateHemoglobin("male", 8 * 12, 110)).toBe("mild");
    expect(evaluateHemoglobin("male", 8 * 12, 109)).toBe("moderate");
    expect(evaluateHemoglobin("male", 8 * 12, 80)).toBe("moderate");
    expect(evaluateHemoglobin("male", 8 * 12, 79)).toBe("severe");
    // 6–59 months: below 110; mild 100–109; moderate 70–99.
    expect(evaluateHemoglobin("female", 59, 110)).toBe("normal");
    expect(evaluateHemoglobin("female", 59, 100)).toBe("mild");
    expect(evaluateHemoglobin("female", 59, 99)).toBe("moderate");
    expect(evaluateHemoglobin("female", 59, 69)).toBe("severe");
    // 12–14: below 120.
    expect(evaluateHemoglobin("female", 144, 119)).toBe("mild");
    expect(evaluateHemoglobin("male", 143, 119)).toBe("normal");
    // 15 and over: women below 120, men below 130.
    expect(evaluateHemoglobin("female", 180, 120)).toBe("normal");
    expect(evaluateHemoglobin("male", 180, 129)).toBe("mild");
    expect(evaluateHemoglobin("male", 180, 130)).toBe("normal");
    expect(evaluateHemoglobin("male", 5, 90)).toBe("not_applicable");
  });
});

describe("a whole exam", () => {
  it("lists every finding with a zh-CN label", () => {
    const out = evaluateExam({
      sex: "male",
      birthDate: "2015-03-07",
      date: "2026-11-20",
      heightCm: 140,
      weightKg: 40,
      visionLeft: 4.7,
      visionRight: 5.0,
      hemoglobin: 105,
      caries: 2,
    });
    expect(out.ageBand).toBe(11.5);
    expect(out.bmi).toBe(20.4);
    expect(out.flags.map((f) => f.label)).toEqual(["超重", "视力低下（中度）", "贫血（中度）", "龋齿（2颗）"]);
    const healthy = evaluateExam({
      sex: "female",
      birthDate: "2015-03-07",
      date: "2026-11-20",
      heightCm: 145,
      weightKg: 36,
      visionLeft: 5.0,
      visionRight: 5.1,
      hemoglobin: 130,
      caries: 0,
    });
    expect(healthy.flags).toEqual([]);
  });
});

describe("WHO 2011 haemoglobin, every group's thresholds, both sexes, at both ends of its age range", () => {
  // Age ranges in months as the table names them (6–59 months, 5–11, 12–14, 15 and over).
  const groups = [
    { from: 6, to: 59, group: { male: whoHemoglobin.months6to59, female: whoHemoglobin.months6to59 } },
    { from: 60, to: 143, group: { male: whoHemoglobin.years5to11, female: whoHemoglobin.years5to11 } },
    { from: 144, to: 179, group: { male: whoHemoglobin.years12to14, female: whoHemoglobin.years12to14 } },
    { from: 180, to: 216, group: { male: whoHemoglobin.male15plus, female: whoHemoglobin.female15plus } },
  ] as const;
  for (const sex of sexes) {
    it(`${sex}: normal from the threshold, mild, moderate and severe below each cut-off (g/L)`, () => {
      for (const { from, to, group } of groups) {
        const g = group[sex];
        for (const months of [from, to]) {
          const at = (hb: number) => evaluateHemoglobin(sex, months, hb);
          expect(at(g.normalFrom), `${sex} ${months}m`).toBe("normal");
          expect(at(g.normalFrom - 1), `${sex} ${months}m`).toBe("mild");
          expect(at(g.mildFrom), `${sex} ${months}m`).toBe("mild");
          expect(at(g.mildFrom - 1), `${sex} ${months}m`).toBe("moderate");
          expect(at(g.moderateFrom), `${sex} ${months}m`).toBe("moderate");
          expect(at(g.moderateFrom - 1), `${sex} ${months}m`).toBe("severe");
        }
      }
    });
  }

  it("matches the published thresholds (WHO/NMH/NHD/MNM/11.1, Table 1)", () => {
    expect(whoHemoglobin.months6to59).toMatchObject({ normalFrom: 110, mildFrom: 100, moderateFrom: 70 });
    expect(whoHemoglobin.years5to11).toMatchObject({ normalFrom: 115, mildFrom: 110, moderateFrom: 80 });
    expect(whoHemoglobin.years12to14).toMatchObject({ normalFrom: 120, mildFrom: 110, moderateFrom: 80 });
    expect(whoHemoglobin.female15plus).toMatchObject({ normalFrom: 120, mildFrom: 110, moderateFrom: 80 });
    expect(whoHemoglobin.male15plus).toMatchObject({ normalFrom: 130, mildFrom: 110, moderateFrom: 80 });
  });

  it("switches group on the month the child reaches 5, 12 and 15 years", () => {
    expect(evaluateHemoglobin("male", 59, 112)).toBe("normal"); // 6–59 months: from 110
    expect(evaluateHemoglobin("male", 60, 112)).toBe("mild"); // 5–11: from 115
    expect(evaluateHemoglobin("female", 143, 117)).toBe("normal");
    expect(evaluateHemoglobin("female", 144, 117)).toBe("mild"); // 12–14: from 120
    expect(evaluateHemoglobin("male", 179, 125)).toBe("normal");
    expect(evaluateHemoglobin("male", 180, 125)).toBe("mild"); // men 15+: from 130
    expect(evaluateHemoglobin("female", 180, 125)).toBe("normal"); // women 15+: from 120
  });
});

describe("what an exam assessed", () => {
  const base = {
    sex: "female" as const,
    birthDate: "2015-03-07",
    date: "2026-11-20",
    heightCm: null,
    weightKg: null,
    visionLeft: null,
    visionRight: null,
    hemoglobin: null,
    caries: null,
  };

  it("assesses only what was measured: no haemoglobin says nothing about anaemia, one eye nothing about vision", () => {
    expect(evaluateExam({ ...base, visionLeft: 5.0 }).assessed).toEqual([]);
    expect(evaluateExam({ ...base, visionLeft: 4.8 }).assessed).toEqual(["low_vision"]); // one eye can still find it
    expect(evaluateExam({ ...base, visionLeft: 5.0, visionRight: 5.1 }).assessed).toEqual(["low_vision"]);
    expect(evaluateExam({ ...base, hemoglobin: 130 }).assessed).toEqual(["anaemia"]);
    expect(evaluateExam({ ...base, caries: 0 }).assessed).toEqual(["dental_caries"]);
    expect(evaluateExam({ ...base, heightCm: 145 }).assessed).toEqual(["stunting"]);
    expect(evaluateExam({ ...base, heightCm: 145, weightKg: 36 }).assessed.sort()).toEqual([
      "obese",
      "overweight",
      "stunting",
      "wasting_mild",
      "wasting_moderate_severe",
    ]);
  });

  it("assesses no growth finding outside the standards' ages", () => {
    const five = evaluateExam({ ...base, birthDate: "2021-03-07", heightCm: 110, weightKg: 19 }); // 5 years 8 months
    expect(five.ageBand).toBe(5.5);
    expect(five.assessed).toEqual([]);
    expect(five.flags).toEqual([]);
  });
});

describe("WS/T 610-2018 blood pressure, every row and height group, both sexes", () => {
  for (const sex of sexes) {
    it(`${sex}: 血压偏高 from P95 (≥) of the child's height group; 正常高值 from 120/80 below P95`, () => {
      expect(wst610[sex]).toHaveLength(11);
      for (const row of wst610[sex]) {
        // A height inside each group: the group's lower bound (or below P5).
        const heights = [row.heightPercentiles[0] - 0.1, ...row.heightPercentiles];
        heights.forEach((h, g) => {
          const [sbp, dbp] = row.p95[g]!;
          const at = `${sex} ${row.age}岁 ${h}cm`;
          expect(evaluateBloodPressure(sex, row.age, h, sbp, 60), at).toMatchObject({ result: "elevated", label: "血压偏高" });
          expect(evaluateBloodPressure(sex, row.age, h, 90, dbp), at).toMatchObject({ result: "elevated" });
          const below = evaluateBloodPressure(sex, row.age, h, sbp - 1, dbp - 1);
          expect(below.result, at).toBe(sbp - 1 >= 120 || dbp - 1 >= 80 ? "high_normal" : "normal");
          expect(below.basis?.systolicP95, at).toBe(sbp);
        });
        // Just below a group's bound belongs to the group below.
        const g1 = evaluateBloodPressure(sex, row.age, row.heightPercentiles[0] - 0.1, 90, 60).basis!;
        expect(g1.heightGroup).toBe("<P5");
        expect(evaluateBloodPressure(sex, row.age, row.heightPercentiles[6], 90, 60).basis!.heightGroup).toBe("≥P95");
      }
    });
  }

  it("matches the transcription at hand-checked rows", () => {
    expect(wst610.male[0]).toMatchObject({
      age: 7,
      p95: expect.arrayContaining([
        [108, 72],
        [121, 79],
      ]),
    });
    expect(wst610.female.find((r) => r.age === 17)!.p95[7]).toEqual([126, 82]);
    expect(wst610.male.find((r) => r.age === 12)!.heightPercentiles[3]).toBe(152.0);
  });

  it("正常高值 at exactly 120 systolic or 80 diastolic when below P95; 119/79 normal", () => {
    // A 14-year-old boy at the median height: P95 129/82.
    expect(evaluateBloodPressure("male", 14, 166, 120, 70).result).toBe("high_normal");
    expect(evaluateBloodPressure("male", 14, 166, 110, 80).result).toBe("high_normal");
    expect(evaluateBloodPressure("male", 14, 166, 119, 79).result).toBe("normal");
    expect(evaluateBloodPressure("male", 14, 166, 129, 70).result).toBe("elevated");
    expect(evaluateBloodPressure("male", 14, 166, 128, 82).result).toBe("elevated");
  });

  it("不适用 under 7, at 18, and without a height; 未测 without values", () => {
    expect(evaluateBloodPressure("female", 6, 120, 130, 90)).toEqual({ result: "not_applicable", label: "不适用（WS/T 610 适用于7岁及以上）", basis: null });
    expect(evaluateBloodPressure("female", 18, 160, 130, 90).result).toBe("not_applicable");
    expect(evaluateBloodPressure("male", 10, null, 130, 90).label).toBe("不适用（须同时测量身高）");
    expect(evaluateBloodPressure("male", 10, 140, null, null).result).toBe("not_tested");
  });

  it("an exam flags 血压偏高 (a finding, followed up) but not 正常高值; age is whole years on the exam date", () => {
    const base = { sex: "male" as const, heightCm: 136, weightKg: null, visionLeft: null, visionRight: null, hemoglobin: null, caries: null };
    // Born 2016-11-23, 136 cm: 9 on 2026-11-22 (P50–P75 group, P95 119/77), 10 the next day (P10–P25 group, P95 116/76).
    const nine = evaluateExam({ ...base, birthDate: "2016-11-23", date: "2026-11-22", bpSystolic: 117, bpDiastolic: 70 });
    expect(nine.bloodPressure).toMatchObject({ result: "normal", basis: { age: 9, heightGroup: "P50–P75", systolicP95: 119 } });
    expect(nine.assessed).toContain("elevated_bp");
    const ten = evaluateExam({ ...base, birthDate: "2016-11-23", date: "2026-11-23", bpSystolic: 117, bpDiastolic: 70 });
    expect(ten.bloodPressure).toMatchObject({ result: "elevated", basis: { age: 10, heightGroup: "P10–P25", systolicP95: 116 } });
    expect(ten.flags).toContainEqual({ kind: "elevated_bp", severity: null, label: "血压偏高" });
    const highNormal = evaluateExam({ ...base, heightCm: 166, birthDate: "2012-01-01", date: "2026-11-22", bpSystolic: 120, bpDiastolic: 70 });
    expect(highNormal.bloodPressure.result).toBe("high_normal");
    expect(highNormal.flags.map((f) => f.kind)).not.toContain("elevated_bp");
    const six = evaluateExam({ ...base, birthDate: "2020-01-01", date: "2026-11-22", bpSystolic: 130, bpDiastolic: 90 });
    expect(six.bloodPressure.label).toMatch(/^不适用/);
    expect(six.assessed).not.toContain("elevated_bp");
  });
});
