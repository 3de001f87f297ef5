import { Role } from "@shouhu/contracts";
import { effectiveRoles, loadRealm } from "@shouhu/kit/realm";
import type { SqlTx } from "@shouhu/messaging";
import type { PrismaClient } from "./db.js";

export interface Person {
  username: string | null;
  name: string | null;
  phone: string | null;
  email: string | null;
}

const CJK = /[\u3400-\u9fff]/;

/**
 * Loads staff (username, roles, org unit, e-mail, phone) from the realm export —
 * the file Keycloak imports — so role recipients ("the township supervisor of
 * 长岭乡") resolve to people. Against a live Keycloak the same rows would come
 * from its admin API; the table is the seam. The production export holds no
 * human users; development adds the demo users file (`usersFile`).
 */
export async function syncDirectoryFromRealm(prisma: PrismaClient, realmFile: string, usersFile?: string): Promise<number> {
  const realm = loadRealm(realmFile, { usersFile: usersFile || false });
  let count = 0;
  for (const user of realm.users ?? []) {
    const orgUnit = user.attributes?.org_unit?.[0];
    if (!orgUnit || user.serviceAccountClientId || user.enabled === false) continue;
    const roles = effectiveRoles(realm, user).filter((r) => Role.safeParse(r).success);
    const name =
      user.lastName && user.firstName && CJK.test(user.lastName + user.firstName)
        ? user.lastName + user.firstName
        : [user.firstName, user.lastName].filter(Boolean).join(" ") || user.username;
    const row = { name, roles, orgUnit, email: user.email ?? null, phone: user.attributes?.phone?.[0] ?? null, active: true };
    await prisma.staffUser.upsert({ where: { username: user.username }, create: { username: user.username, ...row }, update: row });
    count++;
  }
  return count;
}

/** The people holding a role for exactly this org unit (the township supervisor of 360999101). */
export async function peopleInRole(db: Pick<SqlTx, "$queryRawUnsafe">, role: Role, orgUnit: string): Promise<Person[]> {
  return db.$queryRawUnsafe<Person[]>(
    `SELECT username, name, phone, email FROM staff_users WHERE active AND org_unit = $1 AND $2 = ANY(roles) ORDER BY username`,
    orgUnit,
    role,
  );
}

const looked = new WeakMap<object, Map<string, Promise<Person | undefined>>>();

/** A person's e-mail from the directory when the event named them by username only. */
export async function withDirectoryContacts(db: Pick<SqlTx, "$queryRawUnsafe">, person: Person): Promise<Person> {
  if (!person.username) return person;
  // Looked up once per transaction: a consumer batch names the same few mentors again and again.
  let seen = looked.get(db);
  if (!seen) looked.set(db, (seen = new Map()));
  let lookup = seen.get(person.username);
  if (!lookup) {
    lookup = db.$queryRawUnsafe<Person[]>(`SELECT username, name, phone, email FROM staff_users WHERE username = $1`, person.username).then((rows) => rows[0]);
    seen.set(person.username, lookup);
  }
  const found = await lookup;
  return found
    ? { username: person.username, name: person.name ?? found.name, phone: person.phone ?? found.phone, email: person.email ?? found.email }
    : person;
}
