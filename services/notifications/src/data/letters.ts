import { createHash, randomBytes } from "node:crypto";
import { v7 as uuidv7 } from "uuid";
import type { SqlTx } from "@shouhu/messaging";
import type { PrismaClient } from "./db.js";
import { quietHoursAt } from "./office-settings.js";
import { publishReceiptFailures } from "./delivery.js";
import { earliestSend, type QuietHours } from "../domain/quiet-hours.js";
import { render } from "../domain/templates.js";
import { LETTER_SMS_TEMPLATE, classLabel, renderLetter, type LetterCategory, type LetterScope, type LetterVariable } from "../domain/letters.js";

type Db = Pick<SqlTx, "$queryRawUnsafe">;

/** A letter link's code (minted here, with the row that stores its hash): 128 random bits, base64url (22 characters; plain path characters for the gateway's public check). */
function newLinkCode(): string {
  return randomBytes(16).toString("base64url");
}

/** What is stored of a code: its SHA-256 (a leaked table opens no letter). */
function hashLinkCode(code: string): string {
  return createHash("sha256").update(code).digest("hex");
}

export interface LetterRow {
  id: string;
  orgUnit: string;
  title: string;
  body: string;
  signature: string;
  scope: LetterScope;
  categories: LetterCategory[];
  status: "draft" | "sending" | "sent" | "withdrawn";
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
  sentBy: string | null;
  sentAt: Date | null;
  withdrawnAt: Date | null;
  recipients: number;
}

export interface LetterInput {
  title: string;
  body: string;
  signature: string;
  scope: LetterScope;
  categories: LetterCategory[];
}

/** A mainland mobile number: what an SMS can reach (landlines and blanks cannot). */
const MOBILE = /^1[3-9]\d{9}$/;

export async function createLetter(prisma: PrismaClient, input: LetterInput, by: string): Promise<LetterRow> {
  return (await prisma.letter.create({
    data: { id: uuidv7(), orgUnit: input.scope.townshipCode, ...input, scope: { ...input.scope }, status: "draft", createdBy: by },
  })) as unknown as LetterRow;
}

/** A draft's new text or addressees; null when it is no longer a draft (sent letters stay as sent). */
export async function updateDraft(prisma: PrismaClient, id: string, input: LetterInput): Promise<LetterRow | null> {
  const { count } = await prisma.letter.updateMany({
    where: { id, status: "draft" },
    data: { ...input, orgUnit: input.scope.townshipCode, scope: { ...input.scope } },
  });
  return count ? getLetter(prisma, id) : null;
}

export async function getLetter(prisma: PrismaClient, id: string): Promise<LetterRow | null> {
  return (await prisma.letter.findUnique({ where: { id } })) as unknown as LetterRow | null;
}

/** Letters of the org units under `orgUnit`, newest first. */
export async function listLetters(prisma: PrismaClient, orgUnit: string, limit = 200): Promise<LetterRow[]> {
  return (await prisma.letter.findMany({ where: { orgUnit: { startsWith: orgUnit } }, orderBy: { createdAt: "desc" }, take: limit })) as unknown as LetterRow[];
}

/** draft → sending (the job takes it from there); false when it was not a draft. */
export async function markSending(prisma: PrismaClient, id: string, by: string): Promise<boolean> {
  return (await prisma.letter.updateMany({ where: { id, status: "draft" }, data: { status: "sending", sentBy: by } })).count === 1;
}

/** Withdrawn: the links answer 410; SMS not yet out (quiet hours) are not sent. */
export async function withdrawLetter(prisma: PrismaClient, id: string): Promise<boolean> {
  return prisma.$transaction(async (tx) => {
    const { count } = await tx.letter.updateMany({
      where: { id, status: { in: ["sending", "sent"] } },
      data: { status: "withdrawn", withdrawnAt: new Date() },
    });
    if (!count) return false;
    await tx.$executeRawUnsafe(
      `UPDATE messages SET status = 'failed', failed_at = now(), last_error = '信已撤回，未发送'
        WHERE id IN (SELECT message_id FROM letter_recipients WHERE letter_id = $1::uuid) AND status = 'queued'`,
      id,
    );
    return true;
  });
}

interface ChildRow {
  id: string;
  name: string;
  villageCode: string;
  guardianName: string | null;
  guardianPhone: string | null;
  parents: { role: "father" | "mother"; name: string | null; phone: string | null }[];
  schoolId: string | null;
  schoolName: string | null;
  grade: string | null;
  className: string | null;
}

