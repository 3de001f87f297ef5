import { labels, type PairingEndReason } from "@shouhu/contracts";
import { seesContacts, type Principal } from "@shouhu/auth";
import { statusLabel, type PairingView } from "../data/pairings.js";
import { proximityLabel, proximityOf } from "../domain/match-rules.js";

const matchReasonLabel: Record<string, string> = {
  same_school: "本校教师",
  same_village: "本村帮扶人",
  township: "本乡镇帮扶人",
  township_teacher: "本乡镇其他学校教师",
  village_director: "村儿童主任兜底",
  peer: "同校同龄同伴",
  manual: "人工结对",
  transfer: "移交",
  register: "登记表帮扶责任人",
};

/** A pairing as the API shows it, with zh-CN labels; no phones for roles without contact access (inspectors). */
export function presentPairing(principal: Principal, p: PairingView) {
  const phones = seesContacts(principal);
  const proximity = proximityOf(p.child, p.helper);
  return {
    id: p.id,
    kind: p.kind,
    kindLabel: labels.pairingKind[p.kind],
    role: p.role,
    roleLabel: labels.pairingRole[p.role],
    status: p.status,
    statusLabel: statusLabel[p.status] ?? p.status,
    matchReason: p.matchReason,
    matchReasonLabel: p.matchReason ? (matchReasonLabel[p.matchReason] ?? p.matchReason) : null,
    cost: p.cost,
    proximity,
    proximityLabel: proximityLabel[proximity],
    ageGapYears: p.ageGapYears,
    proposedAt: p.proposedAt.toISOString(),
    decidedAt: p.decidedAt?.toISOString() ?? null,
    decidedBy: p.decidedBy,
    decisionNote: p.decisionNote,
    startDate: p.startDate,
    endDate: p.endDate,
    endReason: p.endReason,
    endReasonLabel: p.endReason ? labels.pairingEndReason[p.endReason as PairingEndReason] : null,
    endNote: p.endNote,
    child: p.child,
    helper: { ...p.helper, phone: phones ? p.helper.phone : null },
  };
}
