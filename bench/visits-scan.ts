/**
 * Daily visit scan benchmark: 100,000 children × the 5 seed rules. Two scan days
 * are measured through the real `dailyScan` (items created, reminders or overdue
 * flags set, one outbox event per item, in batches): 2026-11-28 (the month's
 * reminders) and 2026-12-06 (November overdue, December's items created). Beside
 * each, in the same run, a plain SQL count of the same due items — the floor for
 * "finding" them, without acting on them.
 *
 *   npx tsx --conditions source bench/visits-scan.ts [--children 100000]
 */
import os from "node:os";
import { fileURLToPath } from "node:url";
import { migrate } from "@shouhu/db";
import { createTestDatabase } from "@shouhu/testing";
import { createPrisma } from "../services/visits/src/data/db.js";
import { dailyScan } from "../services/visits/src/data/scan.js";

const arg = process.argv.indexOf("--children");
const children = arg > 0 ? Number(process.argv[arg + 1]) : 100_000;
const root = fileURLToPath(new URL("..", import.meta.url));

const db = await createTestDatabase("bench_visits");
const prisma = createPrisma(db.url);
try {
  await migrate({ databaseUrl: db.url, migrationsDir: `${root}/services/visits/prisma/migrations` });
  // 20 townships × 15 villages; 70 % of children have a paired mentor.
  await prisma.$executeRawUnsafe(
    `INSERT INTO children (id, name, village_code, township_code, county_code, school_id, status, revision, since, updated_at)
     SELECT gen_random_uuid(), '儿童' || g, '360999' || lpad((100 + g % 20)::text, 3, '0') || lpad((200 + g % 15)::text, 3, '0'),
            '360999' || lpad((100 + g % 20)::text, 3, '0'), '360999', NULL, 'active', 1, DATE '2026-09-01', now()
       FROM generate_series(1, $1) g`,
    children,
  );
  await prisma.$executeRawUnsafe(
    `INSERT INTO assignments (child_id, pairing_id, helper_id, name, phone, username, since)
     SELECT id, gen_random_uuid(), gen_random_uuid(), '帮扶人', '13900000000', NULL, DATE '2026-09-01' FROM children WHERE random() < 0.7`,
  );
  await prisma.$executeRawUnsafe("ANALYZE");
  console.log(`${children} children × 5 rules; ${os.cpus().length} × ${os.cpus()[0]?.model}, node ${process.version}`);

  const rows: string[] = [];
  for (const [today, stage, countSql] of [
    [
      "2026-11-28",
      "reminders",
      `SELECT count(*)::int AS n FROM due_items WHERE status = 'open' AND reminded_at IS NULL AND remind_on <= $1::date AND due_date >= $1::date`,
    ],
    ["2026-12-06", "overdue", `SELECT count(*)::int AS n FROM due_items WHERE status = 'open' AND overdue_notified_at IS NULL AND due_date < $1::date`],
  ] as const) {
    // Baseline first (the scan flags the items): items must exist to be counted, so
    // the count runs after this day's items were created by a dry pass of the same SQL.
    const { ensureItems } = await import("../services/visits/src/data/items.js");
    // 10:00 China time on the scan day: the scan's clock.
    const at = new Date(`${today}T02:00:00Z`);
    const createStart = performance.now();
    const created = await ensureItems(prisma, today, at, { countyCode: "360999" });
    const createMs = performance.now() - createStart;
    const countStart = performance.now();
    const [{ n }] = (await prisma.$queryRawUnsafe<{ n: number }[]>(countSql, today)) as [{ n: number }];
    const countMs = performance.now() - countStart;

    const outboxBefore = await prisma.outboxEvent.count();
    const scanStart = performance.now();
    const result = await dailyScan(prisma, at);
    const scanMs = performance.now() - scanStart;
    const events = (await prisma.outboxEvent.count()) - outboxBefore;
    rows.push(
      `| ${today} | ${stage} | ${created} items created (${(createMs / 1000).toFixed(1)} s) | ${n} | ${countMs.toFixed(0)} ms | ${events} | ${(scanMs / 1000).toFixed(1)} s | ${Math.round(events / (scanMs / 1000))} | ${(scanMs / countMs).toFixed(0)}× |`,
    );
    console.log(today, result);
  }
  console.log(
    [
      "| scan day | what is due | items | due items found by plain SQL count | count time | events written by the scan | scan time | events/s | scan / count |",
      "| --- | --- | --- | --: | --: | --: | --: | --: | --: |",
      ...rows,
    ].join("\n"),
  );
} finally {
  await prisma.$disconnect();
  await db.drop();
}
