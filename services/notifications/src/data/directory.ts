import { Role } from "@shouhu/contracts";
import type { StaffAccount } from "@shouhu/auth/keycloak-accounts";
import type { SqlTx } from "@shouhu/messaging";
import type { PrismaClient } from "./db.js";

export interface Person {
  username: string | null;
  name: string | null;
  phone: string | null;
  email: string | null;
}

/** What the directory needs of Keycloak's accounts (KeycloakAccounts from @shouhu/auth/keycloak-accounts). */
export interface StaffSource {
  listAll(): Promise<Pick<StaffAccount, "username" | "name" | "roles" | "orgUnit" | "email" | "phone" | "enabled">[]>;
}

/**
 * Loads staff (username, roles, org unit, e-mail, phone) from Keycloak's Admin REST API
 * (the shouhu-directory service account), so role recipients ("the township supervisor of
 * 长岭乡") resolve to people. Accounts no longer in Keycloak, disabled or without an org
 * unit stay in the table inactive (messages already addressed to them keep their names).
 * Run at start and every DIRECTORY_SYNC_SECONDS: an account the county admin creates or
 * disables reaches the directory within that time.
 */
export async function syncDirectoryFromKeycloak(prisma: PrismaClient, source: StaffSource): Promise<{ active: number; inactive: number }> {
  const accounts = await source.listAll();
  const active = accounts.filter((a) => a.orgUnit && a.enabled);
  await prisma.$transaction(async (tx) => {
    for (const a of active) {
      const roles = a.roles.filter((r) => Role.safeParse(r).success);
      const row = { name: a.name, roles, orgUnit: a.orgUnit!, email: a.email, phone: a.phone, active: true };
      await tx.staffUser.upsert({ where: { username: a.username }, create: { username: a.username, ...row }, update: row });
    }
    await tx.staffUser.updateMany({ where: { active: true, username: { notIn: active.map((a) => a.username) } }, data: { active: false } });
  });
  return { active: active.length, inactive: accounts.length - active.length };
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
