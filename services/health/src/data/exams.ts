import { v7 as uuidv7 } from "uuid";
import { contains, type Actor, type Envelope, type EventData } from "@shouhu/contracts";
import { ConflictError, NotFoundError, ValidationError } from "@shouhu/kit";
import { appendToOutbox, buildEvent, lockChildPairings } from "@shouhu/messaging";
import { evaluateExam, type BpEvaluation, type ExamValues, type Flag } from "../domain/evaluate.js";
import { checkExam, type EvaluateInput, type ExamInput } from "../domain/exam.js";
import type { PrismaClient, Tx } from "./db.js";

export const PRODUCER = "health";

interface HealthChild {
  id: string;
  name: string;
  sex: "male" | "female";
  birthDate: string;
  villageCode: string;
  townshipCode: string;
  status: string;
  guardianName: string | null;
  guardianPhone: string | null;
}

async function loadChild(db: Pick<Tx, "$queryRawUnsafe">, id: string, orgUnit: string): Promise<HealthChild> {
  const [child] = await db.$queryRawUnsafe<HealthChild[]>(
    `SELECT id, name, sex, to_char(birth_date, 'YYYY-MM-DD') AS "birthDate", village_code AS "villageCode", township_code AS "townshipCode",
            status, guardian_name AS "guardianName", guardian_phone AS "guardianPhone"
       FROM children WHERE id = $1::uuid`,
    id,
  );
  if (!child || !contains(orgUnit, child.villageCode)) throw new NotFoundError("儿童", id);
  return child;
}

/** What the standards evaluate: the child's sex and birth date, the exam's date and measurements (absent: null). */
function examValues(child: { sex: "male" | "female"; birthDate: string }, input: Omit<EvaluateInput, "childId">): ExamValues {
  return {
    sex: child.sex,
    birthDate: child.birthDate,
    date: input.date,
    heightCm: input.heightCm ?? null,
    weightKg: input.weightKg ?? null,
    visionLeft: input.visionLeft ?? null,
    visionRight: input.visionRight ?? null,
    hemoglobin: input.hemoglobin ?? null,
    caries: input.caries ?? null,
    bpSystolic: input.bpSystolic ?? null,
    bpDiastolic: input.bpDiastolic ?? null,
  };
}

/**
 * What an exam's values would say for this child, stored nowhere: the results grid
 * shows it as the values are typed. Same standards, same cross-field checks
 * (except the campaign window and "at least one value").
 */
export async function previewExam(prisma: PrismaClient, input: EvaluateInput, orgUnit: string, today: string) {
  const child = await loadChild(prisma, input.childId, orgUnit);
  // Nothing typed yet is not an error here: the row simply has nothing to evaluate.
  const issues = checkExam({ ...input, examiner: "-", campaignId: null }, { today, birthDate: child.birthDate, campaign: null }).filter(
    (i) => !i.message.startsWith("至少填写"),
  );
  if (issues.length) throw new ValidationError(issues);
  const result = evaluateExam(examValues(child, input));
  return { childId: child.id, bmi: result.bmi, ageBand: result.ageBand, flags: result.flags, assessed: result.assessed, bloodPressure: result.bloodPressure };
}

export interface Recorder {
  username: string;
  name: string;
  actor: Actor;
  orgUnit: string;
}

export interface RecordedExam {
  examId: string;
  bmi: number | null;
  ageBand: number;
  flags: Flag[];
  bloodPressure: BpEvaluation;
  followUpsOpened: string[];
  followUpsResolved: number;
}

/**
 * Records an exam: evaluates it by the national standards, publishes
 * checkup.recorded, opens a follow-up for each finding not already being
 * followed up, publishes one checkup.flagged listing all the exam's findings
 * (with the guardian's and mentor's contact), and resolves open follow-ups
 * this exam no longer shows.
 */
