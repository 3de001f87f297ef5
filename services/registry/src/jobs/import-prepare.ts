import { randomUUID } from "node:crypto";
import type { Actor, Envelope, FieldChange } from "@shouhu/contracts";
// The outbox module alone: the package's index would load BullMQ into the parse worker.
import { buildEvent } from "@shouhu/messaging/outbox";
import type { ChildInput } from "../domain/child.js";
import { type ChildRecord, editableFields, toSnapshot } from "../domain/child-record.js";
import { contains, countyOf, townshipOf } from "@shouhu/contracts";

/** One row of a parsed register: a valid child, or the reasons it was rejected (zh-CN). */
export type ParsedRow =
  | { sheet: string; rowNumber: number; ok: true; child: ChildInput }
  | { sheet: string; rowNumber: number; ok: false; reasons: string[]; name?: string | null; idNumber?: string | null };

export type Rejection = { sheet: string; rowNumber: number; name: string | null; idNumber: string | null; reasons: string[]; existingChildId: string | null };

/** What every row of one import shares. Plain data: it crosses into the parse worker. */
export interface PrepareContext {
  batchId: string;
  orgUnit: string;
  actor: Actor;
  /** The registry's producer name for events (`PRODUCER`). */
  producer: string;
  /** School id → name, for the event snapshot. */
  schoolNames: Record<string, string>;
  /** The import job's trace, so events of a batch parsed in the worker join it. */
  traceparent?: string;
}

/** The tables a batch writes with COPY, in the order they are written (children first: the others reference it). */
export const copyTables = {
  children: [
    "id",
    "id_number",
    "name",
    "sex",
    "birth_date",
    "ethnicity",
    "village_code",
    "township_code",
    "county_code",
    "address",
    "school_id",
    "grade",
    "class_name",
    "left_behind_type",
    "difficulty_categories",
    "risk_level",
    "family_situation",
    "health_notes",
    "psychological_notes",
    "helper_name",
    "remarks",
    "revision",
    "import_batch_id",
    "created_by",
    "created_at",
    "updated_at",
  ],
  guardians: ["id", "child_id", "position", "name", "relation", "phone", "age", "health"],
  parents: ["id", "child_id", "role", "name", "phone", "work_province", "work_city", "employer", "away_since"],
  child_history: ["child_id", "revision", "action", "actor_id", "actor_name", "actor_role", "reason", "changes", "at"],
  outbox: ["id", "type", "subject", "org_unit", "envelope"],
} as const;
export type CopyTable = keyof typeof copyTables;
const tableNames = Object.keys(copyTables) as CopyTable[];

/**
 * A parsed batch ready to store: its rejections, and for every candidate child
 * its lines of COPY text for each table, already UTF-8. `ends[table][i]` is
 * where candidate i's lines end, so the store can leave out children that turn
 * out to be on file without preparing anything again. Buffers are transferable.
 */
export interface PreparedBatch {
  rowCount: number;
  rejections: Rejection[];
  candidates: { idNumber: string; name: string; sheet: string; rowNumber: number }[];
  copy: Record<CopyTable, Uint8Array>;
  ends: Record<CopyTable, Uint32Array>;
}

let lastMs = -1;
let msHex = "";
/**
 * A UUIDv7 from Node's buffered random UUID: time-ordered, so new rows land at
 * the right edge of their primary-key index, and ~20× cheaper than `uuid`'s v7
 * (which asks the OS for 16 random bytes per id).
 */
function uuidV7(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    msHex = ms.toString(16).padStart(12, "0");
  }
  const r = randomUUID(); // xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx
  return `${msHex.slice(0, 8)}-${msHex.slice(8)}-7${r.slice(15, 18)}-${r.slice(19)}`;
}

