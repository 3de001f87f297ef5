import { describe, expect, it } from "vitest";
import * as contracts from "@shouhu/contracts";
import * as mine from "../src/services/org-units.js";

// The console keeps its own copy (importing contracts would bundle zod into the app): the same answers.
const codes = ["360999", "360999101", "360999101201", "360999102", "360998", "36099910", "", "36099910120a", "3609991012011"];

describe("the console's org-unit codes", () => {
  it("level, containment, county and township agree with @shouhu/contracts", () => {
    for (const a of codes) {
      expect(mine.orgLevel(a), a).toBe(contracts.orgLevel(a));
      expect(mine.countyOf(a), a).toBe(contracts.countyOf(a));
      expect(mine.townshipOf(a), a).toBe(contracts.townshipOf(a));
      for (const b of codes) expect(mine.contains(a, b), `${a} ⊇ ${b}`).toBe(contracts.contains(a, b));
    }
  });
});
