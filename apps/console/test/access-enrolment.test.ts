import { describe, expect, it } from "vitest";
import { Role } from "@shouhu/contracts";
import { accessFor } from "../src/access.js";
import { enrolmentKeepers, enrolmentReaders, missingReaders } from "../../../services/registry/src/routes/enrolment.js";

/** The console shows 控辍保学 and its parts to exactly those the registry lets read and record enrolment. */
describe("access.ts canSeeEnrolment / canKeepEnrolment / canSeeMissingEnrolment equal the registry's lists", () => {
  for (const role of Role.options) {
    it(role, () => {
      const access = accessFor({ username: "x", name: "x", roles: [role], orgUnit: "360999101" });
      expect(access.canSeeEnrolment).toBe(enrolmentReaders.includes(role));
      expect(access.canKeepEnrolment).toBe(enrolmentKeepers.includes(role));
      expect(access.canSeeMissingEnrolment).toBe(missingReaders.includes(role));
    });
  }
});
