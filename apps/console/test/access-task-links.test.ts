import { describe, expect, it } from "vitest";
import { Role } from "@shouhu/contracts";
import { accessFor } from "../src/access.js";
import { taskLinkIssuers } from "../../../services/visits/src/routes/task-links.js";

/** 发送填报链接 shows for exactly the roles visits lets issue a one-time task link. */
describe("access.ts canIssueTaskLinks equals services/visits/src/routes/task-links.ts", () => {
  for (const role of Role.options) {
    it(role, () => {
      expect(accessFor({ username: "x", name: "x", roles: [role], orgUnit: "360999101" }).canIssueTaskLinks).toBe(taskLinkIssuers.includes(role));
    });
  }
});
