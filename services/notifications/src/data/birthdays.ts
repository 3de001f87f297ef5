import { ageOn } from "@shouhu/cn";
import { birthdayPlans, type Parent } from "../domain/rules.js";
import type { QuietHours } from "../domain/quiet-hours.js";
import type { PrismaClient } from "./db.js";
import { storeMessages } from "./messages.js";

/**
 * The daily birthday job: each active child with a birthday in the next 7 days
 * (today included) has their mentor reminded in-app and their parents by SMS,
 * once — the message key holds the child and the birthday's year, so daily
 * runs, or two at once, send it once.
 */
export async function remindBirthdays(prisma: PrismaClient, today: string, options: { now: Date; quiet: QuietHours }): Promise<number> {
  const rows = await prisma.$queryRawUnsafe<
    {
      id: string;
      name: string;
      birthDate: string;
      villageCode: string;
      parents: Parent[];
      mentorName: string | null;
      phone: string | null;
      username: string | null;
    }[]
  >(
    `SELECT c.id, c.name, to_char(c.birth_date, 'YYYY-MM-DD') AS "birthDate", c.village_code AS "villageCode", c.parents,
            m.name AS "mentorName", m.phone, m.username
       FROM children c LEFT JOIN mentors m ON m.child_id = c.id
      WHERE c.status = 'active'`,
  );
  let stored = 0;
  for (const row of rows) {
    const next = nextBirthday(row.birthDate, today);
    const days = Math.round((Date.parse(next) - Date.parse(today)) / 86_400_000);
    if (days > 6) continue;
    const mentor = row.mentorName ? { name: row.mentorName, username: row.username, phone: row.phone } : null;
    const plans = birthdayPlans({ name: row.name, date: next, age: ageOn(row.birthDate, next) }, mentor, { guardian: null, parents: row.parents });
    if (plans.length === 0) continue;
    stored += await prisma.$transaction((tx) =>
      storeMessages(tx, { id: `birthday:${row.id}:${next.slice(0, 4)}`, type: "birthday", orgUnit: row.villageCode, childId: row.id }, plans, options),
    );
  }
  return stored;
}

/** This year's birthday, or next year's if it has passed (29 February → 1 March in other years). */
export function nextBirthday(birthDate: string, today: string): string {
  const year = Number(today.slice(0, 4));
  const on = (y: number) => {
    const d = new Date(Date.UTC(y, Number(birthDate.slice(5, 7)) - 1, Number(birthDate.slice(8, 10))));
    return d.toISOString().slice(0, 10);
  };
  const thisYear = on(year);
  return thisYear >= today ? thisYear : on(year + 1);
}
