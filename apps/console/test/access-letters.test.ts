import { describe, expect, it } from "vitest";
import { Role } from "@shouhu/contracts";
import { accessFor } from "../src/access.js";
import { LETTER_SENDERS } from "../../../services/notifications/src/domain/letters.js";

/** The console shows 致家长的一封信 to exactly those the notifications service lets write and send letters. */
describe("access.ts canSendLetters equals services/notifications/src/domain/letters.ts LETTER_SENDERS", () => {
  for (const role of Role.options) {
    it(role, () => {
      expect(accessFor({ username: "x", name: "x", roles: [role], orgUnit: "360999101" }).canSendLetters).toBe(LETTER_SENDERS.includes(role));
    });
  }
});
