import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * One-time task links (issue 22.2): a link sent by SMS to a helper without an account
 * (a proxy parent, a volunteer) that opens one page to record one due item's visit or call.
 * Notifications mints it, visits verifies it; both hold TASK_LINK_SECRET.
 *
 * The token is compact because it travels in an SMS and in a URL path segment (Fastify
 * refuses a path parameter over 100 characters with 414): one base64url string of a binary
 * payload — version, item, child and helper ids (16 bytes each), expiry (Unix seconds), a
 * random nonce (the token's id, used once) — and the first 12 bytes (96 bits) of its
 * HMAC-SHA256: 98 characters. The item's kind is not in it: the item names it. Nothing in
 * it is secret, everything in it is signed.
 */
export interface TaskLinkClaims {
  itemId: string;
  childId: string;
  /** The responsible helper the link was sent to: a hand-over to someone else voids it. */
  helperId: string;
  /** Unix seconds. */
  exp: number;
  /** The nonce, base64url: one use per id (visits' used-link table). */
  tokenId: string;
}

export type TaskLinkCheck = { ok: true; claims: TaskLinkClaims } | { ok: false; reason: "invalid" } | { ok: false; reason: "expired"; claims: TaskLinkClaims };

const VERSION = 1;
const NONCE = 8;
const MAC = 12;
const FIXED = 1 + 16 * 3 + 4 + NONCE;
/** Longer than any token we mint: a longer string is refused before any work. */
export const TASK_LINK_MAX_LENGTH = 100;

const uuidBytes = (id: string) => {
  const hex = id.replace(/-/g, "");
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`not a UUID: ${id}`);
  return Buffer.from(hex, "hex");
};
const uuidOf = (b: Buffer) => {
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};
const mac = (secret: string, payload: Buffer) => createHmac("sha256", secret).update(payload).digest().subarray(0, MAC);

/** A signed link token for one item, valid until `expiresAt` (rounded down to the second). */
export function mintTaskLink(
  secret: string,
  link: { itemId: string; childId: string; helperId: string; expiresAt: Date },
): { token: string; tokenId: string; expiresAt: Date } {
  if (!secret) throw new Error("TASK_LINK_SECRET is not set");
  const exp = Math.floor(link.expiresAt.getTime() / 1000);
  const payload = Buffer.alloc(FIXED);
  payload[0] = VERSION;
  uuidBytes(link.itemId).copy(payload, 1);
  uuidBytes(link.childId).copy(payload, 17);
  uuidBytes(link.helperId).copy(payload, 33);
  payload.writeUInt32BE(exp, 49);
  const nonce = randomBytes(NONCE);
  nonce.copy(payload, 53);
  const token = Buffer.concat([payload, mac(secret, payload)]).toString("base64url");
  return { token, tokenId: nonce.toString("base64url"), expiresAt: new Date(exp * 1000) };
}

/**
 * Checks a token's signature first (a garbled or forged token is "invalid", and says
 * nothing else), then its expiry. Whether it was used, and whether its item is still open
 * and still that helper's, is for the holder of the data (visits) to check.
 */
export function verifyTaskLink(secret: string, token: string, now: Date): TaskLinkCheck {
  if (!secret || token.length > TASK_LINK_MAX_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) return { ok: false, reason: "invalid" };
  const raw = Buffer.from(token, "base64url");
  if (raw.length !== FIXED + MAC) return { ok: false, reason: "invalid" };
  const payload = raw.subarray(0, raw.length - MAC);
  const given = raw.subarray(raw.length - MAC);
  if (!timingSafeEqual(given, mac(secret, payload)) || payload[0] !== VERSION) return { ok: false, reason: "invalid" };
  const claims: TaskLinkClaims = {
    itemId: uuidOf(payload.subarray(1, 17)),
    childId: uuidOf(payload.subarray(17, 33)),
    helperId: uuidOf(payload.subarray(33, 49)),
    exp: payload.readUInt32BE(49),
    tokenId: payload.subarray(53, FIXED).toString("base64url"),
  };
  if (claims.exp * 1000 <= now.getTime()) return { ok: false, reason: "expired", claims };
  return { ok: true, claims };
}
