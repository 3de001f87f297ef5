import { v7 as uuidv7 } from "uuid";
import type { TaskLinkClaims } from "@shouhu/auth";
import type { VisitKind } from "@shouhu/contracts";
import type { RecordInput } from "../domain/record.js";
import type { PrismaClient, Tx } from "./db.js";
import { appendToOutbox, buildEvent } from "@shouhu/messaging";
import { storeRecord, type Visitor } from "./records.js";
import { PRODUCER } from "./scan.js";
import type { Satisfied } from "./items.js";

/** The item a link names, with what the page shows and what the checks need. */
export interface LinkTarget {
  itemId: string;
  kind: VisitKind;
  period: string;
  periodStart: string;
  dueDate: string;
  escalateOn: string;
  status: "open" | "done" | "closed";
  child: { id: string; name: string; villageCode: string; townshipCode: string; countyCode: string; status: string; helperUsername: string | null };
  villageName: string | null;
  /** The item's responsible helper now (null: the village director answers for it). */
  helperId: string | null;
  helperName: string | null;
  used: boolean;
}

/** The link's item and child, read together; null when the ids do not name one item of that child. */
export async function linkTarget(db: Pick<Tx, "$queryRawUnsafe">, claims: TaskLinkClaims): Promise<LinkTarget | null> {
  const [row] = await db.$queryRawUnsafe<(Omit<LinkTarget, "child"> & { child: LinkTarget["child"] })[]>(
    `SELECT i.id AS "itemId", i.kind, i.period_key AS period, to_char(i.period_start, 'YYYY-MM-DD') AS "periodStart",
            to_char(i.due_date, 'YYYY-MM-DD') AS "dueDate", to_char(i.escalate_on, 'YYYY-MM-DD') AS "escalateOn", i.status,
            json_build_object('id', c.id, 'name', c.name, 'villageCode', c.village_code, 'townshipCode', c.township_code,
                              'countyCode', c.county_code, 'status', c.status, 'helperUsername', a.username) AS child,
            v.name AS "villageName", a.helper_id AS "helperId", a.name AS "helperName",
            EXISTS (SELECT 1 FROM used_task_links u WHERE u.token_id = $3) AS used
       FROM due_items i JOIN children c ON c.id = i.child_id
            LEFT JOIN assignments a ON a.child_id = i.child_id AND i.responsible = 'mentor'
            LEFT JOIN org_units v ON v.code = c.village_code
      WHERE i.id = $1::uuid AND i.child_id = $2::uuid`,
    claims.itemId,
    claims.childId,
    claims.tokenId,
  );
  return row ?? null;
}

export class LinkUsedError extends Error {}
export class ItemNotOpenError extends Error {}

/**
 * Records the link's visit or call as its helper, satisfying exactly the link's item. The used-link row goes in
 * first, in the record's transaction: a second submit at once waits on its key and finds it taken (LinkUsedError),
 * an item done meanwhile by someone else rolls everything back (ItemNotOpenError) — nothing stored either way.
 */
export async function recordByLink(
  prisma: PrismaClient,
  claims: TaskLinkClaims,
  target: LinkTarget,
  input: RecordInput,
  visitor: Visitor,
  at: Date,
): Promise<{ recordId: string; satisfied: Satisfied; concernId: string | null }> {
  return prisma.$transaction(async (tx) => {
    const recordId = uuidv7();
    const taken = await tx.$executeRawUnsafe(
      `INSERT INTO used_task_links (token_id, item_id, record_id, used_at) VALUES ($1, $2::uuid, $3::uuid, $4::timestamptz) ON CONFLICT (token_id) DO NOTHING`,
      claims.tokenId,
      claims.itemId,
      recordId,
      at,
    );
    if (taken === 0) throw new LinkUsedError();
    const [item] = await tx.$queryRawUnsafe<{ period: string; onTime: boolean }[]>(
      `UPDATE due_items SET status = 'done', record_id = $2::uuid, done_on = $3::date
        WHERE id = $1::uuid AND status = 'open'
        RETURNING period_key AS period, (done_on <= due_date) AS "onTime"`,
      claims.itemId,
      recordId,
      input.date,
    );
    if (!item) throw new ItemNotOpenError();
    const satisfied = { itemId: claims.itemId, period: item.period, onTime: item.onTime };
    const concernId = await storeRecord(tx, target.child, { ...input, id: recordId }, visitor, at, satisfied, "task_link");
    return { recordId, satisfied, concernId };
  });
}

