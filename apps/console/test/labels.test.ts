import { describe, expect, it } from "vitest";
import { labels as contracts } from "@shouhu/contracts";
import { labels } from "../src/services/labels.js";

// The console keeps its own copy (importing contracts would bundle zod into the app): equal, code by code.
describe("the console's zh-CN labels", () => {
  for (const kind of Object.keys(labels) as (keyof typeof labels)[]) {
    it(`${kind} equals @shouhu/contracts`, () => {
      expect(labels[kind]).toEqual((contracts as Record<string, unknown>)[kind]);
    });
  }
});
