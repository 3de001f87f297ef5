import { v7 as uuidv7 } from "uuid";
import type { NotificationChannel } from "@shouhu/contracts";
import type { Plan } from "../domain/rules.js";
import { render } from "../domain/templates.js";
import { earliestSend, type QuietHours } from "../domain/quiet-hours.js";
import { quietHoursAt } from "./office-settings.js";
import { deferred, type SqlTx } from "@shouhu/messaging";
import { peopleInRole, withDirectoryContacts, type Person } from "./directory.js";

export interface MessageSource {
  /** The event id, or a job's own key (a birthday: child + year). */
  id: string;
  type: string;
  orgUnit: string;
  childId: string | null;
}

interface Row {
  id: string;
  dedup_key: string;
  source_event_id: string;
  source_event_type: string;
  rule: string;
  channel: NotificationChannel;
  template: string;
  urgent: boolean;
  recipient_username: string | null;
  address: string;
  recipient_name: string | null;
  org_unit: string;
  child_id: string | null;
  title: string;
  body: string;
  vars: unknown;
  secret: string | null;
  status: "queued" | "sent";
  not_before: string;
  sent_at: string | null;
  created_at: string;
}

async function insertRows(tx: SqlTx, rows: Row[]): Promise<number> {
  if (rows.length === 0) return 0;
  return tx.$executeRawUnsafe(
    `INSERT INTO messages (id, dedup_key, source_event_id, source_event_type, rule, channel, template, urgent, recipient_username, address,
                           recipient_name, org_unit, child_id, title, body, vars, secret, status, not_before, sent_at, created_at)
     SELECT id, dedup_key, source_event_id, source_event_type, rule, channel, template, urgent, recipient_username, address,
            recipient_name, org_unit, child_id, title, body, vars, secret, status, not_before, sent_at, created_at
       FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, dedup_key text, source_event_id text, source_event_type text, rule text, channel text,
            template text, urgent boolean, recipient_username text, address text, recipient_name text, org_unit text, child_id uuid,
            title text, body text, vars jsonb, secret text, status text, not_before timestamptz, sent_at timestamptz, created_at timestamptz)
     ON CONFLICT (dedup_key) DO NOTHING`,
    JSON.stringify(rows),
  );
}

/**
 * A consumer batch's messages, stored by one insert before it commits instead of one per
 * event (nothing in the batch reads them back). Outside a batch they are stored at once.
 */
export const messageBatch = deferred<SqlTx, Row>(async (tx, rows) => void (await insertRows(tx, rows)));

function addressFor(channel: NotificationChannel, person: Person): string | null {
  switch (channel) {
    case "inapp":
      return person.username;
    case "sms":
      return person.phone;
    case "email":
      return person.email;
    default:
      return null;
  }
}

/**
 * Turns plans into messages, one per recipient and channel, in the caller's
 * transaction. In-app messages are delivered by being stored; the others are
 * queued for the dispatcher, SMS after quiet hours unless urgent. Each message
 * has a key made of its source, rule, channel and address: a redelivered event
 * (or a second birthday run) inserts nothing.
 */
export async function storeMessages(
  tx: SqlTx,
  source: MessageSource,
  plans: Plan[],
  /** `batched`: in a consumer batch, the rows go in with the batch's (returns how many were queued). */
  options: { now: Date; quiet: QuietHours; batched?: boolean },
): Promise<number> {
  const rows: Row[] = [];
  const now = options.now.toISOString();
  // The township's (or county's) own quiet hours, where its office set them.
  const quiet = plans.some((p) => p.channels.includes("sms") && !p.urgent) ? await quietHoursAt(tx, source.orgUnit, options.quiet) : options.quiet;
  for (const plan of plans) {
    const { title, body } = render(plan.template, plan.vars);
    const base = {
      source_event_id: source.id,
      source_event_type: source.type,
      rule: plan.rule,
      template: plan.template,
      urgent: plan.urgent,
      org_unit: source.orgUnit,
      child_id: source.childId,
      title,
      body,
      vars: plan.vars,
    };
    const push = (channel: NotificationChannel, address: string, username: string | null, name: string | null, secret: string | null = null) => {
      const inapp = channel === "inapp";
      rows.push({
        ...base,
        id: uuidv7(),
        dedup_key: `${source.id}:${plan.rule}:${channel}:${address}`,
        channel,
        recipient_username: username,
        address,
        recipient_name: name,
        secret,
        status: inapp ? "sent" : "queued",
        not_before: earliestSend(options.now, quiet, channel === "sms" && !plan.urgent).toISOString(),
        sent_at: inapp ? now : null,
        created_at: now,
      });
    };
    if (plan.audience.kind === "office") {
      const offices = await tx.$queryRawUnsafe<{ kind: NotificationChannel; url: string; secret: string | null }[]>(
        `SELECT kind, url, secret FROM office_channels WHERE org_unit = $1`,
        plan.audience.orgUnit,
      );
      for (const office of offices) if (plan.channels.includes(office.kind)) push(office.kind, office.url, null, null, office.secret);
      continue;
    }
    const people =
      plan.audience.kind === "role" ? await peopleInRole(tx, plan.audience.role, plan.audience.orgUnit) : [await withDirectoryContacts(tx, plan.audience)];
    for (const person of people) {
      for (const channel of plan.channels) {
        const address = addressFor(channel, person);
        if (address) push(channel, address, person.username, person.name);
      }
    }
  }
  if (options.batched) {
    for (const row of rows) await messageBatch.defer(tx, row);
    return rows.length;
  }
  return insertRows(tx, rows);
}
