import { describe, expect, it } from "vitest";
import { deferred, flushingFirst, rounds } from "../src/index.js";

/** A consumer batch's deferred work: applied together, in order with the batch's other handlers, and at once outside a batch. */
describe("deferred", () => {
  const recorder = () => {
    const log: string[] = [];
    const d = deferred<object, string>(async (_tx, items) => void log.push(`apply ${items.join(",")}`));
    return { log, d };
  };

  it("applies a batch's items together, flushing before another handler and before the batch returns", async () => {
    const { log, d } = recorder();
    const tx = {};
    const result = await d.inBatch(tx, async () => {
      await d.defer(tx, "a");
      await d.defer(tx, "b");
      await d.flush(tx);
      log.push("other handler");
      await d.defer(tx, "c");
      return "done";
    });
    expect(result).toBe("done");
    expect(log).toEqual(["apply a,b", "other handler", "apply c"]);
  });

  it("applies an item at once outside a batch, and keeps two transactions' batches apart", async () => {
    const { log, d } = recorder();
    await d.defer({}, "alone");
    const [one, two] = [{}, {}];
    await d.inBatch(one, async () => {
      await d.defer(one, "x");
      await d.inBatch(two, async () => d.defer(two, "y"));
    });
    expect(log).toEqual(["apply alone", "apply y", "apply x"]);
  });

  it("drops what a failed batch queued", async () => {
    const { log, d } = recorder();
    const tx = {};
    await expect(
      d.inBatch(tx, async () => {
        await d.defer(tx, "lost");
        throw new Error("handler failed");
      }),
    ).rejects.toThrow("handler failed");
    await d.defer(tx, "next");
    expect(log).toEqual(["apply next"]);
  });
});

describe("rounds", () => {
  it("puts each key's items in successive rounds, in their order", () => {
    const items = [
      { k: "a", n: 1 },
      { k: "b", n: 1 },
      { k: "a", n: 2 },
      { k: "a", n: 3 },
      { k: "c", n: 1 },
      { k: "b", n: 2 },
    ];
    expect(rounds(items, (i) => i.k).map((r) => r.map((i) => `${i.k}${i.n}`))).toEqual([["a1", "b1", "c1"], ["a2", "b2"], ["a3"]]);
    expect(rounds([], (i: string) => i)).toEqual([]);
  });
});

describe("flushingFirst", () => {
  it("makes every handler but the deferred types flush first", async () => {
    const log: string[] = [];
    const d = deferred<object, string>(async (_tx, items) => void log.push(`apply ${items.join(",")}`));
    const handlers = flushingFirst<object, Record<string, (e: never, tx: object) => Promise<void>>>(
      {
        "child.registered": async (e: never, tx) => d.defer(tx, (e as { id: string }).id),
        "pairing.started": async () => void log.push("pairing.started"),
      },
      d.flush,
      ["child.registered"],
    );
    const tx = {};
    await d.inBatch(tx, async () => {
      await handlers["child.registered"]!({ id: "a" } as never, tx);
      await handlers["child.registered"]!({ id: "b" } as never, tx);
      await handlers["pairing.started"]!({} as never, tx);
      await handlers["child.registered"]!({ id: "c" } as never, tx);
    });
    expect(log).toEqual(["apply a,b", "pairing.started", "apply c"]);
  });
});