/** The children in a letter's scope (active ones: an exited child's family is no longer ours to write to). */
async function childrenIn(db: Db, scope: LetterScope): Promise<ChildRow[]> {
  return db.$queryRawUnsafe<ChildRow[]>(
    `SELECT id, name, village_code AS "villageCode", guardian_name AS "guardianName", guardian_phone AS "guardianPhone", parents,
            school_id AS "schoolId", school_name AS "schoolName", grade, class_name AS "className"
       FROM children
      WHERE status = 'active' AND township_code = $1
        AND ($2::text IS NULL OR school_id = $2) AND ($3::text IS NULL OR grade = $3) AND ($4::text IS NULL OR class_name = $4)
      ORDER BY name, id`,
    scope.townshipCode,
    scope.schoolId ?? null,
    scope.grade ?? null,
    scope.className ?? null,
  );
}

export interface Addressee {
  phone: string;
  name: string | null;
  category: LetterCategory;
  children: ChildRow[];
}

export interface Unreachable {
  childId: string;
  childName: string;
  schoolName: string | null;
  classLabel: string | null;
  /** The chosen categories this child has no mobile number for. */
  missing: LetterCategory[];
}

/**
 * Who a letter reaches: one addressee per mobile number (a parent of two children gets one SMS, the
 * letter naming both; a guardian who is also a parent, once, as the first category chosen), and the
 * children none of whose chosen contacts has a mobile number.
 */
export async function addressees(db: Db, scope: LetterScope, categories: readonly LetterCategory[]): Promise<{ to: Addressee[]; unreachable: Unreachable[] }> {
  const byPhone = new Map<string, Addressee>();
  const unreachable: Unreachable[] = [];
  const order: LetterCategory[] = (["guardian", "father", "mother"] as const).filter((c) => categories.includes(c));
  for (const child of await childrenIn(db, scope)) {
    const missing: LetterCategory[] = [];
    let reached = false;
    for (const category of order) {
      const person =
        category === "guardian"
          ? { name: child.guardianName, phone: child.guardianPhone }
          : (child.parents.find((p) => p.role === category) ?? { name: null, phone: null });
      const phone = person.phone?.replace(/[\s-]/g, "") ?? "";
      if (!MOBILE.test(phone)) {
        missing.push(category);
        continue;
      }
      reached = true;
      const known = byPhone.get(phone);
      if (known) {
        if (!known.children.includes(child)) known.children.push(child);
      } else byPhone.set(phone, { phone, name: person.name, category, children: [child] });
    }
    if (!reached)
      unreachable.push({
        childId: child.id,
        childName: child.name,
        schoolName: child.schoolName,
        classLabel: classLabel(child.grade, child.className),
        missing,
      });
  }
  return { to: [...byPhone.values()], unreachable };
}

/** The letter's variables for one addressee: the children named together (张三、张四). */
export function letterVars(a: Pick<Addressee, "name" | "children">): Record<LetterVariable, string | null> {
  const schools = [...new Set(a.children.map((c) => c.schoolName).filter(Boolean))];
  const classes = [...new Set(a.children.map((c) => classLabel(c.grade, c.className)).filter(Boolean))];
  return { 儿童姓名: a.children.map((c) => c.name).join("、"), 监护人姓名: a.name, 学校: schools.join("、") || null, 班级: classes.join("、") || null };
}

/**
 * The sending job's work, in one transaction: a recipient row (its link's code hashed) and an SMS
 * message per addressee, held to the township's quiet hours like any message that is not urgent;
 * the letter becomes sent. A rerun (the job retried after a crash) finds it no longer sending.
 */
