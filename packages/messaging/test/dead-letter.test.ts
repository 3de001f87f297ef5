import { Queue } from "bullmq";
import { afterAll, describe, expect, it } from "vitest";
import { testPrefix } from "@shouhu/testing";
import { listDeadLetters, replayDeadLetters, type DeadLetter } from "../src/index.js";
import { openDeadLetterQueue } from "../src/dead-letter.js";

/** A filtered list (one county's letters of a shared queue) is not crowded out by the others. */
const connection = { url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" };
const prefix = testPrefix("dead_letters");
const queue = "shared.deliver";

afterAll(async () => {
  for (const name of [queue, `${queue}.dead`]) {
    const q = new Queue(name, { connection, prefix });
    await q.obliterate({ force: true }).catch(() => undefined);
    await q.close();
  }
});

const letter = (county: string, n: number): DeadLetter => ({
  queue,
  jobName: "deliver",
  jobId: `${county}-${n}`,
  data: { county },
  reason: "down",
  attempts: 3,
  failedAt: new Date().toISOString(),
});

describe("dead letters of one county", () => {
  it("a filter reads through every page, so 600 letters of another county do not hide this county's two", async () => {
    const dead = openDeadLetterQueue(queue, { connection, prefix });
    try {
      await dead.addBulk(Array.from({ length: 600 }, (_, n) => ({ name: "deliver", data: letter("360888", n), opts: { jobId: `dead-360888-${n}` } })));
      await dead.addBulk([0, 1].map((n) => ({ name: "deliver", data: letter("360999", n), opts: { jobId: `dead-360999-${n}` } })));
    } finally {
      await dead.close();
    }
    const ours = (letters: (DeadLetter & { id: string })[]) => Promise.resolve(letters.filter((l) => (l.data as { county: string }).county === "360999"));
    // Unfiltered, the first 500 are all the other county's.
    expect((await listDeadLetters(queue, { connection, prefix, limit: 500 })).filter((l) => (l.data as { county: string }).county === "360999")).toEqual([]);
    const mine = await listDeadLetters(queue, { connection, prefix, filter: ours });
    expect(mine.map((l) => l.id)).toEqual(["dead-360999-0", "dead-360999-1"]);
    expect(await listDeadLetters(queue, { connection, prefix, filter: ours, limit: 1 })).toHaveLength(1);
    // Replaying the chosen ids touches nothing of the other county.
    expect(await replayDeadLetters(queue, { connection, prefix, ids: mine.map((l) => l.id) })).toBe(2);
    expect(await listDeadLetters(queue, { connection, prefix, filter: ours })).toEqual([]);
    expect((await listDeadLetters(queue, { connection, prefix, limit: 1000 })).length).toBe(600);
  });
});
