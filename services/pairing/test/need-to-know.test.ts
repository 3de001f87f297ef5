import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Role } from "@shouhu/contracts";
import { seesContacts } from "@shouhu/auth";
import { childEvent, snapshot, startPairing, type PairingHarness } from "./harness.js";

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

const places: Record<Role, { inside: string; outside: string; school?: [string, string] }> = {
  "county-admin": { inside: "360999", outside: "360888" },
  "federation-officer": { inside: "360999", outside: "360888" },
  "township-supervisor": { inside: "360999101", outside: "360999102" },
  "village-director": { inside: "360999101201", outside: "360999101202" },
  // A teacher of another school in the same township is "outside" here: schools are their boundary.
  teacher: { inside: "360999101", outside: "360999101", school: [SCHOOL, "S360999101002"] },
  "health-worker": { inside: "360999101", outside: "360999102" },
  inspector: { inside: "360999", outside: "360888" },
};

const cases = Role.options.flatMap((role) => (["inside", "outside"] as const).map((where) => ({ role, where, username: `ntk.${role}.${where}` })));
type Case = (typeof cases)[number];

const subOf = (username: string) => {
  const x = createHash("sha256").update(username).digest("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-4${x.slice(13, 16)}-8${x.slice(17, 20)}-${x.slice(20, 32)}`;
};

async function headersFor(c: Case) {
  const p = places[c.role];
  const token = await h.issuer.server.issueToken("changling.teacher", "shouhu-web", {
    issuer: h.issuer.issuerUrl,
    overrides: {
      realm_access: { roles: [c.role] },
      org_unit: c.where === "inside" ? p.inside : p.outside,
      school_code: p.school ? (c.where === "inside" ? p.school[0] : p.school[1]) : undefined,
      preferred_username: c.username,
      sub: subOf(c.username),
    },
  });
  return { authorization: `Bearer ${token}` };
}

beforeAll(async () => {
  h = await startPairing("pairing_ntk");
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

afterAll(async () => {
  await h?.close();
});

describe.each(cases)("$role $where", (c) => {
  const inside = c.where === "inside";
  const phones = seesContacts({ roles: [c.role] });
  // Helpers are kept in their own org unit (this one in the township): a village director
  // sees them through the pairings of the village's children, not in the helper register.
  const seesHelper = inside && HELPER_ORG.startsWith(places[c.role].inside);
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
