// The pure rules: which event tells whom, over which channel, with which zh-CN
// template, how urgently; quiet hours on China time; birthdays.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { ChildSnapshot, EventData, EventType } from "@shouhu/contracts";
import { buildEvent } from "@shouhu/messaging";
import { birthdayPlans, plansFor, type Family, type Plan } from "../src/domain/rules.js";
import { render, templates } from "../src/domain/templates.js";
import { earliestSend, parseQuietHours } from "../src/domain/quiet-hours.js";
import { nextBirthday } from "../src/data/birthdays.js";
import { fitList, templateParam } from "../src/channels/sms-aliyun.js";

const child = { id: randomUUID(), name: "陈小雨", villageCode: "360999101201", townshipCode: "360999101" };
const noFamily: Family = { guardian: null, parents: [] };
const ev = <T extends EventType>(type: T, data: EventData<T>) =>
  buildEvent(type, { subject: child.id, orgUnit: child.villageCode, actor: { kind: "system", id: "test" }, data }, { producer: "test" });

/** rule → audience → channels → template, urgency: the table the issue asks for. */
function summary(plans: Plan[]) {
  return plans.map((p) => {
    const a = p.audience;
    const who = a.kind === "role" ? `${a.role}@${a.orgUnit}` : a.kind === "office" ? `office@${a.orgUnit}` : (a.username ?? a.phone);
    return `${p.rule} ${who} ${p.channels.join("+")} ${p.template}${p.urgent ? " urgent" : ""}`;
  });
}

const helper = {
  kind: "helper" as const,
  helperId: randomUUID(),
  name: "王老师",
  phone: "13907300301",
  username: "changling.teacher",
  villageCode: child.villageCode,
};
const director = { kind: "village_director" as const, helperId: null, name: null, phone: null, username: null, villageCode: child.villageCode };
const item = { itemId: randomUUID(), kind: "home_visit" as const, period: "2026-11", dueDate: "2026-11-30", child };
const pairingHelper = {
  id: randomUUID(),
  kind: "teacher" as const,
  name: "王老师",
  phone: "13907300301",
  username: "changling.teacher",
  orgUnitCode: "360999101",
  schoolId: null,
};

