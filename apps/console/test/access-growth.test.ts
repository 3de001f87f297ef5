import { describe, expect, it } from "vitest";
import { Role } from "@shouhu/contracts";
import { RECORD_ACCESS } from "@shouhu/auth";
import { accessFor } from "../src/access.js";
import { growthRemovers, growthWriters } from "../../../services/registry/src/routes/growth.js";

/** The console offers the 成长档案's awards and notes to exactly the roles the registry lets through. */
describe("access.ts equals the registry's 成长档案 rules", () => {
  for (const role of Role.options) {
    it(role, () => {
      const a = accessFor({ username: "x", name: "x", roles: [role], orgUnit: "360999101" });
      expect(a.canSeeGrowthNotes, "canSeeGrowthNotes").toBe(RECORD_ACCESS.growthNotes[role] !== "none");
      expect(a.canWriteGrowthNotes, "canWriteGrowthNotes").toBe(growthWriters.includes(role));
      expect(a.canRemoveGrowthNotes, "canRemoveGrowthNotes").toBe(growthRemovers.includes(role));
    });
  }
});
