import type { Claims } from "./auth/oidc";
import { orgLevel } from "./services/org-units";

/**
 * What the signed-in user may see and do in the console, decided in one place from the
 * access token's realm roles and org_unit. It only hides what the API would refuse
 * anyway (the API decides; each list names the service's permission list it mirrors, and
 * the console's tests check a hidden page is refused by the API too); data itself comes
 * already reduced by need-to-know.
 */
export const ROLE_LABELS: Record<string, string> = {
  "county-admin": "县级管理员",
  "federation-officer": "妇联工作人员",
  "township-supervisor": "乡镇儿童督导员",
  "village-director": "村儿童主任",
  teacher: "教师",
  "health-worker": "卫生院工作人员",
  inspector: "督导检查人员",
};

/** services/registry/src/routes/permissions.ts */
const registrars = ["county-admin", "federation-officer", "township-supervisor", "village-director"];
const registerKeepers = ["county-admin", "federation-officer", "township-supervisor"];
/** services/registry/src/routes/permissions.ts orgKeepers (their own county only). */
const orgKeepers = ["county-admin"];
/** services/pairing/src/routes/permissions.ts */
const helperKeepers = ["county-admin", "federation-officer", "township-supervisor", "village-director"];
const approvers = ["county-admin", "township-supervisor"];
const matchers = ["county-admin", "federation-officer", "township-supervisor"];
/** services/visits/src/routes/permissions.ts: the people who visit. */
const visitRecorders = ["county-admin", "federation-officer", "township-supervisor", "village-director", "teacher"];
/** services/visits/src/routes/task-links.ts issuers: who hands a one-time link to a helper without an account. */
const taskLinkIssuers = ["county-admin", "township-supervisor", "village-director"];

/** services/reporting/src/routes/reports.ts */
const reportReaders = ["county-admin", "federation-officer", "township-supervisor", "village-director", "inspector"];
/** services/visits/src/routes/permissions.ts; need-to-know "concerns" (packages/auth/src/need-to-know.ts). */
const concernRecorders = ["county-admin", "federation-officer", "township-supervisor", "village-director", "teacher"];
const caseWorkers = ["county-admin", "federation-officer", "township-supervisor", "village-director"];
const concernAssigners = ["county-admin", "federation-officer", "township-supervisor"];
/** Cases with child and description: all (case workers) or those they raised (teachers, health workers). Inspectors: counts only. */
const concernReaders = [...caseWorkers, "teacher", "health-worker"];
/** services/health/src/access.ts; need-to-know "checkups": "full" (results per child). */
const examiners = ["health-worker", "county-admin"];
const campaignOrganisers = ["health-worker", "county-admin", "township-supervisor"];
const checkupResultReaders = ["county-admin", "township-supervisor", "village-director", "health-worker"];
const followUpReferrers = [...examiners, "township-supervisor", "village-director"];

/** 成长档案 awards and notes: need-to-know "growthNotes" (read), services/registry/src/routes/growth.ts (write, remove others'). */
const growthNoteReaders = ["county-admin", "federation-officer", "township-supervisor", "village-director", "teacher"];
const growthNoteWriters = ["county-admin", "township-supervisor", "village-director", "teacher"];
const growthNoteRemovers = ["county-admin", "township-supervisor", "village-director"];
/** services/visits/src/routes/permissions.ts siteKeepers / siteReaders (留守儿童之家) and the safety campaigns' lists. */
const siteKeepers = ["county-admin", "federation-officer", "township-supervisor", "village-director", "teacher"];
const siteReaders = [...siteKeepers, "inspector"];
const safetySetters = ["county-admin", "federation-officer", "township-supervisor"];

/** services/registry/src/routes/enrolment.ts (控辍保学): keepers record lists and statuses, readers see the per-school table. */
const enrolmentKeepers = ["county-admin", "federation-officer", "township-supervisor", "teacher"];
const enrolmentReaders = [...enrolmentKeepers, "village-director", "inspector"];
const missingReaders = [...enrolmentKeepers, "village-director"];
/** services/notifications/src/domain/letters.ts LETTER_SENDERS: 致家长的一封信 (teachers cannot). */
const letterSenders = ["county-admin", "federation-officer", "township-supervisor"];

/** services/gateway/src/routes/accounts.ts (ACCOUNT_MANAGERS in packages/auth/src/accounts.ts). */
const accountManagers = ["county-admin"];

/** Highest first: the role a person is shown as when they hold several. */
const rolePrecedence = Object.keys(ROLE_LABELS);

