import { describe, expect, it } from "vitest";
import { Role } from "@shouhu/contracts";
import { accessFor } from "../src/access.js";
import { orgKeepers } from "../../../services/registry/src/routes/permissions.js";

/** The console shows 区划与学校 to exactly those the registry lets keep org units: county admins at county level. */
describe("access.ts canKeepOrgUnits equals the registry's orgKeepers", () => {
  for (const role of Role.options) {
    it(role, () => {
      expect(accessFor({ username: "x", name: "x", roles: [role], orgUnit: "360999" }).canKeepOrgUnits).toBe(orgKeepers.includes(role));
      expect(accessFor({ username: "x", name: "x", roles: [role], orgUnit: "360999101" }).canKeepOrgUnits).toBe(false);
    });
  }
});