describe("rules: event → recipients, channel, template, urgency", () => {
  it("a due visit reminds the helper in-app, not urgent; with nobody paired the village child director", () => {
    expect(summary(plansFor(ev("visit.due", { ...item, responsible: helper, daysLeft: 3 }), noFamily))).toEqual([
      "visit-due changling.teacher inapp visit_due",
    ]);
    expect(summary(plansFor(ev("visit.due", { ...item, responsible: director, daysLeft: 3 }), noFamily))).toEqual([
      "visit-due village-director@360999101201 inapp visit_due",
    ]);
  });

  it("an overdue visit reaches the responsible person by SMS too; a week later the township supervisor", () => {
    expect(summary(plansFor(ev("visit.overdue", { ...item, responsible: helper, daysOverdue: 1, level: 1 }), noFamily))).toEqual([
      "visit-overdue changling.teacher inapp+sms visit_overdue",
    ]);
    expect(summary(plansFor(ev("visit.overdue", { ...item, responsible: helper, daysOverdue: 8, level: 2 }), noFamily))).toEqual([
      "visit-escalated township-supervisor@360999101 inapp+email visit_escalated",
    ]);
  });

  it("a concern is urgent: township supervisor on every channel, the office robots, the village child director", () => {
    const e = ev("concern.raised", {
      concernId: randomUUID(),
      recordId: null,
      category: "safety",
      description: "独自在家",
      child,
      raisedBy: { userId: "u1", name: "周主任" },
      ownerOrgUnit: "360999101",
      urgent: true,
    });
    expect(summary(plansFor(e, noFamily))).toEqual([
      "concern-supervisor township-supervisor@360999101 inapp+sms+email concern_raised urgent",
      "concern-office office@360999101 wecom+dingtalk concern_raised urgent",
      "concern-director village-director@360999101201 inapp concern_raised urgent",
    ]);
  });

  it("an escalated concern goes to the county, urgent", () => {
    const e = ev("concern.escalated", { concernId: randomUUID(), category: "health", child, openDays: 3, escalatedTo: "360999" });
    expect(summary(plansFor(e, noFamily))).toEqual([
      "concern-escalated-county county-admin@360999 inapp+sms+email concern_escalated urgent",
      "concern-escalated-federation federation-officer@360999 inapp concern_escalated urgent",
    ]);
  });

  it("a pairing tells the helper, and the guardian who the helper is; a peer buddy pairing tells nobody", () => {
    const data = {
      pairingId: randomUUID(),
      kind: "mentor" as const,
      child: { ...child, schoolId: null },
      helper: pairingHelper,
      startDate: "2026-11-22",
      approvedBy: "督导员",
    };
    const family: Family = { guardian: { name: "陈奶奶", phone: "13955550000" }, parents: [] };
    expect(summary(plansFor(ev("pairing.started", data), family))).toEqual([
      "pairing-helper changling.teacher inapp+sms pairing_started_helper",
      "pairing-guardian 13955550000 sms pairing_started_guardian",
    ]);
    expect(plansFor(ev("pairing.started", { ...data, kind: "peer" }), family)).toEqual([]);
    // A secondary helper (协助帮扶人) is told; the guardian hears of the primary only.
    expect(summary(plansFor(ev("pairing.started", { ...data, role: "secondary" }), family))).toEqual([
      "pairing-helper changling.teacher inapp+sms pairing_started_helper",
    ]);
    expect(summary(plansFor(ev("pairing.ended", { ...data, endDate: "2026-12-01", reason: "helper_deactivated", note: null }), family))).toEqual([
      "pairing-ended-helper changling.teacher inapp pairing_ended_helper",
    ]);
  });

  it("an exam's findings tell the guardian and each parent with a phone by SMS, the helper in-app — one message each, naming every finding", () => {
    const finding = (kind: string, severity: "mild" | "moderate" | null, label: string) => ({
      kind,
      severity,
      label,
      followUpId: randomUUID(),
      followUpOpened: true,
    });
    const e = ev("checkup.flagged", {
      examId: randomUUID(),
      campaignId: null,
      date: "2026-11-20",
      child,
      findings: [finding("low_vision", "moderate", "视力低下（中度）"), finding("anaemia", "mild", "贫血（轻度）"), finding("overweight", null, "超重")],
      guardian: { name: "陈奶奶", phone: "13955550000" },
      helper: { name: "王老师", phone: null, username: "changling.teacher" },
    });
    const family: Family = {
      guardian: { name: "陈奶奶", phone: "13955550000" },
      parents: [
        { role: "father", name: "陈大", phone: "13966660000" },
        { role: "mother", name: "李二", phone: null },
      ],
    };
    const plans = plansFor(e, family);
    expect(summary(plans)).toEqual([
      "checkup-guardian 13955550000 sms checkup_flagged_guardian",
      "checkup-parent 13966660000 sms checkup_flagged_parent",
      "checkup-helper changling.teacher inapp checkup_flagged_helper",
    ]);
    const body = (template: string) => {
      const plan = plans.find((p) => p.template === template)!;
      return render(plan.template, plan.vars).body;
    };
    expect(body("checkup_flagged_guardian")).toBe("陈小雨在2026-11-20的体检中发现：视力低下（中度）、贫血（轻度）、超重。请带孩子到乡镇卫生院复查或就医。");
    expect(body("checkup_flagged_helper")).toBe("陈小雨体检发现：视力低下（中度）、贫血（轻度）、超重。请督促监护人带孩子复查，并跟进结果。");
    // The list stays a list in the stored variables, so the SMS channel can cut it at a finding.
    expect(plans[0]!.vars.findings).toEqual(["视力低下（中度）", "贫血（轻度）", "超重"]);
  });

  it("events that ask nobody to be told yield nothing", () => {
    const snapshot: ChildSnapshot = {
      ...child,
      sex: "female",
      birthDate: "2015-01-01",
      countyCode: "360999",
      schoolId: null,
      schoolName: null,
      grade: null,
      className: null,
      leftBehindType: "both_parents_away",
      difficultyCategories: [],
      riskLevel: "low",
      status: "active",
      exitReason: null,
      guardian: null,
      parents: [],
      revision: 1,
    };
    expect(plansFor(ev("child.registered", { child: snapshot }), noFamily)).toEqual([]);
    // A transfer tells both townships' supervisors in-app (issue 19.6), naming the townships.
    const moved = { ...snapshot, villageCode: "360999102201", townshipCode: "360999102" };
    const transfer = ev("child.transferred", {
      child: moved,
      transferId: randomUUID(),
      fromVillage: "360999101201",
      fromTownship: "360999101",
      fromTownshipName: "长岭乡",
      toTownship: "360999102",
      toTownshipName: "石门镇",
      reason: "随父母回乡",
    });
    const plans = plansFor(transfer, noFamily);
    expect(summary(plans)).toEqual([
      "transfer-in township-supervisor@360999102 inapp child_transferred_in",
      "transfer-out township-supervisor@360999101 inapp child_transferred_out",
    ]);
    expect(render(plans[0]!.template, plans[0]!.vars).body).toContain("已从长岭乡转入本乡镇");
    expect(render(plans[1]!.template, plans[1]!.vars).body).toContain("已转出至石门镇");
  });

  it("birthdays: the mentor in-app, parents by SMS", () => {
    const plans = birthdayPlans(
      { name: "陈小雨", date: "2026-11-25", age: 10 },
      { name: "王老师", username: "changling.teacher", phone: null },
      { guardian: null, parents: [{ role: "mother", name: "李二", phone: "13966660001" }] },
    );
    expect(summary(plans)).toEqual(["birthday-helper changling.teacher inapp birthday_helper", "birthday-parent 13966660001 sms birthday_parent"]);
    expect(render("birthday_parent", plans[1]!.vars).body).toBe("陈小雨将于2026-11-25（星期三）过10岁生日，记得给孩子打个电话。");
  });

  it("every template renders zh-CN, and a missing variable is an error, not a blank", () => {
    for (const t of Object.values(templates)) expect(t.title + t.body).toMatch(/[\u4e00-\u9fff]/);
    expect(() => render("visit_due", { child: "陈小雨" })).toThrow(/visit_due needs \{kind\}/);
  });
});

