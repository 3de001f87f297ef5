/**
 * The handover pack (交接包, issue 21.6): one class of N children (default 50), each with a year's growth file —
 * 8 visits, 6 activities, 2 check-ups, 3 awards/notes — made into the PDF by the registry's job (`runHandover`:
 * reads, 联系卡 per child, layout, Noto Sans CJK subset), timed end to end and the file's size, three rounds.
 *
 *   npx tsx --conditions=source bench/handover-pack.ts [--children 50]
 */
import os from "node:os";
import { randomUUID } from "node:crypto";
import { buildEvent, consumeEvents } from "@shouhu/messaging";
import type { Envelope } from "@shouhu/contracts";
import { startRegistry, childBody } from "../services/registry/test/harness.js";
import { registryEventHandlers } from "../services/registry/src/events/pairing-events.js";
import { runHandover } from "../services/registry/src/jobs/export-handover.js";
import { DEFAULT_PACK_FONT } from "../services/registry/src/domain/handover-pdf.js";
import type { Tx } from "../services/registry/src/data/db.js";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const N = arg("children", 50);
const FAMILY = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜";
const GIVEN = "子涵思远可欣浩然雨桐梓轩欣怡宇航诗琪俊杰";

const h = await startRegistry("bench_handover");
try {
  const actor = { kind: "system", id: "bench" } as const;
  const events: Envelope[] = [];
  for (let i = 0; i < N; i++) {
    const name = `${FAMILY[i % FAMILY.length]}${GIVEN.slice((i * 2) % GIVEN.length, ((i * 2) % GIVEN.length) + 2)}`;
    const res = await h.app.inject({
      method: "POST",
      url: "/api/v1/children",
      headers: await h.as("county.admin"),
      payload: childBody({ seq: i, name, birthDate: `2016-0${(i % 9) + 1}-1${i % 9}`, grade: "五年级", className: "1班" }),
    });
    if (res.statusCode !== 201) throw new Error(res.body);
    const c = res.json() as { id: string; name: string; villageCode: string };
    const vc = { id: c.id, name: c.name, villageCode: c.villageCode, townshipCode: "360999101" };
    for (let v = 0; v < 8; v++)
      events.push(
        buildEvent(
          "visit.recorded",
          {
            subject: c.id,
            orgUnit: c.villageCode,
            actor,
            data: {
              recordId: randomUUID(),
              kind: v % 2 ? "home_visit" : "parent_call",
              date: `2026-${String(1 + v).padStart(2, "0")}-15`,
              child: vc,
              visitor: { userId: "u", name: "李桂兰" },
              satisfied: null,
              followUpNeeded: false,
              concernRaised: false,
            },
          },
          { producer: "visits" },
        ),
      );
    for (let x = 0; x < 2; x++)
      events.push(
        buildEvent(
          "checkup.recorded",
          {
            subject: c.id,
            orgUnit: c.villageCode,
            actor,
            data: {
              examId: randomUUID(),
              campaignId: null,
              date: `2026-0${3 + x * 6}-01`,
              child: vc,
              flags: x ? [{ kind: "low_vision", severity: "mild", label: "视力低下（轻度）" }] : [],
              measures: { heightCm: 135 + x * 3, weightKg: 29 + x, bmi: 16.1 },
            },
          },
          { producer: "health" },
        ),
      );
    for (let e = 0; e < 3; e++) {
      const r = await h.app.inject({
        method: "POST",
        url: `/api/v1/children/${c.id}/growth-entries`,
        headers: await h.as("county.admin"),
        payload: {
          kind: e ? "note" : "award",
          date: `2026-0${e + 4}-01`,
          title: e ? "期中成长记录" : "三好学生",
          detail: "学习主动，乐于助人，与同学相处融洽。",
        },
      });
      if (r.statusCode !== 201) throw new Error(r.body);
    }
  }
  const ids = (await h.prisma.child.findMany({ select: { id: true } })).map((c) => c.id);
  for (let s = 0; s < 6; s++)
    events.push(
      buildEvent(
        "activity.recorded",
        {
          subject: randomUUID(),
          orgUnit: "360999101201",
          actor,
          data: {
            sessionId: randomUUID(),
            site: { id: randomUUID(), name: "长岭村儿童之家", kind: "village", orgUnit: "360999101201", townshipCode: "360999101" },
            kind: "tutoring",
            date: `2026-0${s + 3}-20`,
            leader: "周老师",
            attendance: ids,
          },
        },
        { producer: "activities" },
      ),
    );
  const handlers = registryEventHandlers();
  for (let i = 0; i < events.length; i += 100)
    await consumeEvents<Tx>(events.slice(i, i + 100), handlers, (fn) => h.prisma.$transaction(fn, { timeout: 60_000 }));

  const rounds: { ms: number; bytes: number; pages: number }[] = [];
  for (let r = 0; r < 3; r++) {
    const res = await h.app.inject({
      method: "POST",
      url: "/api/v1/exports/handover",
      headers: await h.as("changling.supervisor"),
      payload: { schoolId: "S360999101001", grade: "五年级", className: "1班" },
    });
    if (res.statusCode !== 202) throw new Error(res.body);
    const t = performance.now();
    await runHandover(h.prisma, DEFAULT_PACK_FONT, res.json().id);
    const ms = performance.now() - t;
    const job = await h.prisma.exportJob.findUniqueOrThrow({ where: { id: res.json().id } });
    const pages =
      Buffer.from(job.content!)
        .toString("latin1")
        .match(/\/Type \/Page\b(?!s)/g)?.length ?? 0;
    rounds.push({ ms: Math.round(ms), bytes: job.content!.length, pages });
  }
  const sorted = [...rounds].sort((a, b) => a.ms - b.ms);
  console.log(
    JSON.stringify({
      children: N,
      events: events.length,
      rounds,
      medianMs: sorted[1]!.ms,
      load: os.loadavg().map((l) => l.toFixed(1)),
      cpus: os.cpus().length,
    }),
  );
} finally {
  await h.close();
}
