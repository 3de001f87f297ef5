import { describe, expect, it } from "vitest";
import { mintTaskLink, verifyTaskLink } from "../src/index.js";

const secret = "test-task-link-secret-0123456789abcdef";
const link = {
  itemId: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
  childId: "11111111-2222-4333-8444-555555555555",
  helperId: "66666666-7777-4888-9999-aaaaaaaaaaaa",
};
const now = new Date("2026-12-06T08:00:00Z");
const later = new Date(now.getTime() + 72 * 3600_000);

describe("task links", () => {
  it("round-trips the claims, is short enough for an SMS and differs per mint", () => {
    const a = mintTaskLink(secret, { ...link, expiresAt: later });
    const b = mintTaskLink(secret, { ...link, expiresAt: later });
    expect(a.token).not.toBe(b.token);
    expect(a.tokenId).not.toBe(b.tokenId);
    // A URL path parameter: Fastify's limit is 100 characters.
    expect(a.token.length).toBeLessThanOrEqual(100);
    expect(a.token).toMatch(/^[A-Za-z0-9_-]+$/);
    const check = verifyTaskLink(secret, a.token, now);
    expect(check).toEqual({ ok: true, claims: { ...link, exp: Math.floor(later.getTime() / 1000), tokenId: a.tokenId } });
  });

  it("refuses a tampered token, another secret, garbage and huge input as invalid (nothing said about why)", () => {
    const { token } = mintTaskLink(secret, { ...link, expiresAt: later });
    const raw = Buffer.from(token, "base64url");
    for (const i of [0, 5, 20, 40, 50, 55, 62, 70, raw.length - 1]) {
      const bad = Buffer.from(raw);
      bad[i] = bad[i]! ^ 0x01;
      expect(verifyTaskLink(secret, bad.toString("base64url"), now)).toEqual({ ok: false, reason: "invalid" });
    }
    expect(verifyTaskLink("another-secret-0123456789abcdef0123", token, now)).toEqual({ ok: false, reason: "invalid" });
    expect(verifyTaskLink("", token, now)).toEqual({ ok: false, reason: "invalid" });
    for (const junk of ["", "abc", token.slice(0, -2), token + "AA", "x".repeat(5000), "../../etc", token.replace(/.$/, "=")])
      expect(verifyTaskLink(secret, junk, now).ok).toBe(false);
  });

  it("an expired token is expired only when its signature holds", () => {
    const { token } = mintTaskLink(secret, { ...link, expiresAt: new Date(now.getTime() - 1000) });
    const check = verifyTaskLink(secret, token, now);
    expect(check.ok).toBe(false);
    expect(check).toMatchObject({ reason: "expired", claims: { itemId: link.itemId } });
    expect(verifyTaskLink("another-secret-0123456789abcdef0123", token, now)).toEqual({ ok: false, reason: "invalid" });
    // Valid up to, not including, its expiry second.
    const edge = mintTaskLink(secret, { ...link, expiresAt: later });
    expect(verifyTaskLink(secret, edge.token, new Date(later.getTime() - 1)).ok).toBe(true);
    expect(verifyTaskLink(secret, edge.token, later).ok).toBe(false);
  });

  it("mint refuses to work without a secret", () => {
    expect(() => mintTaskLink("", { ...link, expiresAt: later })).toThrow(/TASK_LINK_SECRET/);
  });
});