export async function expandLetter(
  prisma: PrismaClient,
  letterId: string,
  options: { now: Date; quiet: QuietHours; linkBase: string },
): Promise<number | null> {
  return prisma.$transaction(
    async (tx) => {
      const [letter] = await tx.$queryRawUnsafe<LetterRow[]>(
        `SELECT id, org_unit AS "orgUnit", title, scope, categories, status FROM letters WHERE id = $1::uuid FOR UPDATE`,
        letterId,
      );
      if (!letter || letter.status !== "sending") return null;
      const { to } = await addressees(tx, letter.scope, letter.categories);
      const quiet = await quietHoursAt(tx, letter.orgUnit, options.quiet);
      const notBefore = earliestSend(options.now, quiet, true).toISOString();
      const now = options.now.toISOString();
      const messages = [];
      const recipients = [];
      for (const a of to) {
        const code = newLinkCode();
        const messageId = uuidv7();
        const link = `${options.linkBase.replace(/\/+$/, "")}/l/${code}`;
        const vars = { title: letter.title, link };
        const { title, body } = render(LETTER_SMS_TEMPLATE, vars);
        const first = a.children[0]!;
        messages.push({
          id: messageId,
          dedup_key: `letter:${letter.id}:${a.phone}`,
          source_event_id: letter.id,
          source_event_type: "letter",
          rule: "letter-home",
          channel: "sms",
          template: LETTER_SMS_TEMPLATE,
          address: a.phone,
          recipient_name: a.name,
          org_unit: first.villageCode,
          child_id: first.id,
          title,
          body,
          vars,
          not_before: notBefore,
          created_at: now,
        });
        const v = letterVars(a);
        recipients.push({
          id: uuidv7(),
          letter_id: letter.id,
          phone: a.phone,
          name: a.name,
          category: a.category,
          child_ids: a.children.map((c) => c.id),
          child_names: v.儿童姓名,
          school_id: first.schoolId,
          school_name: first.schoolName,
          class_label: v.班级,
          code_hash: hashLinkCode(code),
          message_id: messageId,
        });
      }
      if (messages.length) {
        await tx.$executeRawUnsafe(
          `INSERT INTO messages (id, dedup_key, source_event_id, source_event_type, rule, channel, template, urgent, address, recipient_name, org_unit,
                                 child_id, title, body, vars, status, not_before, created_at)
           SELECT id, dedup_key, source_event_id, source_event_type, rule, channel, template, false, address, recipient_name, org_unit,
                  child_id, title, body, vars, 'queued', not_before, created_at
             FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, dedup_key text, source_event_id text, source_event_type text, rule text, channel text,
                  template text, address text, recipient_name text, org_unit text, child_id uuid, title text, body text, vars jsonb,
                  not_before timestamptz, created_at timestamptz)`,
          JSON.stringify(messages),
        );
        await tx.$executeRawUnsafe(
          `INSERT INTO letter_recipients (id, letter_id, phone, name, category, child_ids, child_names, school_id, school_name, class_label, code_hash, message_id)
           SELECT id, letter_id, phone, name, category, child_ids, child_names, school_id, school_name, class_label, code_hash, message_id
             FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, letter_id uuid, phone text, name text, category text, child_ids uuid[], child_names text,
                  school_id text, school_name text, class_label text, code_hash text, message_id uuid)`,
          JSON.stringify(recipients),
        );
      }
      await tx.$executeRawUnsafe(
        `UPDATE letters SET status = 'sent', sent_at = $2::timestamptz, recipients = $3, updated_at = now() WHERE id = $1::uuid`,
        letter.id,
        now,
        to.length,
      );
      return to.length;
    },
    { timeout: 120_000 },
  );
}

export interface ReachRow {
  schoolId: string | null;
  schoolName: string | null;
  recipients: number;
  /** Handed to the provider (or its receipt came). */
  sent: number;
  delivered: number;
  failed: number;
  read: number;
  /** Waiting for quiet hours to end. */
  held: number;
}

/** Reach per school: recipients, sent, delivered, failed (the provider's receipts, or never sent), read (已阅). */
export async function letterReach(prisma: PrismaClient, letterId: string, now: Date): Promise<ReachRow[]> {
  const rows = await prisma.$queryRawUnsafe<ReachRow[]>(
    `SELECT r.school_id AS "schoolId", max(r.school_name) AS "schoolName", count(*)::int AS recipients,
            count(*) FILTER (WHERE m.sent_at IS NOT NULL OR m.receipt IS NOT NULL)::int AS sent,
            count(*) FILTER (WHERE m.receipt = 'delivered')::int AS delivered,
            count(*) FILTER (WHERE m.receipt = 'failed' OR (m.receipt IS NULL AND m.status = 'failed'))::int AS failed,
            count(*) FILTER (WHERE r.first_read_at IS NOT NULL)::int AS read,
            count(*) FILTER (WHERE m.status = 'queued' AND m.not_before > $2::timestamptz)::int AS held
       FROM letter_recipients r JOIN messages m ON m.id = r.message_id
      WHERE r.letter_id = $1::uuid
      GROUP BY r.school_id ORDER BY max(r.school_name) NULLS LAST`,
    letterId,
    now.toISOString(),
  );
  return rows;
}

/** One provider receipt, as the status push said it. */
export interface Receipt {
  messageId: string;
  delivered: boolean;
  at: string;
  error: string | null;
}

/**
 * Records receipts: the first for a message wins (a repeated push changes nothing); ids that are no
 * SMS of ours are counted, not stored.
 */
