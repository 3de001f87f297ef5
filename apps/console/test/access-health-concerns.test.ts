import { describe, expect, it } from "vitest";
import { Role } from "@shouhu/contracts";
import { RECORD_ACCESS } from "@shouhu/auth";
import { accessFor } from "../src/access.js";
import { assigners, caseWorkers, recorders } from "../../../services/visits/src/routes/permissions.js";
import { examiners, organisers, referrers } from "../../../services/health/src/access.js";

/** The console shows 关注事项 and 体检 (and their buttons) to exactly the roles the services let through. */
describe("access.ts equals the visits and health services' permission lists", () => {
  for (const role of Role.options) {
    it(role, () => {
      const a = accessFor({ username: "x", name: "x", roles: [role], orgUnit: "360999101" });
      expect(a.canSeeConcerns, "canSeeConcerns").toBe(["all", "own"].includes(RECORD_ACCESS.concerns[role]));
      expect(a.canRaiseConcerns, "canRaiseConcerns").toBe(recorders.includes(role));
      expect(a.canWorkConcerns, "canWorkConcerns").toBe(caseWorkers.includes(role));
      expect(a.canAssignConcerns, "canAssignConcerns").toBe(assigners.includes(role));
      expect(a.canSeeCheckups, "canSeeCheckups").toBe(RECORD_ACCESS.checkups[role] === "full");
      expect(a.canRecordExams, "canRecordExams").toBe((examiners as readonly string[]).includes(role));
      expect(a.canOrganiseCampaigns, "canOrganiseCampaigns").toBe((organisers as readonly string[]).includes(role));
      expect(a.canReferFollowUps, "canReferFollowUps").toBe((referrers as readonly string[]).includes(role));
    });
  }
});
