import { describe, expect, it } from "vitest";
import { Role } from "@shouhu/contracts";
import { accessFor } from "../src/access.js";
import { promoters } from "../../../services/registry/src/routes/school-year.js";
import { transferers } from "../../../services/registry/src/routes/transfers.js";
import { handoverPackMakers } from "../../../services/registry/src/routes/handover.js";

/** The console shows 学年 and 转移 to exactly those the registry lets promote and transfer. */
describe("access.ts canRunSchoolYear / canTransfer equal the registry's promoters / transferers", () => {
  for (const role of Role.options) {
    it(role, () => {
      const access = accessFor({ username: "x", name: "x", roles: [role], orgUnit: "360999101" });
      expect(access.canRunSchoolYear).toBe(promoters.includes(role));
      expect(access.canTransfer).toBe(transferers.includes(role));
      expect(access.canMakeHandoverPack).toBe(handoverPackMakers.includes(role));
    });
  }
});