export async function recordExam(prisma: PrismaClient, input: ExamInput, recorder: Recorder, today: string): Promise<RecordedExam> {
  return prisma.$transaction(async (tx) => {
    const child = await loadChild(tx, input.childId, recorder.orgUnit);
    if (child.status !== "active") throw new ConflictError("CHILD_EXITED", "该儿童已退出关爱对象");
    // Shared with other exams, exclusive with pairing events: the mentor read below and the findings' owner stay one.
    // Exams see a settled mentor (see lockChildPairings): a finding opened while the mentor changes gets the owner the hand-over ends with.
    await lockChildPairings(tx, "health", child.id, "shared");
    let campaign: { startDate: string; endDate: string; orgUnits: string[] } | null = null;
    if (input.campaignId) {
      const [found] = await tx.$queryRawUnsafe<{ startDate: string; endDate: string; orgUnits: string[] }[]>(
        `SELECT to_char(start_date, 'YYYY-MM-DD') AS "startDate", to_char(end_date, 'YYYY-MM-DD') AS "endDate", org_units AS "orgUnits" FROM campaigns WHERE id = $1::uuid`,
        input.campaignId,
      );
      if (!found) throw ValidationError.field("campaignId", "体检活动不存在");
      campaign = found;
      if (!campaign.orgUnits.some((u) => contains(u, child.villageCode))) throw ValidationError.field("childId", "该儿童不在本次体检活动的范围内");
    }
    const issues = checkExam(input, { today, birthDate: child.birthDate, campaign });
    if (issues.length) throw new ValidationError(issues);

    const result = evaluateExam(examValues(child, input));
    const examId = uuidv7();
    const inserted = await tx.$executeRawUnsafe(
      `INSERT INTO exams (id, campaign_id, child_id, date, examiner, height_cm, weight_kg, vision_left, vision_right, hemoglobin, caries,
                          bp_systolic, bp_diastolic, notes, bmi, flags, recorded_by)
       VALUES ($1::uuid, $2::uuid, $3::uuid, $4::date, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16::jsonb, $17)
       ON CONFLICT (campaign_id, child_id) DO NOTHING`,
      examId,
      input.campaignId ?? null,
      child.id,
      input.date,
      input.examiner,
      input.heightCm ?? null,
      input.weightKg ?? null,
      input.visionLeft ?? null,
      input.visionRight ?? null,
      input.hemoglobin ?? null,
      input.caries ?? null,
      input.bpSystolic ?? null,
      input.bpDiastolic ?? null,
      input.notes ?? null,
      result.bmi,
      JSON.stringify(result.flags),
      recorder.username,
    );
    if (inserted === 0) throw new ConflictError("EXAM_EXISTS", "该儿童在本次体检活动中已有检查记录", { field: "childId" });

    // Findings this exam assessed and no longer shows are resolved by it (复查正常) —
    // only those found on or before its date: a late-entered older exam closes nothing newer.
    const kinds = result.flags.map((f) => f.kind);
    const resolved = await tx.$executeRawUnsafe(
      `UPDATE follow_ups f SET status = 'resolved', closed_by = $2, closed_at = now()
         FROM exams o
        WHERE o.id = f.exam_id AND f.child_id = $1::uuid AND f.status = 'open'
          AND f.kind = ANY($3::text[]) AND NOT (f.kind = ANY($4::text[])) AND o.date <= $5::date`,
      child.id,
      `exam:${examId}`,
      result.assessed,
      kinds,
      input.date,
    );
    const [mentor] = await tx.$queryRawUnsafe<{ name: string; phone: string | null; username: string | null }[]>(
      `SELECT name, phone, username FROM mentors WHERE child_id = $1::uuid`,
      child.id,
    );
    const eventChild = { id: child.id, name: child.name, villageCode: child.villageCode, townshipCode: child.townshipCode };
    const recorded = buildEvent(
      "checkup.recorded",
      {
        subject: child.id,
        orgUnit: child.villageCode,
        actor: recorder.actor,
        data: {
          examId,
          campaignId: input.campaignId ?? null,
          date: input.date,
          child: eventChild,
          flags: result.flags,
          measures: { heightCm: input.heightCm ?? null, weightKg: input.weightKg ?? null, bmi: result.bmi },
        },
      },
      { producer: PRODUCER },
    );
    const opened: string[] = [];
    const findings: EventData<"checkup.flagged">["findings"] = [];
    for (const flag of result.flags) {
      const [open] = await tx.$queryRawUnsafe<{ id: string }[]>(
        `SELECT id FROM follow_ups WHERE child_id = $1::uuid AND kind = $2 AND status = 'open'`,
        child.id,
        flag.kind,
      );
      if (open) {
        // Already being followed up: one case per finding, not one per exam — but the family still hears this exam found it again.
        findings.push({ ...flag, followUpId: open.id, followUpOpened: false });
        continue;
      }
      const followUpId = uuidv7();
      await tx.$executeRawUnsafe(
        `INSERT INTO follow_ups (id, exam_id, child_id, village_code, kind, label, owner, owner_name, status) VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6, $7, $8, 'open')`,
        followUpId,
        examId,
        child.id,
        child.villageCode,
        flag.kind,
        flag.label,
        mentor?.username ?? null,
        mentor?.name ?? null,
      );
      opened.push(followUpId);
      findings.push({ ...flag, followUpId, followUpOpened: true });
    }
    const events: Envelope[] = [recorded];
    // One checkup.flagged per exam, listing every finding: the family gets one message per exam.
    if (findings.length > 0) {
      events.push(
        buildEvent(
          "checkup.flagged",
          {
            subject: child.id,
            orgUnit: child.villageCode,
            actor: recorder.actor,
            data: {
              examId,
              campaignId: input.campaignId ?? null,
              date: input.date,
              child: eventChild,
              findings,
              guardian: child.guardianPhone || child.guardianName ? { name: child.guardianName, phone: child.guardianPhone } : null,
              helper: mentor ? { name: mentor.name, phone: mentor.phone, username: mentor.username } : null,
            },
          },
          { producer: PRODUCER },
        ),
      );
    }
    await appendToOutbox(tx, events);
    return {
      examId,
      bmi: result.bmi,
      ageBand: result.ageBand,
      flags: result.flags,
      bloodPressure: result.bloodPressure,
      followUpsOpened: opened,
      followUpsResolved: resolved,
    };
  });
}

