import { describe, expect, it } from "vitest";
import { Role } from "@shouhu/contracts";
import { seesContacts } from "@shouhu/auth";
import { places, roleCases, roleHeaders, type Place, type RoleCase } from "@shouhu/testing";
import { childEvent, snapshot, pairingTest, type PairingHarness } from "./harness.js";

/**
 * Generated from the need-to-know table (@shouhu/auth): every role × every pairing route
 * that returns helpers or pairings × inside / outside the caller's jurisdiction (for
 * teachers: their own school or another). Contact details follow `seesContacts`
 * (inspectors none); teachers see the helpers and pairings of their own school only.
 */
const SCHOOL = "S360999101001";
const HELPER_PHONE = "13907316666";
const HELPER_ORG = "360999101";
let h: PairingHarness;
let helperId: string;
let pairingId: string;
let childId: string;

// One caller per role inside and outside (@shouhu/testing need-to-know); a teacher of another
// school in the same township is "outside" here: schools are their boundary.
const pairingPlaces: Record<Role, Place> = { ...places, teacher: { inside: "360999101", outside: "360999101", school: [SCHOOL, "S360999101002"] } };
const cases = roleCases();
type Case = RoleCase;
const headersFor = (c: Case) => roleHeaders(h.issuer.server, h.issuer.issuerUrl, c, pairingPlaces);

pairingTest("pairing_ntk").beforeAll(async ({ pairing }) => {
  h = pairing;
  const admin = await h.as("county.admin");
  const helper = await h.app.inject({
    method: "POST",
    url: "/api/v1/helpers",
    headers: admin,
    payload: { kind: "teacher", name: "需知老师", phone: HELPER_PHONE, orgUnitCode: HELPER_ORG, schoolId: SCHOOL, username: "ntk.helper" },
  });
  expect(helper.statusCode, helper.body).toBe(201);
  helperId = helper.json().id;
  const child = snapshot({ schoolId: SCHOOL });
  childId = child.id;
  await h.deliver(childEvent("child.registered", child));
  await h.match();
  const [proposal] = await h.prisma.pairing.findMany({ where: { childId, helperId } });
  expect(proposal, "the optimiser proposes the only helper").toBeDefined();
  pairingId = proposal!.id;
}, 60_000);

describe.each(cases)("$role $where", (c) => {
  const inside = c.where === "inside";
  const phones = seesContacts({ roles: [c.role] });
  // Helpers are kept in their own org unit (this one in the township): a village director
  // sees them through the pairings of the village's children, not in the helper register.
  const seesHelper = inside && HELPER_ORG.startsWith(pairingPlaces[c.role].inside);
  const get = async (url: string) => h.app.inject({ url, headers: await headersFor(c) });
  const phoneRule = (body: string) => {
    if (!phones) expect(body, "no contact details for this role").not.toContain(HELPER_PHONE);
  };

  it("GET /helpers", async () => {
    const res = await get("/api/v1/helpers");
    expect(res.statusCode).toBe(200);
    const item = res.json().items.find((x: { id: string }) => x.id === helperId);
    if (!seesHelper) return expect(item).toBeUndefined();
    expect(item).toMatchObject({ id: helperId, name: "需知老师", phone: phones ? HELPER_PHONE : null });
    phoneRule(res.body);
  });

  it("GET /helpers/:id", async () => {
    const res = await get(`/api/v1/helpers/${helperId}`);
    if (!seesHelper) return expect(res.statusCode).toBe(404);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: helperId, phone: phones ? HELPER_PHONE : null });
    expect(res.json().pairings.map((p: { id: string }) => p.id)).toEqual([pairingId]);
    phoneRule(res.body);
  });

  it("GET /pairings", async () => {
    const res = await get("/api/v1/pairings");
    expect(res.statusCode).toBe(200);
    const item = res.json().items.find((x: { id: string }) => x.id === pairingId);
    if (!inside) {
      expect(item).toBeUndefined();
      return expect(res.body).not.toContain(childId);
    }
    expect(item).toMatchObject({ id: pairingId, child: { id: childId }, helper: { id: helperId, phone: phones ? HELPER_PHONE : null } });
    phoneRule(res.body);
  });

  it("GET /pairings/:id", async () => {
    const res = await get(`/api/v1/pairings/${pairingId}`);
    if (!inside) return expect(res.statusCode).toBe(404);
    expect(res.statusCode).toBe(200);
    expect(res.json().helper.phone).toBe(phones ? HELPER_PHONE : null);
    phoneRule(res.body);
  });
});
