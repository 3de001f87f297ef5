import { describe, expect } from "vitest";
import { KeycloakAccounts } from "@shouhu/auth/keycloak-accounts";
import { createPrisma } from "../src/data/db.js";
import { peopleInRole, syncDirectoryFromKeycloak } from "../src/data/directory.js";
import { serviceTest } from "@shouhu/testing/vitest";
import { directorySource, migrationsDir } from "./fixtures.js";

const test = serviceTest("notifications_directory", migrationsDir).extend("prisma", { scope: "file" }, async ({ db }, { onCleanup }) => {
  const prisma = createPrisma(db.url);
  onCleanup(() => prisma.$disconnect());
  return prisma;
});

describe("the staff directory comes from Keycloak's admin API", () => {
  test("syncs the demo staff with roles from their groups, then follows accounts created and disabled in Keycloak", async ({ prisma, issuer }) => {
    const first = await syncDirectoryFromKeycloak(prisma, directorySource(issuer.issuerUrl));
    expect(first.active).toBe(9);
    expect(await peopleInRole(prisma, "township-supervisor", "360999101")).toEqual([
      { username: "changling.supervisor", name: expect.any(String), phone: expect.stringMatching(/^1\d{10}$/), email: "changling.supervisor@example.org" },
    ]);

    // A county admin's new supervisor for 石门镇 (through the accounts API's client) reaches the directory at the next sync.
    const accounts = new KeycloakAccounts({ issuerUrl: issuer.issuerUrl, clientId: "shouhu-accounts", clientSecret: "shouhu-accounts-secret" });
    const made = await accounts.create(
      { username: "shimen.second", lastName: "周", firstName: "平", role: "township-supervisor", orgUnit: "360999102", phone: "13907301234" },
      "Temp-1234-abcd",
    );
    if (!("id" in made)) throw new Error("username taken");
    await syncDirectoryFromKeycloak(prisma, directorySource(issuer.issuerUrl));
    expect((await peopleInRole(prisma, "township-supervisor", "360999102")).map((p) => [p.username, p.name, p.phone])).toEqual([
      ["shimen.second", "周平", "13907301234"],
      ["shimen.supervisor", expect.any(String), expect.any(String)],
    ]);

    // Disabled (or moved away): no longer a recipient, the row kept inactive.
    await accounts.setEnabled(made.id, false);
    const after = await syncDirectoryFromKeycloak(prisma, directorySource(issuer.issuerUrl));
    expect(after).toEqual({ active: 9, inactive: 1 });
    expect((await peopleInRole(prisma, "township-supervisor", "360999102")).map((p) => p.username)).toEqual(["shimen.supervisor"]);
    expect(await prisma.staffUser.findUnique({ where: { username: "shimen.second" } })).toMatchObject({ active: false });
  });

  test("the directory's client may read accounts but not change them", async ({ issuer }) => {
    const directory = new KeycloakAccounts({ issuerUrl: issuer.issuerUrl, clientId: "shouhu-directory", clientSecret: "shouhu-directory-secret" });
    await expect(
      directory.create({ username: "not.allowed", lastName: "王", firstName: "五", role: "teacher", orgUnit: "360999101" }, "Temp-1234-abcd"),
    ).rejects.toMatchObject({
      response: { status: 403 },
    });
  });
});