export type LinkAction = "open" | "submit" | "issue";
export type LinkOutcome = "ok" | "invalid" | "expired" | "used" | "done" | "gone" | "bad_input";

/** One row of the link's audit trail, outside any refused transaction (a refusal is kept too). */
export async function auditLinkUse(
  db: Pick<Tx, "$executeRawUnsafe">,
  use: { tokenId: string | null; itemId: string | null; childId: string | null; action: LinkAction; outcome: LinkOutcome; address: string | null; at: Date },
): Promise<void> {
  await db.$executeRawUnsafe(
    `INSERT INTO task_link_uses (id, token_id, item_id, child_id, action, outcome, address, at) VALUES ($1::uuid, $2, $3::uuid, $4::uuid, $5, $6, $7, $8::timestamptz)`,
    uuidv7(),
    use.tokenId,
    use.itemId,
    use.childId,
    use.action,
    use.outcome,
    use.address?.slice(0, 64) ?? null,
    use.at,
  );
}

/** An item and its responsible helper, for a hand-issued link (the caller checks jurisdiction and that it fits). */
export interface ItemForLink {
  itemId: string;
  kind: VisitKind;
  period: string;
  dueDate: string;
  status: string;
  escalateOn: string;
  child: { id: string; name: string; villageCode: string; townshipCode: string };
  helperId: string | null;
  helperName: string | null;
  helperUsername: string | null;
  helperPhone: string | null;
}

export async function itemForLink(db: Pick<PrismaClient, "$queryRawUnsafe">, itemId: string): Promise<ItemForLink | null> {
  const [row] = await db.$queryRawUnsafe<ItemForLink[]>(
    `SELECT i.id AS "itemId", i.kind, i.period_key AS period, to_char(i.due_date, 'YYYY-MM-DD') AS "dueDate", i.status,
            to_char(i.escalate_on, 'YYYY-MM-DD') AS "escalateOn",
            json_build_object('id', c.id, 'name', c.name, 'villageCode', c.village_code, 'townshipCode', c.township_code) AS child,
            a.helper_id AS "helperId", a.name AS "helperName", a.username AS "helperUsername", a.phone AS "helperPhone"
       FROM due_items i JOIN children c ON c.id = i.child_id LEFT JOIN assignments a ON a.child_id = i.child_id AND i.responsible = 'mentor'
      WHERE i.id = $1::uuid`,
    itemId,
  );
  return row ?? null;
}

/** Asks notifications to send the item's helper a one-time link by SMS (it mints the link): an outbox row and the audit row. */
export async function requestLinkSms(
  prisma: PrismaClient,
  item: ItemForLink & { helperId: string },
  requestedBy: Visitor,
  at: Date,
  address: string | null,
): Promise<void> {
  await prisma.$transaction(async (tx) => {
    await appendToOutbox(tx, [
      buildEvent(
        "task-link.requested",
        {
          subject: item.child.id,
          orgUnit: item.child.villageCode,
          actor: requestedBy.actor,
          data: {
            itemId: item.itemId,
            kind: item.kind,
            period: item.period,
            dueDate: item.dueDate,
            child: item.child,
            responsible: {
              kind: "helper",
              helperId: item.helperId,
              name: item.helperName,
              phone: item.helperPhone,
              username: item.helperUsername,
              villageCode: item.child.villageCode,
            },
            requestedBy: { userId: requestedBy.userId, name: requestedBy.name },
          },
        },
        { producer: PRODUCER, now: at },
      ),
    ]);
    await auditLinkUse(tx, { tokenId: null, itemId: item.itemId, childId: item.child.id, action: "issue", outcome: "ok", address, at });
  });
}
