import type { PairingKind } from "@shouhu/contracts";
import type { Unmatched } from "./matching.js";

/** Why a run left a child without a proposal, in the words staff read on the unpaired list. */
export function unmatchedNote(kind: PairingKind, reason: Unmatched["reason"]): string {
  if (kind === "mentor") {
    return reason === "capacity"
      ? "本乡镇可结对的帮扶人名额已满，请增加帮扶人或调整帮扶人数"
      : "本乡镇没有可结对的帮扶人（本校教师、本村代理家长/志愿者/村干部或村儿童主任），请先登记帮扶人";
  }
  return reason === "capacity" ? "本校同性别、年龄相差2岁以内的同伴学生均已结对" : "本校没有同性别、年龄相差2岁以内的同伴学生";
}
