import type { ConcernCategory } from "@shouhu/contracts";

/**
 * How long a case may wait for its first response (受理 or any later status) by
 * category, in hours from when it was raised. Suspected abuse and safety hazards
 * are answered within a day; the rest within two or three. A case still open past
 * the daily scan's escalation day (CONCERN_ESCALATION_DAYS, 3 by default) goes up to
 * the county whatever its category: the limit here is the township's own target,
 * the escalation the backstop.
 */
const RESPONSE_LIMIT_HOURS: Record<ConcernCategory, number> = {
  abuse_suspected: 24,
  safety: 24,
  neglect: 48,
  health: 48,
  psychological: 48,
  other: 72,
  // 控辍保学: the township starts 劝返 (persuading the child back) within two days.
  dropout_risk: 48,
};

export interface ResponseClock {
  responseLimitHours: number;
  /** When the first response is due. */
  respondBy: Date;
  /** First response (a status change from 待处理), or null while still open. */
  respondedAt: Date | null;
  /** Open past `respondBy`, or answered after it. */
  overdue: boolean;
}

export function responseClock(c: { category: ConcernCategory; raisedAt: Date; respondedAt: Date | null }, now: Date): ResponseClock {
  const hours = RESPONSE_LIMIT_HOURS[c.category];
  const respondBy = new Date(c.raisedAt.getTime() + hours * 3_600_000);
  const overdue = c.respondedAt ? c.respondedAt > respondBy : now > respondBy;
  return { responseLimitHours: hours, respondBy, respondedAt: c.respondedAt, overdue };
}

/** SQL for a row's due time, built from the table above (constants, no input). */
export function respondBySql(alias: string): string {
  const cases = Object.entries(RESPONSE_LIMIT_HOURS)
    .map(([category, hours]) => `WHEN '${category}' THEN ${hours}`)
    .join(" ");
  return `(${alias}.raised_at + make_interval(hours => CASE ${alias}.category ${cases} ELSE 72 END))`;
}