/** In-memory record for a child about to be inserted, for its event snapshot and history. */
export function recordFromInput(id: string, input: ChildInput, schoolName: string | null, now: string): ChildRecord {
  return {
    id,
    idNumber: input.idNumber,
    name: input.name,
    sex: input.sex,
    birthDate: input.birthDate,
    ethnicity: input.ethnicity ?? "汉族",
    villageCode: input.villageCode,
    townshipCode: townshipOf(input.villageCode),
    countyCode: countyOf(input.villageCode),
    address: input.address ?? null,
    schoolId: input.schoolId ?? null,
    schoolName,
    grade: input.grade ?? null,
    className: input.className ?? null,
    leftBehindType: input.leftBehindType,
    difficultyCategories: input.difficultyCategories ?? [],
    riskLevel: input.riskLevel ?? "low",
    status: "active",
    exitReason: null,
    exitNote: null,
    exitedAt: null,
    familySituation: input.familySituation ?? null,
    healthNotes: input.healthNotes ?? null,
    psychologicalNotes: input.psychologicalNotes ?? null,
    helperName: input.helperName ?? null,
    remarks: input.remarks ?? null,
    guardians: (input.guardians ?? []).map((g) => ({
      name: g.name,
      relation: g.relation,
      phone: g.phone ?? null,
      age: g.age ?? null,
      health: g.health ?? null,
    })),
    parents: (input.parents ?? []).map((p) => ({
      role: p.role,
      name: p.name ?? null,
      phone: p.phone ?? null,
      workProvince: p.workProvince ?? null,
      workCity: p.workCity ?? null,
      employer: p.employer ?? null,
      awaySince: p.awaySince ?? null,
    })),
    revision: 1,
    createdAt: now,
    updatedAt: now,
  };
}

const copySpecial = /[\\\t\n\r]/;

/** A value in PostgreSQL's COPY text format. */
function copyValue(v: unknown): string {
  if (v === null || v === undefined) return "\\N";
  const text = typeof v === "string" ? v : String(v);
  if (!copySpecial.test(text)) return text;
  return text.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n").replace(/\r/g, "\\r");
}

/** JSON in COPY text: JSON.stringify leaves no raw tab or line break, only backslashes to double. */
const copyJson = (value: unknown): string => {
  const json = JSON.stringify(value);
  return json.includes("\\") ? json.replace(/\\/g, "\\\\") : json;
};

/**
 * The first history entry of a new child: what `diffFields({}, pickEditable(child))`
 * returns for a manual registration (every editable field that is not null,
 * before null), without diffFields' JSON comparison of each value against null.
 */
export function firstHistory(child: ChildRecord): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const field of editableFields) {
    const after = child[field];
    if (after != null) changes.push({ field, before: null, after });
  }
  return changes;
}

/**
 * The COPY lines of one new child, per table. Identifiers, codes, enums and
 * dates are ours and never hold a tab or line break; text staff typed is escaped.
 */
function linesOf(c: ChildRecord, event: Envelope, ctx: PrepareContext, now: string): Record<CopyTable, string> {
  const { actor, batchId } = ctx;
  const v = copyValue;
  const opt = (code: string | null) => code ?? "\\N";
  let guardians = "";
  for (let i = 0; i < c.guardians.length; i++) {
    const g = c.guardians[i]!;
    guardians += `${uuidV7()}\t${c.id}\t${i}\t${v(g.name)}\t${v(g.relation)}\t${v(g.phone)}\t${v(g.age)}\t${v(g.health)}\n`;
  }
  let parents = "";
  for (const p of c.parents) {
    parents += `${uuidV7()}\t${c.id}\t${p.role}\t${v(p.name)}\t${v(p.phone)}\t${v(p.workProvince)}\t${v(p.workCity)}\t${v(p.employer)}\t${v(p.awaySince)}\n`;
  }
  return {
    children:
      `${c.id}\t${v(c.idNumber)}\t${v(c.name)}\t${c.sex}\t${c.birthDate}\t${v(c.ethnicity)}\t${c.villageCode}\t${c.townshipCode}\t${c.countyCode}\t` +
      `${v(c.address)}\t${opt(c.schoolId)}\t${v(c.grade)}\t${v(c.className)}\t${c.leftBehindType}\t{${c.difficultyCategories.join(",")}}\t${c.riskLevel}\t` +
      `${v(c.familySituation)}\t${v(c.healthNotes)}\t${v(c.psychologicalNotes)}\t${v(c.helperName)}\t${v(c.remarks)}\t1\t${batchId}\t${v(actor.id)}\t${now}\t${now}\n`,
    guardians,
    parents,
    child_history: `${c.id}\t1\timported\t${v(actor.id)}\t${v(actor.name)}\t${v(actor.role)}\t${v(`批量导入 ${batchId}`)}\t${copyJson(firstHistory(c))}\t${now}\n`,
    outbox: `${event.id}\t${event.type}\t${event.subject}\t${event.orgUnit}\t${copyJson(event)}\n`,
  };
}