/** A referral (转诊) closes a follow-up: the child is in a doctor's hands. */
export async function referFollowUp(
  prisma: PrismaClient,
  id: string,
  referral: { hospital: string; date: string; note?: string | null },
  by: Recorder,
): Promise<void> {
  const updated = await prisma.$executeRawUnsafe(
    `UPDATE follow_ups SET status = 'referred', referral = $2::jsonb, closed_by = $3, closed_at = now()
      WHERE id = $1::uuid AND status = 'open' AND village_code LIKE $4 || '%'`,
    id,
    JSON.stringify({ ...referral, recordedBy: by.name }),
    `referral:${by.username}`,
    by.orgUnit,
  );
  if (updated === 0) {
    const [exists] = await prisma.$queryRawUnsafe<{ status: string; villageCode: string }[]>(
      `SELECT status, village_code AS "villageCode" FROM follow_ups WHERE id = $1::uuid`,
      id,
    );
    if (!exists || !contains(by.orgUnit, exists.villageCode)) throw new NotFoundError("随访事项", id);
    throw new ConflictError("FOLLOW_UP_CLOSED", "该随访事项已关闭");
  }
}

export interface ExamListRow {
  id: string;
  campaignId: string;
  childId: string;
  childName: string;
  date: string;
  flags: unknown;
  [field: string]: unknown;
}

/** Exams within the caller's area, by child or campaign; `pairedTo`: only children whose mentor is this login (teachers). */
export async function listExams(
  prisma: PrismaClient,
  q: { orgUnit: string; childId: string | null; campaignId: string | null; limit: number; pairedTo: string | null },
): Promise<ExamListRow[]> {
  return prisma.$queryRawUnsafe<ExamListRow[]>(
    `SELECT e.id, e.campaign_id AS "campaignId", e.child_id AS "childId", c.name AS "childName", to_char(e.date, 'YYYY-MM-DD') AS date,
            e.examiner, e.height_cm::float AS "heightCm", e.weight_kg::float AS "weightKg", e.bmi::float AS bmi,
            e.vision_left::float AS "visionLeft", e.vision_right::float AS "visionRight", e.hemoglobin, e.caries,
            e.bp_systolic AS "bpSystolic", e.bp_diastolic AS "bpDiastolic", e.flags, e.notes
       FROM exams e JOIN children c ON c.id = e.child_id
      WHERE c.village_code LIKE $1 || '%' AND ($2::uuid IS NULL OR e.child_id = $2::uuid) AND ($3::uuid IS NULL OR e.campaign_id = $3::uuid)
        AND ($5::text IS NULL OR EXISTS (SELECT 1 FROM mentors m WHERE m.child_id = e.child_id AND m.username = $5))
      ORDER BY e.date DESC LIMIT $4`,
    q.orgUnit,
    q.childId,
    q.campaignId,
    q.limit,
    q.pairedTo,
  );
}

export interface FollowUpRow {
  id: string;
  childId: string;
  childName: string;
  villageCode: string;
  kind: string;
  label: string;
  owner: string | null;
  ownerName: string | null;
  status: "open" | "resolved" | "referred" | "closed";
  referral: unknown;
  createdAt: Date;
  closedAt: Date | null;
}

/** Follow-ups within `scope`, by status; `owner`: only those this login owns (teachers). */
export async function listFollowUps(
  prisma: PrismaClient,
  q: { scope: string; status: string | null; owner: string | null; limit: number },
): Promise<FollowUpRow[]> {
  return prisma.$queryRawUnsafe<FollowUpRow[]>(
    `SELECT f.id, f.child_id AS "childId", c.name AS "childName", f.village_code AS "villageCode", f.kind, f.label, f.owner,
            f.owner_name AS "ownerName", f.status, f.referral, f.created_at AS "createdAt", f.closed_at AS "closedAt"
       FROM follow_ups f JOIN children c ON c.id = f.child_id
      WHERE f.village_code LIKE $1 || '%' AND ($2::text IS NULL OR f.status = $2) AND ($3::text IS NULL OR f.owner = $3)
      ORDER BY f.created_at DESC LIMIT $4`,
    q.scope,
    q.status,
    q.owner,
    q.limit,
  );
}
