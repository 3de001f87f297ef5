import { fileURLToPath } from "node:url";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorHandler, ForbiddenError } from "@shouhu/kit";
import { createIssuerApp, type IssuerApp } from "@shouhu/dev-issuer";
import {
  assertWithinJurisdiction,
  FailedAuthLimiter,
  addressKey,
  authenticate,
  createTokenVerifier,
  childView,
  recordAccess,
  regionOnly,
  hasAnyRole,
  maskPhone,
  requirePrincipal,
  requireRole,
  scopeOf,
  withinJurisdiction,
} from "../src/index.js";

const COUNTY = "360999";
const CHANGLING = "360999101";
const SHIMEN = "360999102";
const CHANGLING_VILLAGE = "360999101201";
const BAISHUI_VILLAGE = "360999101202";

describe("a query's scope and a role check, shared by every service", () => {
  it("scopeOf: own unit by default, a narrower one inside it, own for a wider one, 403 elsewhere", () => {
    const supervisor = { orgUnit: CHANGLING };
    expect(scopeOf(supervisor, undefined)).toBe(CHANGLING);
    expect(scopeOf(supervisor, CHANGLING_VILLAGE)).toBe(CHANGLING_VILLAGE);
    expect(scopeOf(supervisor, COUNTY)).toBe(CHANGLING);
    expect(() => scopeOf(supervisor, SHIMEN)).toThrow(ForbiddenError);
  });
  it("requireRole: 403 naming what was refused", () => {
    const teacher = { roles: ["teacher" as const] } as Parameters<typeof requireRole>[0];
    expect(() => requireRole(teacher, ["teacher"], "登记")).not.toThrow();
    expect(() => requireRole(teacher, ["county-admin"], "审批结对")).toThrow("当前角色无权审批结对");
  });
});

describe("jurisdiction is an org-code prefix test", () => {
  it("county sees its townships and villages", () => {
    for (const code of [COUNTY, CHANGLING, SHIMEN, CHANGLING_VILLAGE, BAISHUI_VILLAGE]) expect(withinJurisdiction({ orgUnit: COUNTY }, code)).toBe(true);
    expect(withinJurisdiction({ orgUnit: COUNTY }, "360998101201")).toBe(false);
  });

  it("a township sees its villages, not another township or the county", () => {
    expect(withinJurisdiction({ orgUnit: CHANGLING }, CHANGLING_VILLAGE)).toBe(true);
    expect(withinJurisdiction({ orgUnit: CHANGLING }, SHIMEN)).toBe(false);
    expect(withinJurisdiction({ orgUnit: CHANGLING }, "360999102201")).toBe(false);
    expect(withinJurisdiction({ orgUnit: CHANGLING }, COUNTY)).toBe(false);
  });

  it("a village sees only itself", () => {
    expect(withinJurisdiction({ orgUnit: CHANGLING_VILLAGE }, CHANGLING_VILLAGE)).toBe(true);
    expect(withinJurisdiction({ orgUnit: CHANGLING_VILLAGE }, BAISHUI_VILLAGE)).toBe(false);
    expect(withinJurisdiction({ orgUnit: CHANGLING_VILLAGE }, CHANGLING)).toBe(false);
  });

  it("an empty org unit sees nothing; assert throws 403", () => {
    expect(withinJurisdiction({ orgUnit: "" }, CHANGLING_VILLAGE)).toBe(false);
    expect(() => assertWithinJurisdiction({ orgUnit: CHANGLING }, SHIMEN)).toThrow(ForbiddenError);
    expect(() => assertWithinJurisdiction({ orgUnit: CHANGLING }, CHANGLING_VILLAGE)).not.toThrow();
  });

  it("hasAnyRole", () => {
    expect(hasAnyRole({ roles: ["teacher"] }, ["teacher", "village-director"])).toBe(true);
    expect(hasAnyRole({ roles: ["inspector"] }, ["county-admin"])).toBe(false);
  });
});

