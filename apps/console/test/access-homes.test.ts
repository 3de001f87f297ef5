import { describe, expect, it } from "vitest";
import { Role } from "@shouhu/contracts";
import { accessFor } from "../src/access.js";
import { campaignReaders, campaignSetters, reachRecorders, siteKeepers, siteReaders } from "../../../services/activities/src/access.js";

/** The console shows 儿童之家 and 安全教育 (and their buttons) to exactly those the activities service lets read and act. */
describe("access.ts homes and safety flags equal services/activities/src/access.ts", () => {
  for (const role of Role.options) {
    it(role, () => {
      const access = accessFor({ username: "x", name: "x", roles: [role], orgUnit: "360999101" });
      expect(access.canSeeHomes).toBe(siteReaders.includes(role));
      expect(access.canKeepHomes).toBe(siteKeepers.includes(role));
      expect(access.canSeeSafety).toBe(campaignReaders.includes(role));
      expect(access.canSetSafety).toBe(campaignSetters.includes(role));
      expect(access.canRecordReach).toBe(reachRecorders.includes(role));
    });
  }
});