export async function recordReceipts(prisma: PrismaClient, receipts: Receipt[]): Promise<{ recorded: number; repeated: number; unknown: number }> {
  const ids = [...new Set(receipts.map((r) => r.messageId))];
  if (!ids.length) return { recorded: 0, repeated: 0, unknown: 0 };
  return prisma.$transaction(async (tx) => {
    const known = await tx.$queryRawUnsafe<{ id: string }[]>(`SELECT id FROM messages WHERE id = ANY($1::uuid[]) AND channel = 'sms'`, ids);
    const knownIds = new Set(known.map((k) => k.id));
    const first = new Map<string, Receipt>();
    for (const r of receipts) if (knownIds.has(r.messageId) && !first.has(r.messageId)) first.set(r.messageId, r);
    // Row locks order two pushes of the same receipt: the second finds it written and writes nothing.
    const written = first.size
      ? await tx.$queryRawUnsafe<{ id: string; receipt: string; error: string | null }[]>(
          `UPDATE messages SET receipt = x.receipt, receipt_at = x.at, receipt_error = x.error
             FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, receipt text, at timestamptz, error text)
            WHERE messages.id = x.id AND messages.receipt IS NULL
           RETURNING messages.id::text, messages.receipt, messages.receipt_error AS error`,
          JSON.stringify([...first.values()].map((r) => ({ id: r.messageId, receipt: r.delivered ? "delivered" : "failed", at: r.at, error: r.error }))),
        )
      : [];
    // A sent SMS the receipt turns into failed: notification.failed, once (only the first receipt writes).
    await publishReceiptFailures(
      tx,
      written.filter((w) => w.receipt === "failed"),
    );
    const unknown = receipts.filter((r) => !knownIds.has(r.messageId)).length;
    return { recorded: written.length, repeated: receipts.length - unknown - written.length, unknown };
  });
}

export interface OpenedLetter {
  title: string;
  body: string;
  signature: string;
  sentAt: Date | null;
  childIds: string[];
}

/**
 * The letter behind a link's code, filled for its recipient, with 已阅 recorded (first and last read).
 * "unknown" (no such code), "withdrawn", "expired" (older than `maxAgeDays`).
 */
export async function openLetter(
  prisma: PrismaClient,
  code: string,
  now: Date,
  maxAgeDays: number,
): Promise<OpenedLetter | "unknown" | "withdrawn" | "expired"> {
  const [row] = await prisma.$queryRawUnsafe<
    {
      id: string;
      name: string | null;
      childIds: string[];
      childNames: string;
      schoolName: string | null;
      classLabel: string | null;
      title: string;
      body: string;
      signature: string;
      sentAt: Date | null;
      status: string;
    }[]
  >(
    `SELECT r.id, r.name, r.child_ids AS "childIds", r.child_names AS "childNames", r.school_name AS "schoolName", r.class_label AS "classLabel",
            l.title, l.body, l.signature, l.sent_at AS "sentAt", l.status
       FROM letter_recipients r JOIN letters l ON l.id = r.letter_id WHERE r.code_hash = $1`,
    hashLinkCode(code),
  );
  if (!row) return "unknown";
  if (row.status === "withdrawn") return "withdrawn";
  if (row.sentAt && now.getTime() - row.sentAt.getTime() > maxAgeDays * 86_400_000) return "expired";
  await prisma.$executeRawUnsafe(
    `UPDATE letter_recipients SET first_read_at = coalesce(first_read_at, $2::timestamptz), last_read_at = $2::timestamptz, reads = reads + 1 WHERE id = $1::uuid`,
    row.id,
    now.toISOString(),
  );
  const body = renderLetter(row.body, { 儿童姓名: row.childNames, 监护人姓名: row.name, 学校: row.schoolName, 班级: row.classLabel });
  return { title: row.title, body, signature: row.signature, sentAt: row.sentAt, childIds: row.childIds };
}

/** Schools and classes in a township (from the children held), for the compose form's pickers. */
export async function schoolsIn(prisma: PrismaClient, townshipCode: string) {
  const rows = await prisma.$queryRawUnsafe<
    { schoolId: string; schoolName: string | null; grade: string | null; className: string | null; children: number }[]
  >(
    `SELECT school_id AS "schoolId", max(school_name) AS "schoolName", grade, class_name AS "className", count(*)::int AS children
       FROM children WHERE status = 'active' AND township_code = $1 AND school_id IS NOT NULL
      GROUP BY school_id, grade, class_name ORDER BY max(school_name), grade NULLS LAST, class_name NULLS LAST`,
    townshipCode,
  );
  const schools = new Map<
    string,
    { id: string; name: string; children: number; classes: { grade: string | null; className: string | null; children: number }[] }
  >();
  for (const r of rows) {
    const s = schools.get(r.schoolId) ?? { id: r.schoolId, name: r.schoolName ?? r.schoolId, children: 0, classes: [] };
    s.children += r.children;
    if (r.grade || r.className) s.classes.push({ grade: r.grade, className: r.className, children: r.children });
    schools.set(r.schoolId, s);
  }
  return [...schools.values()];
}
