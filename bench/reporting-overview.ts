/**
 * Reporting benchmark: a read model holding 100,000 children and 1,000,000 visit
 * records (plus pairings, visit items, concerns and check-ups) for one county of
 * 20 townships. Measures the county overview (one row per township) as served —
 * from the counters — beside the same numbers computed by plain aggregates over
 * the raw rows, in the same run; checks both give identical figures; and measures
 * event ingest through the real consumer (BullMQ → handlers → rows + counters)
 * over a mix of event types, checking the counters still equal the rows after.
 *
 *   npx tsx --conditions source bench/reporting-overview.ts [--children 100000] [--records 1000000] [--events 20000]
 */
import os from "node:os";
import { isDeepStrictEqual } from "node:util";
import { fileURLToPath } from "node:url";
import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import { createPgPool, migrate } from "@shouhu/db";
import { eventsQueue, type Envelope } from "@shouhu/contracts";
import { BATCH_JOB, CONSUMER_TRANSACTION, batchJobId, buildEvent, createEventConsumer, eventJobOptions, inPgTransaction } from "@shouhu/messaging";
import { createTestDatabase, testPrefix } from "@shouhu/testing";
import { createPrisma, type Tx } from "../services/reporting/src/data/db.js";
import { addConcernAges, figuresFromCounters, figuresFromRows, overviewReport, totals } from "../services/reporting/src/data/reports.js";
import { prepareReportingBatch, reportingHandlers } from "../services/reporting/src/events/handlers.js";
import { inBatch } from "../services/reporting/src/data/projection.js";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const CHILDREN = arg("children", 100_000);
const RECORDS = arg("records", 1_000_000);
const EVENTS = arg("events", 20_000);
/** Batch size of the last run (as the service runs it); the other runs keep 50. */
const BATCH = arg("batch", 50);
const root = fileURLToPath(new URL("..", import.meta.url));
const connection = { url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" };
const prefix = testPrefix("bench_reporting");

const db = await createTestDatabase("bench_reporting");
const prisma = createPrisma(db.url);
const queue = new Queue(eventsQueue("reporting"), { connection, prefix });

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
async function time(runs: number, fn: () => Promise<unknown>): Promise<{ p50: number; p95: number; mean: number }> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p95: percentile(samples, 95), mean: samples.reduce((a, b) => a + b, 0) / samples.length };
}