describe("quiet hours (21:00–08:00 China time)", () => {
  const quiet = parseQuietHours("21:00-08:00");
  const at = (iso: string) => earliestSend(new Date(iso), quiet, true).toISOString();

  it("outside: at once; from 21:00 to 07:59: the next 08:00 China time", () => {
    expect(at("2026-11-22T12:59:00.000Z")).toBe("2026-11-22T12:59:00.000Z"); // 20:59
    expect(at("2026-11-22T13:00:00.000Z")).toBe("2026-11-23T00:00:00.000Z"); // 21:00
    expect(at("2026-11-22T16:30:00.000Z")).toBe("2026-11-23T00:00:00.000Z"); // 00:30 (next China day)
    expect(at("2026-11-22T23:59:00.000Z")).toBe("2026-11-23T00:00:00.000Z"); // 07:59
    expect(at("2026-11-23T00:00:00.000Z")).toBe("2026-11-23T00:00:00.000Z"); // 08:00
  });

  it("does not apply to urgent or non-SMS messages; a daytime window works too", () => {
    expect(earliestSend(new Date("2026-11-22T14:00:00Z"), quiet, false).toISOString()).toBe("2026-11-22T14:00:00.000Z");
    const lunch = parseQuietHours("12:00-14:00");
    expect(earliestSend(new Date("2026-11-22T04:30:00Z"), lunch, true).toISOString()).toBe("2026-11-22T06:00:00.000Z"); // 12:30 → 14:00
  });

  it("rejects a malformed window", () => {
    expect(() => parseQuietHours("21-8")).toThrow(/21:00-08:00/);
    expect(() => parseQuietHours("25:00-08:00")).toThrow(/out of range/);
  });
});

describe("next birthday", () => {
  it("this year if still ahead, else next year; 29 February falls on 1 March", () => {
    expect(nextBirthday("2016-11-25", "2026-11-22")).toBe("2026-11-25");
    expect(nextBirthday("2016-11-20", "2026-11-22")).toBe("2027-11-20");
    expect(nextBirthday("2016-02-29", "2026-02-25")).toBe("2026-03-01");
    expect(nextBirthday("2016-02-29", "2027-12-30")).toBe("2028-02-29");
  });
});

describe("SMS variables within the provider's length (SMS_MAX_VAR_LENGTH)", () => {
  const findings = ["中重度消瘦", "生长迟缓", "视力低下（重度）", "贫血（重度）", "龋齿（3颗）"];
  const chars = (v: string) => [...v].length;

  it("a list that fits is sent whole, joined as a sentence reads", () => {
    expect(fitList(findings, 33)).toBe("中重度消瘦、生长迟缓、视力低下（重度）、贫血（重度）、龋齿（3颗）");
    expect(fitList(["贫血（中度）"], 6)).toBe("贫血（中度）");
  });

  it("a longer list is cut at a whole finding and says how many there are", () => {
    // 33 characters in all; each cut keeps the most whole findings that fit beside 等N项.
    expect(fitList(findings, 32)).toBe("中重度消瘦、生长迟缓、视力低下（重度）、贫血（重度）等5项");
    expect(fitList(findings, 27)).toBe("中重度消瘦、生长迟缓、视力低下（重度）等5项");
    expect(fitList(findings, 21)).toBe("中重度消瘦、生长迟缓等5项");
    expect(fitList(findings, 13)).toBe("中重度消瘦、生长迟缓等5项");
    expect(fitList(findings, 12)).toBe("中重度消瘦等5项");
    for (let max = 1; max <= 40; max++) expect(chars(fitList(findings, max)), `max ${max}`).toBeLessThanOrEqual(max);
  });

  it("when not even one finding fits beside the count, the first is cut and the count kept", () => {
    expect(fitList(["视力低下（重度）", "贫血（重度）"], 8)).toBe("视力低下…等2项");
    expect(fitList(["视力低下（重度）", "贫血（重度）"], 4)).toBe("视力低…");
  });

  it("templateParam cuts lists at an item and other values with an ellipsis, each to the limit", () => {
    const param = JSON.parse(templateParam({ child: "陈小雨", date: "2026-11-20", findings, note: "一二三四五六七八九十一二三四五" }, 12)) as Record<
      string,
      string
    >;
    expect(param).toEqual({ child: "陈小雨", date: "2026-11-20", findings: "中重度消瘦等5项", note: "一二三四五六七八九十一…" });
  });
});