describe("field access and masking", () => {
  it("by role", () => {
    // Spot checks of the table's consequences; the generated tests walk all of it.
    expect(childView({ roles: ["inspector"] })).toMatchObject({ idNumber: "region", guardianPhone: "none", familyNotes: "none", healthNotes: "none" });
    expect(childView({ roles: ["teacher"] }, { paired: false })).toMatchObject({
      idNumber: "region",
      guardianPhone: "none",
      address: "none",
      familyNotes: "none",
    });
    expect(childView({ roles: ["teacher"] }, { paired: true })).toMatchObject({
      idNumber: "region",
      guardianPhone: "full",
      address: "full",
      familyNotes: "full",
    });
    expect(childView({ roles: ["health-worker"] })).toMatchObject({
      guardianName: "full",
      guardianPhone: "full",
      parentPhone: "none",
      healthNotes: "full",
      familyNotes: "none",
    });
    expect(childView({ roles: ["federation-officer"] })).toMatchObject({
      idNumber: "region",
      guardianPhone: "masked",
      parentPhone: "masked",
      familyNotes: "full",
    });
    expect(childView({ roles: ["county-admin"] })).toMatchObject({ idNumber: "full", guardianPhone: "full" });
    expect(childView({ roles: [] })).toMatchObject({ idNumber: "none", guardianName: "none" });
    // Several roles: the most any of them allows.
    expect(childView({ roles: ["inspector", "health-worker"] })).toMatchObject({ guardianPhone: "full", idNumber: "region" });
    expect(recordAccess({ roles: ["teacher", "inspector"] }, "visitRecords")).toBe("own-and-paired");
    expect(recordAccess({ roles: ["federation-officer"] }, "checkups")).toBe("flags");
    expect(recordAccess({ roles: [] }, "concerns")).toBe("none");
  });

  it("masks ID numbers and phones", () => {
    // Region only: a partial mask plus the birth date would rebuild the number.
    expect(regionOnly("430102201205030017")).toBe("430102************");
    expect(regionOnly("43010220120503001X")).toBe("430102************");
    expect(maskPhone("13812345678")).toBe("138****5678");
    expect(maskPhone("123")).toBe("***");
  });
});

describe("authenticate (Fastify hook)", () => {
  const realmFile = fileURLToPath(new URL("../../../infra/keycloak/shouhu-realm.json", import.meta.url));
  let issuer: IssuerApp;
  const app = Fastify();

  beforeAll(async () => {
    issuer = await createIssuerApp({ realmFile });
    const issuerUrl = `${await issuer.listen({ port: 0, host: "127.0.0.1" })}/realms/shouhu`;
    const verifier = createTokenVerifier({ issuerUrl, audience: "shouhu-api" });
    app.setErrorHandler(errorHandler);
    app.addHook("onRequest", authenticate(verifier));
    app.get("/me", async (request) => {
      const p = requirePrincipal(request);
      return { username: p.username, orgUnit: p.orgUnit, roles: p.roles };
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await issuer.close();
  });

  it("sets request.principal from a bearer token", async () => {
    const token = await issuer.issueToken("changling.director");
    const res = await app.inject({ url: "/me", headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ username: "changling.director", orgUnit: CHANGLING_VILLAGE, roles: ["village-director"] });
  });

  it("401 in the one error shape without, or with a bad, Authorization header", async () => {
    for (const authorization of [undefined, "Basic abc", "Bearer", "Bearer not-a-jwt"]) {
      const res = await app.inject({ url: "/me", headers: authorization ? { authorization } : {} });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ error: { code: "UNAUTHORIZED" } });
    }
  });

  it("bad or expired tokens from one address are limited: 429 with Retry-After, other addresses unaffected, lifted after the window", async () => {
    let now = 5_000_000;
    const limiter = new FailedAuthLimiter(3, 60_000, () => now);
    const limited = Fastify();
    limited.setErrorHandler(errorHandler);
    const issuerUrl = `${issuer.issuerUrl()}`;
    limited.addHook("onRequest", authenticate(createTokenVerifier({ issuerUrl, audience: "shouhu-api" }), limiter));
    limited.get("/me", async (request) => ({ username: requirePrincipal(request).username }));
    const expired = await issuer.issueToken("changling.director", "shouhu-web", { expiresIn: -60 });
    const good = await issuer.issueToken("changling.director");
    const from = (ip: string, token: string) => limited.inject({ url: "/me", remoteAddress: ip, headers: { authorization: `Bearer ${token}` } });
    for (let i = 0; i < 3; i++) expect((await from("10.0.0.9", i === 0 ? expired : "x.y.z")).statusCode).toBe(401);
    const blocked = await from("10.0.0.9", good);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.headers["retry-after"]).toBe("60");
    expect(blocked.json().error.code).toBe("RATE_LIMITED");
    expect((await from("10.0.0.10", good)).statusCode).toBe(200);
    now += 60_001;
    expect((await from("10.0.0.9", good)).statusCode).toBe(200);
    // IPv6: one budget per /64, whichever of its 2^64 addresses the attempts come from.
    for (let i = 1; i <= 3; i++) expect((await from(`2001:db8:1:2::${i}`, "x.y.z")).statusCode).toBe(401);
    expect((await from("2001:db8:1:2:ffff::9", good)).statusCode).toBe(429);
    expect((await from("2001:db8:1:3::1", good)).statusCode).toBe(200);
    await limited.close();
  });

  it("keys IPv4 by address (also IPv4-mapped) and IPv6 by its /64", () => {
    expect(addressKey("10.0.0.9")).toBe("10.0.0.9");
    expect(addressKey("::ffff:10.0.0.9")).toBe("10.0.0.9");
    expect(addressKey("2001:0db8:0001:0002:aaaa:bbbb:cccc:dddd")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
  });
});
