import { createHash, randomBytes, scryptSync, timingSafeEqual } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { RealmExport, RealmGroup, RealmUser } from "./realm.js";

type Credential = NonNullable<RealmUser["credentials"]>[number];

/** A password credential as Keycloak stores one: a salted hash (scrypt here), never the value. */
export function hashedPassword(value: string, temporary: boolean): Credential {
  const salt = randomBytes(16);
  const hash = scryptSync(value, salt, 32);
  return {
    type: "password",
    temporary,
    createdDate: Date.now(),
    secretData: JSON.stringify({ value: hash.toString("base64"), salt: salt.toString("base64") }),
    credentialData: JSON.stringify({ algorithm: "scrypt", hashIterations: 1 }),
  };
}

function same(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether `given` is the user's password: a hashed credential, or the plain `value` of the dev users file. */
export function passwordMatches(user: RealmUser, given: string | undefined): boolean {
  if (given === undefined) return false;
  const credential = user.credentials?.find((c) => c.type === "password");
  if (!credential) return false;
  if (credential.secretData) {
    try {
      const { value, salt } = JSON.parse(credential.secretData) as { value: string; salt: string };
      return same(scryptSync(given, Buffer.from(salt, "base64"), 32), Buffer.from(value, "base64"));
    } catch {
      return false;
    }
  }
  return credential.value !== undefined && same(Buffer.from(credential.value), Buffer.from(given));
}

/** A stable id for a group of the export (Keycloak gives each one a UUID at import). */
function groupId(groupPath: string): string {
  const h = createHash("sha1").update(`shouhu-dev-issuer/group${groupPath}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Every group of the realm, flattened, each with its path and id. */
export function allGroups(realm: RealmExport): (RealmGroup & { id: string; path: string })[] {
  const out: (RealmGroup & { id: string; path: string })[] = [];
  const walk = (groups: RealmGroup[], prefix: string) => {
    for (const g of groups) {
      g.path ??= `${prefix}/${g.name}`;
      g.id ??= groupId(g.path);
      out.push(g as RealmGroup & { id: string; path: string });
      walk(g.subGroups ?? [], g.path);
    }
  };
  walk(realm.groups ?? [], "");
  return out;
}

/**
 * The issuer's user database, as Keycloak's is: the realm export (and dev users file) seed it,
 * the admin REST API changes it, and with a `file` the human users are kept there so a restart
 * keeps what an administrator did (Keycloak imports a realm once; afterwards its database rules).
 * Service accounts always come from the realm export.
 */
export class UserStore {
  constructor(
    private readonly realm: RealmExport,
    private readonly file?: string,
  ) {
    allGroups(realm);
    if (file && existsSync(file)) {
      const saved = JSON.parse(readFileSync(file, "utf8")) as { realm?: string; users?: RealmUser[] };
      if (saved.realm !== realm.realm) throw new Error(`${file} holds users of realm ${saved.realm}, not ${realm.realm}`);
      realm.users = [...(realm.users ?? []).filter((u) => u.serviceAccountClientId), ...(saved.users ?? [])];
    }
  }

  get users(): RealmUser[] {
    return (this.realm.users ??= []);
  }

  /** Writes the human users (atomically: a crash leaves the old file or the new one). */
  save(): void {
    if (!this.file) return;
    mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    const users = this.users.filter((u) => !u.serviceAccountClientId);
    writeFileSync(tmp, `${JSON.stringify({ realm: this.realm.realm, users }, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