export interface Access {
  primaryRole: string;
  roleLabel: string;
  orgUnit: string;
  orgLevel: "county" | "township" | "village";
  canListChildren: boolean;
  canEditChildren: boolean;
  canImport: boolean;
  /** 区划与学校: org units and schools of the user's own county (county-level users only). */
  canKeepOrgUnits: boolean;
  canSeePairing: boolean;
  canApprovePairings: boolean;
  canManageHelpers: boolean;
  canRunMatching: boolean;
  /** services/reporting/src/routes/reports.ts requireReader. */
  canSeeReports: boolean;
  /** 账号管理: staff accounts of their jurisdiction (services/gateway/src/routes/accounts.ts). */
  canManageAccounts: boolean;
  /** services/gateway/src/routes/audit.ts: county admins, their own county. */
  canReadAudit: boolean;
  /** services/notifications/src/routes/offices.ts requireOfficeKeeper. */
  canEditNotificationSettings: boolean;
  /** 关注事项: the list and a case (all, or those the user raised). */
  canSeeConcerns: boolean;
  canRaiseConcerns: boolean;
  /** 受理, 处理, 转介, 解决. */
  canWorkConcerns: boolean;
  canAssignConcerns: boolean;
  /** 体检: campaigns, roster, findings and follow-ups (results per child). */
  canSeeCheckups: boolean;
  canRecordExams: boolean;
  canOrganiseCampaigns: boolean;
  canReferFollowUps: boolean;
  /** Inspectors get counts, not files (DESIGN.md need-to-know). */
  readOnly: boolean;
  /** 我的走访 and the record form (offline too). */
  canRecordVisits: boolean;
  /** 发送填报链接: a one-time link for a due item whose helper has no account (a proxy parent). */
  canIssueTaskLinks: boolean;
  /** 成长档案: read awards and notes (teachers: of children paired with them, or their own), write them, remove others'. */
  canSeeGrowthNotes: boolean;
  canWriteGrowthNotes: boolean;
  canRemoveGrowthNotes: boolean;
  /** 学年: promotion, middle-school decisions, 交接 lists (services/registry/src/routes/school-year.ts promoters). */
  canRunSchoolYear: boolean;
  /** 交接名单 and 交接包 of a class (registry routes/handover.ts handoverPackMakers: the keepers and teachers of the school). */
  canMakeHandoverPack: boolean;
  /** 儿童之家: sites and their sessions (inspectors read, without written summaries). */
  canSeeHomes: boolean;
  /** Create and edit sites, record sessions with attendance. */
  canKeepHomes: boolean;
  /** 安全教育: campaigns and their progress. */
  canSeeSafety: boolean;
  /** Set a campaign (county and townships). */
  canSetSafety: boolean;
  /** Record children reached (schools and villages; names shown to these roles only). */
  canRecordReach: boolean;
  /** 转移: ask for and decide transfers (services/registry/src/routes/transfers.ts transferers). */
  canTransfer: boolean;
  /** 控辍保学: the per-school table (inspectors: counts only). */
  canSeeEnrolment: boolean;
  /** Upload a school's list, confirm it, set a child's status by hand (teachers: their own school). */
  canKeepEnrolment: boolean;
  /** The names of school-age children in no list (not inspectors). */
  canSeeMissingEnrolment: boolean;
  /** 致家长的一封信: write, send and follow letters home within their area. */
  canSendLetters: boolean;
}

export function accessFor(claims: Claims): Access {
  const has = (roles: string[]) => claims.roles.some((r) => roles.includes(r));
  const primaryRole = rolePrecedence.find((r) => claims.roles.includes(r)) ?? claims.roles[0] ?? "";
  const code = claims.orgUnit;
  return {
    primaryRole,
    roleLabel: ROLE_LABELS[primaryRole] ?? "未分配角色",
    orgUnit: code,
    orgLevel: orgLevel(code) ?? "county",
    canListChildren: claims.roles.length > 0,
    canEditChildren: has(registrars),
    canImport: has(registerKeepers),
    canKeepOrgUnits: has(orgKeepers) && code.length === 6,
    canSeePairing: has([...helperKeepers, "teacher", "inspector"]),
    canApprovePairings: has(approvers),
    canManageHelpers: has(helperKeepers),
    canRunMatching: has(matchers),
    canSeeReports: has(reportReaders),
    canReadAudit: has(["county-admin"]),
    canManageAccounts: has(accountManagers),
    canEditNotificationSettings: has(["county-admin", "township-supervisor"]),
    canSeeConcerns: has(concernReaders),
    canRaiseConcerns: has(concernRecorders),
    canWorkConcerns: has(caseWorkers),
    canAssignConcerns: has(concernAssigners),
    canSeeCheckups: has(checkupResultReaders),
    canSeeGrowthNotes: has(growthNoteReaders),
    canWriteGrowthNotes: has(growthNoteWriters),
    canRemoveGrowthNotes: has(growthNoteRemovers),
    canRecordExams: has(examiners),
    canOrganiseCampaigns: has(campaignOrganisers),
    canReferFollowUps: has(followUpReferrers),
    readOnly: claims.roles.length > 0 && claims.roles.every((r) => r === "inspector"),
    canRecordVisits: has(visitRecorders),
    canIssueTaskLinks: has(taskLinkIssuers),
    canRunSchoolYear: has(registerKeepers),
    canMakeHandoverPack: has([...registerKeepers, "teacher"]),
    canTransfer: has(["county-admin", "township-supervisor"]),
    canSeeHomes: has(siteReaders),
    canKeepHomes: has(siteKeepers),
    canSeeSafety: has(siteReaders),
    canSetSafety: has(safetySetters),
    canRecordReach: has(siteKeepers),
    canSeeEnrolment: has(enrolmentReaders),
    canKeepEnrolment: has(enrolmentKeepers),
    canSeeMissingEnrolment: has(missingReaders),
    canSendLetters: has(letterSenders),
  };
}