/** Appends UTF-8 text to a growing buffer. */
class ByteSink {
  private buf = new Uint8Array(1 << 16);
  length = 0;
  private static encoder = new TextEncoder();
  write(text: string): void {
    const need = this.length + text.length * 3; // a UTF-16 unit is at most 3 UTF-8 bytes
    if (need > this.buf.length) {
      const bigger = new Uint8Array(Math.max(need, this.buf.length * 2));
      bigger.set(this.buf.subarray(0, this.length));
      this.buf = bigger;
    }
    this.length += ByteSink.encoder.encodeInto(text, this.buf.subarray(this.length)).written;
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/**
 * Turns parsed rows into what the store writes: rejections (including children
 * outside the uploader's jurisdiction) and, for each candidate, a new id, its
 * rows, its first history entry and its validated `child.registered` event.
 * Pure CPU work, so it runs beside the parser in the worker thread.
 */
export function prepareBatch(rows: ParsedRow[], ctx: PrepareContext): PreparedBatch {
  const now = new Date().toISOString();
  const rejections: Rejection[] = [];
  const candidates: PreparedBatch["candidates"] = [];
  const sinks = Object.fromEntries(tableNames.map((t) => [t, new ByteSink()])) as Record<CopyTable, ByteSink>;
  const ends = Object.fromEntries(tableNames.map((t) => [t, [] as number[]])) as Record<CopyTable, number[]>;
  for (const row of rows) {
    if (!row.ok) {
      rejections.push({
        sheet: row.sheet,
        rowNumber: row.rowNumber,
        name: row.name ?? null,
        idNumber: row.idNumber ?? null,
        reasons: row.reasons,
        existingChildId: null,
      });
      continue;
    }
    const { child } = row;
    if (!contains(ctx.orgUnit, child.villageCode)) {
      rejections.push({
        sheet: row.sheet,
        rowNumber: row.rowNumber,
        name: child.name,
        idNumber: child.idNumber,
        reasons: [`户籍地址不在您的管辖范围（${ctx.orgUnit}）内`],
        existingChildId: null,
      });
      continue;
    }
    const record = recordFromInput(uuidV7(), child, child.schoolId ? (ctx.schoolNames[child.schoolId] ?? null) : null, now);
    const event = buildEvent(
      "child.registered",
      {
        subject: record.id,
        orgUnit: record.villageCode,
        actor: ctx.actor,
        data: { child: toSnapshot(record) },
        ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
      },
      { producer: ctx.producer },
    );
    const lines = linesOf(record, event, ctx, now);
    for (const t of tableNames) {
      sinks[t].write(lines[t]);
      ends[t].push(sinks[t].length);
    }
    candidates.push({ idNumber: child.idNumber, name: child.name, sheet: row.sheet, rowNumber: row.rowNumber });
  }
  const copy = {} as Record<CopyTable, Uint8Array>;
  const endArrays = {} as Record<CopyTable, Uint32Array>;
  for (const t of tableNames) {
    copy[t] = sinks[t].bytes();
    endArrays[t] = Uint32Array.from(ends[t]);
  }
  return { rowCount: rows.length, rejections, candidates, copy, ends: endArrays };
}

/** The COPY text of the candidates kept (indexes into `candidates`, ascending), without copying when all are kept. */
export function keptText(batch: PreparedBatch, table: CopyTable, kept: number[]): Uint8Array[] {
  const all = batch.copy[table];
  const ends = batch.ends[table];
  if (kept.length === ends.length) return [all];
  return kept.map((i) => all.subarray(i === 0 ? 0 : ends[i - 1]!, ends[i]!)).filter((part) => part.length > 0);
}

/** Buffers to transfer (not copy) when posting a batch between threads. */
export function transferList(batch: PreparedBatch): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const t of tableNames) {
    buffers.add(batch.copy[t].buffer as ArrayBuffer);
    buffers.add(batch.ends[t].buffer as ArrayBuffer);
  }
  return [...buffers];
}
