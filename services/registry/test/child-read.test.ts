import { describe, expect, it } from "vitest";
import { readChild } from "../src/data/child-read.js";
import { loadChild } from "../src/data/children.js";
import { childBody, registryTest, type Harness } from "./harness.js";

// The single-statement read must give exactly what Prisma's include + toChildRecord
// gave (the API, masking and events are built on it), on both executors.
let h: Harness;
registryTest("child-read").beforeAll(async ({ registry }) => {
  h = registry;
});

async function create(body: Record<string, unknown>): Promise<string> {
  const res = await h.app.inject({ method: "POST", url: "/api/v1/children", headers: await h.as("county.admin"), payload: body });
  expect(res.statusCode).toBe(201);
  return res.json().id;
}

describe("reading one child in one statement", () => {
  it("equals the Prisma include mapping: guardians in order, both parents, school, exit date, categories", async () => {
    const id = await create(
      childBody({
        seq: 1,
        difficultyCategories: ["economic_hardship"],
        familySituation: "父母离异",
        guardians: [
          { name: "李大山", relation: "祖父", phone: "13907310001", age: 68, health: "良好" },
          { name: "张桂英", relation: "祖母", phone: null, age: 66, health: "高血压" },
        ],
      }),
    );
    const exited = await h.app.inject({
      method: "POST",
      url: `/api/v1/children/${id}/status`,
      headers: await h.as("county.admin"),
      payload: { status: "exited", reason: "moved_away", note: "随父母迁居" },
    });
    expect(exited.statusCode).toBe(200);

    const viaPrisma = await loadChild(h.prisma, id);
    expect(viaPrisma?.guardians.map((g) => g.name)).toEqual(["李大山", "张桂英"]);
    expect(viaPrisma?.exitedAt).toBe("2026-11-22");
    const viaPool = await readChild({ prisma: h.prisma, pool: h.pool }, id);
    const viaRaw = await readChild({ prisma: h.prisma }, id);
    // Same keys in the same order, same values.
    expect(JSON.stringify(viaPool)).toBe(JSON.stringify(viaPrisma));
    expect(JSON.stringify(viaRaw)).toBe(JSON.stringify(viaPrisma));
  });

  it("a child without school, guardians or parents reads as null school and empty lists", async () => {
    const id = await create(childBody({ seq: 2, schoolId: null, grade: null, className: null, guardians: [], parents: [], leftBehindType: "not_left_behind" }));
    const viaPrisma = await loadChild(h.prisma, id);
    expect(viaPrisma).toMatchObject({ schoolId: null, schoolName: null, guardians: [], parents: [] });
    expect(JSON.stringify(await readChild({ prisma: h.prisma, pool: h.pool }, id))).toBe(JSON.stringify(viaPrisma));
  });

  it("an unknown id reads as null (the route answers 404)", async () => {
    const missing = "01900000-0000-7000-8000-000000000000";
    expect(await readChild({ prisma: h.prisma, pool: h.pool }, missing)).toBeNull();
    const res = await h.app.inject({ url: `/api/v1/children/${missing}`, headers: await h.as("county.admin") });
    expect(res.statusCode).toBe(404);
  });
});
