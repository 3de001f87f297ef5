import { afterAll, describe, expect, it } from "vitest";
import { createPgPool, serialiseQueries } from "../src/index.js";

const url = `${process.env.PG_BASE_URL ?? "postgresql://root@127.0.0.1:5432"}/postgres`;
const pool = createPgPool(url, { max: 2 });
pool.on("connect", serialiseQueries);
afterAll(() => pool.end());

describe("queries on one client run one after another (Prisma's concurrent reads inside a transaction)", () => {
  it("answers concurrent queries in a transaction in order, with no pg deprecation warning", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on("warning", onWarning);
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      // The shape Prisma's interpreter makes: child queries fired together on the transaction's client.
      const results = await Promise.all([3, 1, 2].map((n) => client.query("SELECT pg_sleep($1::float / 100), $1::int AS n", [n])));
      expect(results.map((r) => r.rows[0].n)).toEqual([3, 1, 2]);
      await client.query("ROLLBACK");
      // A failing query rejects on its own promise and the ones after it still run.
      const [bad, good] = await Promise.allSettled([client.query("SELECT 1/0"), client.query("SELECT 2 AS n")]);
      expect(bad.status).toBe("rejected");
      expect(good.status === "fulfilled" && good.value.rows[0].n).toBe(2);
    } finally {
      client.release();
      process.off("warning", onWarning);
    }
    await new Promise((r) => setImmediate(r));
    expect(warnings.filter((m) => m.includes("already executing a query"))).toEqual([]);
  });

  it("passes callback-style queries through", async () => {
    const client = await pool.connect();
    try {
      const n = await new Promise<number>((resolve, reject) =>
        client.query("SELECT 7 AS n", (err: Error | null, res: { rows: { n: number }[] }) => (err ? reject(err) : resolve(res.rows[0]!.n))),
      );
      expect(n).toBe(7);
    } finally {
      client.release();
    }
  });
});