try {
  await migrate({ databaseUrl: db.url, migrationsDir: `${root}/services/reporting/prisma/migrations` });
  console.log(`${CHILDREN} children, ${RECORDS} visit records; ${os.cpus().length} × ${os.cpus()[0]?.model}, node ${process.version}`);
  const loadStart = performance.now();
  const village = (g: string) => `'360999' || lpad((100 + ${g} % 20)::text, 3, '0') || lpad((200 + (${g} / 20) % 15)::text, 3, '0')`;
  await prisma.$executeRawUnsafe(
    `INSERT INTO children (id, name, village_code, school_id, left_behind_type, categories, risk_level, status, revision)
     SELECT gen_random_uuid(), '儿童' || g, ${village("g")}, 'S360999' || lpad((100 + g % 20)::text, 3, '0') || '00' || (g % 4),
            (ARRAY['both_parents_away','one_parent_away','one_away_other_unable','not_left_behind'])[1 + g % 4],
            CASE WHEN g % 23 = 0 THEN ARRAY['de_facto_unattended'] ELSE ARRAY[]::text[] END,
            (ARRAY['low','low','medium','high'])[1 + g % 4], CASE WHEN g % 50 = 0 THEN 'exited' ELSE 'active' END, 1
       FROM generate_series(1, $1) g`,
    CHILDREN,
  );
  await prisma.$executeRawUnsafe(
    `INSERT INTO pairings (id, child_id, village_code, kind, state, started_on)
     SELECT gen_random_uuid(), id, village_code, 'mentor', 'active', DATE '2026-09-01' FROM children WHERE status = 'active' AND random() < 0.8`,
  );
  await prisma.$executeRawUnsafe(
    `INSERT INTO visit_items (id, child_id, village_code, kind, period, due_date, bucket)
     SELECT gen_random_uuid(), c.id, c.village_code, k, m, (m || '-05')::date + interval '1 month',
            (ARRAY['on_time','on_time','on_time','late','missed','escalated','pending'])[1 + (random() * 6)::int]
       FROM children c, unnest(ARRAY['home_visit','parent_call']) k, unnest(ARRAY['2026-09','2026-10','2026-11']) m WHERE c.status = 'active'`,
  );
  // Records spread over the children by row number, dated over the last twelve months.
  await prisma.$executeRawUnsafe(
    `WITH numbered AS (SELECT id, village_code, row_number() OVER () - 1 AS rn FROM children)
     INSERT INTO visit_records (id, child_id, village_code, kind, date)
     SELECT gen_random_uuid(), n.id, n.village_code, 'home_visit', DATE '2025-12-01' + (g % 360)
       FROM generate_series(0, $1 - 1) g JOIN numbered n ON n.rn = g % $2`,
    RECORDS,
    CHILDREN,
  );
  await prisma.$executeRawUnsafe(
    `INSERT INTO concerns (id, child_id, child_name, village_code, category, raised_at, escalated, resolved_at)
     SELECT gen_random_uuid(), id, name, village_code, 'safety', now() - interval '10 days', random() < 0.3, CASE WHEN random() < 0.6 THEN now() END
       FROM children WHERE random() < 0.01`,
  );
  await prisma.$executeRawUnsafe(
    `INSERT INTO checkups (id, child_id, village_code, date, flags)
     SELECT gen_random_uuid(), id, village_code, DATE '2026-10-15', CASE WHEN random() < 0.2 THEN ARRAY['low_vision'] ELSE ARRAY[]::text[] END
       FROM children WHERE status = 'active' AND random() < 0.6`,
  );
  // Counters as the consumer would have left them: the aggregate over the rows (a test proves the two agree).
  const village12 = { orgUnit: "360999", unitLength: 12 as const, month: "2026-11" };
  await prisma.$executeRawUnsafe(`TRUNCATE counters`);
  await prisma.$executeRawUnsafe(
    `INSERT INTO counters (village_code, metric, dims, n)
     SELECT village_code, 'children', status || '|' || left_behind_type || '|' || risk_level || '|' || school_id, count(*) FROM children GROUP BY 1, 3
     UNION ALL SELECT village_code, 'category', status || '|' || cat || '|' || left_behind_type || '|' || risk_level, count(*) FROM children, unnest(categories) cat GROUP BY 1, 3
     UNION ALL SELECT village_code, 'pairing', kind, count(*) FROM pairings WHERE state = 'active' GROUP BY 1, 3
     UNION ALL SELECT village_code, 'item', period || '|' || bucket, count(*) FROM visit_items GROUP BY 1, 3
     UNION ALL SELECT village_code, 'record', to_char(date, 'YYYY-MM'), count(*) FROM visit_records GROUP BY 1, 3
     UNION ALL SELECT village_code, 'concern', 'open', count(*) FROM concerns WHERE resolved_at IS NULL GROUP BY 1
     UNION ALL SELECT village_code, 'concern', 'escalated_open', count(*) FROM concerns WHERE resolved_at IS NULL AND escalated GROUP BY 1
     UNION ALL SELECT c.village_code, 'examined', '2026', count(DISTINCT c.id) FROM checkups k JOIN children c ON c.id = k.child_id WHERE c.status = 'active' GROUP BY 1
     UNION ALL SELECT village_code, 'flag', '2026|' || f, count(*) FROM checkups, unnest(flags) f GROUP BY 1, 3`,
  );
  await prisma.$executeRawUnsafe("ANALYZE");
  const counts = await prisma.$queryRawUnsafe<{ t: string; n: number }[]>(
    `SELECT 'children' t, count(*)::int n FROM children UNION ALL SELECT 'visit_records', count(*)::int FROM visit_records UNION ALL SELECT 'visit_items', count(*)::int FROM visit_items
     UNION ALL SELECT 'pairings', count(*)::int FROM pairings UNION ALL SELECT 'counters', count(*)::int FROM counters`,
  );
  console.log(`loaded in ${((performance.now() - loadStart) / 1000).toFixed(1)} s:`, Object.fromEntries(counts.map((c) => [c.t, c.n])));

  const county = { orgUnit: "360999", unitLength: 9 as const, month: "2026-11" };
  const same = isDeepStrictEqual(await figuresFromCounters(prisma, village12), await figuresFromRows(prisma, village12));
  // As the endpoint serves it: counters, open-concern ages from the rows, totals row.
  const served = await time(200, () => overviewReport(prisma, "360999", "2026-11", new Date()));
  const raw = await time(10, async () => {
    const rows = await figuresFromRows(prisma, county);
    await addConcernAges(prisma, rows, "360999", 9, new Date());
    return totals(rows, "360999", "合计", "2026-11");
  });

  // Event ingest: the real consumer over a mix of the events a county produces
  // (records, due items, pairings, exams, child updates), each a row and counters.
  const childRows = await prisma.$queryRawUnsafe<{ id: string; villageCode: string; leftBehindType: string; riskLevel: string }[]>(
    `SELECT id, village_code AS "villageCode", left_behind_type AS "leftBehindType", risk_level AS "riskLevel" FROM children WHERE status = 'active' LIMIT $1`,
    EVENTS,
  );
  const actor = { kind: "system" as const, id: "bench" };
  const makeEvents = (revision: number): Envelope[] =>
    childRows.map((c, i) => {
      const child = { id: c.id, name: `儿童${i}`, villageCode: c.villageCode, townshipCode: c.villageCode.slice(0, 9) };
      const base = { subject: c.id, orgUnit: c.villageCode, actor };
      switch (i % 5) {
        case 0:
          return buildEvent(
            "visit.recorded",
            {
              ...base,
              data: {
                recordId: randomUUID(),
                kind: "home_visit",
                date: "2026-11-20",
                child,
                visitor: { userId: "u", name: "x" },
                satisfied: null,
                followUpNeeded: false,
                concernRaised: false,
              },
            },
            { producer: "visits" },
          );
        case 1:
          return buildEvent(
            "visit.due",
            {
              ...base,
              data: {
                itemId: randomUUID(),
                kind: "letter",
                period: "2026-autumn",
                dueDate: "2026-12-31",
                child,
                responsible: { kind: "village_director", helperId: null, name: null, phone: null, username: null, villageCode: c.villageCode },
                daysLeft: 40,
              },
            },
            { producer: "visits" },
          );
        case 2:
          return buildEvent(
            "pairing.started",
            {
              ...base,
              data: {
                pairingId: randomUUID(),
                kind: "peer",
                child: { ...child, schoolId: null },
                helper: { id: randomUUID(), kind: "peer_student", name: "x", phone: null, username: null, orgUnitCode: child.townshipCode, schoolId: null },
                startDate: "2026-11-01",
                approvedBy: "x",
              },
            },
            { producer: "pairing" },
          );
        case 3:
          return buildEvent(
            "checkup.recorded",
            {
              ...base,
              data: { examId: randomUUID(), campaignId: null, date: "2026-11-10", child, flags: [{ kind: "dental_caries", severity: null, label: "龋齿" }] },
            },
            { producer: "health" },
          );
        default:
          return buildEvent(
            "child.updated",
            {
              ...base,
              data: {
                child: {
                  ...child,
                  sex: "male",
                  birthDate: "2015-01-01",
                  countyCode: "360999",
                  schoolId: null,
                  schoolName: null,
                  grade: null,
                  className: null,
                  leftBehindType: c.leftBehindType as never,
                  difficultyCategories: [],
                  riskLevel: "high",
                  status: "active",
                  exitReason: null,
                  guardian: null,
                  parents: [],
                  revision,
                },
                changes: [{ field: "riskLevel", before: c.riskLevel, after: "high" }],
              },
            },
            { producer: "registry" },
          );
      }
    });
  // The same mix ingested twice side by side: one event per transaction (the consumer before
  // batching: concurrency 8, batch 1) as the baseline, then batches of 50 in one transaction each.
  const pgPool = createPgPool(db.url, { max: 2 });
  const ingest = async (
    events: Envelope[],
    options: { concurrency: number; batch: number; plainPg?: boolean; deferred?: boolean; preload?: boolean; batchJobs?: boolean },
  ) => {
    if (options.batchJobs)
      // As the outbox relay publishes since issue 20: one job per relay batch (500 events).
      for (let i = 0; i < events.length; i += 500) {
        const slice = events.slice(i, i + 500);
        await queue.add(BATCH_JOB, { events: slice }, { ...eventJobOptions, jobId: batchJobId(slice.map((e) => e.id)) });
      }
    else
      for (let i = 0; i < events.length; i += 1000)
        await queue.addBulk(events.slice(i, i + 1000).map((e) => ({ name: e.type, data: e, opts: { ...eventJobOptions, jobId: e.id } })));
    const before = await prisma.inboxEvent.count();
    const start = performance.now();
    const consumer = createEventConsumer<Tx>({
      service: "reporting",
      connection,
      prefix,
      concurrency: options.concurrency,
      batch: { size: options.batch },
      handlers: reportingHandlers(),
      prepare: options.preload ? (prepareReportingBatch as never) : undefined,
      runInTransaction: options.deferred
        ? (fn) => inPgTransaction(pgPool, (tx) => inBatch(tx, fn as never))
        : options.plainPg
          ? (fn) => inPgTransaction(pgPool, fn as never)
          : (fn) => prisma.$transaction(fn, CONSUMER_TRANSACTION),
    });
    while ((await prisma.inboxEvent.count()) < before + events.length) await new Promise((r) => setTimeout(r, 100));
    const ms = performance.now() - start;
    await consumer.close();
    return { ms, perSecond: Math.round(events.length / (ms / 1000)) };
  };
  const single = await ingest(makeEvents(2), { concurrency: 8, batch: 1 });
  const batched = await ingest(makeEvents(3), { concurrency: 100, batch: 50 });
  // As the service runs it: batches on a plain pg transaction (its handlers are raw SQL).
  const plain = await ingest(makeEvents(4), { concurrency: 100, batch: 50, plainPg: true });
  // As the service runs it now: counters summed per batch and written by one statement at its end.
  const deferred = await ingest(makeEvents(5), { concurrency: 100, batch: 50, deferred: true });
  // And with the batch's rows and locks read up front by set queries (how the service runs now).
  const preloaded = await ingest(makeEvents(6), { concurrency: BATCH * 2, batch: BATCH, deferred: true, preload: true });
  // The same consumer, the events in the relay's batch jobs (one job per 500 events).
  const batchJobs = await ingest(makeEvents(7), { concurrency: BATCH * 2, batch: BATCH, deferred: true, preload: true, batchJobs: true });
  await pgPool.end();
  // The consumer's counters still equal the rows after the ingest.
  const stillSame = isDeepStrictEqual(await figuresFromCounters(prisma, village12), await figuresFromRows(prisma, village12));

  console.log(
    [
      "| county overview (20 townships) | runs | p50 ms | p95 ms | mean ms |",
      "| --- | --: | --: | --: | --: |",
      `| served from counters | 200 | ${served.p50.toFixed(1)} | ${served.p95.toFixed(1)} | ${served.mean.toFixed(1)} |`,
      `| plain aggregate over raw rows | 10 | ${raw.p50.toFixed(0)} | ${raw.p95.toFixed(0)} | ${raw.mean.toFixed(0)} |`,
      `| **ratio raw / counters (p95)** | | | **${(raw.p95 / served.p95).toFixed(0)}×** | |`,
    ].join("\n"),
  );
  console.log(`identical figures (per village, counters vs rows): ${same}; after the ingest: ${stillSame}`);
  console.log(
    [
      `event ingest, ${childRows.length} events each run (visit.recorded, visit.due, pairing.started, checkup.recorded, child.updated in equal parts):`,
      "| consumer | s | events/s | × one per transaction |",
      "| --- | --: | --: | --: |",
      `| one event per transaction (concurrency 8) | ${(single.ms / 1000).toFixed(1)} | ${single.perSecond} | 1.00 |`,
      `| batches of 50 per transaction | ${(batched.ms / 1000).toFixed(1)} | ${batched.perSecond} | ${(batched.perSecond / single.perSecond).toFixed(2)} |`,
      `| batches of 50 on a plain pg transaction | ${(plain.ms / 1000).toFixed(1)} | ${plain.perSecond} | ${(plain.perSecond / single.perSecond).toFixed(2)} |`,
      `| the same, counters summed per batch | ${(deferred.ms / 1000).toFixed(1)} | ${deferred.perSecond} | ${(deferred.perSecond / single.perSecond).toFixed(2)} |`,
      `| the same, rows and locks preloaded per batch of ${BATCH} (the service) | ${(preloaded.ms / 1000).toFixed(1)} | ${preloaded.perSecond} | ${(preloaded.perSecond / single.perSecond).toFixed(2)} |`,
      `| the same, events in the relay's batch jobs of 500 | ${(batchJobs.ms / 1000).toFixed(1)} | ${batchJobs.perSecond} | ${(batchJobs.perSecond / single.perSecond).toFixed(2)} |`,
    ].join("\n"),
  );
} finally {
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  await prisma.$disconnect();
  await db.drop();
}
