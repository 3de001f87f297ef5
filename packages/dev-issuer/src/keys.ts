import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { exportJWK, generateKeyPair, importJWK, type JWK, type CryptoKey } from "jose";

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  privateJwk: JWK;
}

/**
 * The issuer's RS256 keys. The newest signs; older ones stay in the JWKS so
 * tokens they signed keep validating after a rotation, as in Keycloak.
 * With a file, keys are loaded from it (or created and written there), and each
 * rotation is written back, so a restart keeps issued tokens valid.
 */
export class KeySet {
  private keys: SigningKey[] = [];
  private file: string | undefined;

  static async create(file?: string): Promise<KeySet> {
    const set = new KeySet();
    set.file = file;
    if (file && existsSync(file)) {
      const stored = JSON.parse(readFileSync(file, "utf8")) as JWK[];
      for (const jwk of stored) set.keys.push(await fromPrivateJwk(jwk));
      if (set.keys.length === 0) throw new Error(`${file} holds no signing keys`);
    } else {
      await set.rotate();
    }
    return set;
  }

  /** Adds a new signing key (new kid) in front; the old ones stay published. Returns the new kid. */
  async rotate(): Promise<string> {
    const { privateKey } = await generateKeyPair("RS256", { modulusLength: 2048, extractable: true });
    const privateJwk = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: "RS256", use: "sig" };
    this.keys.unshift(await fromPrivateJwk(privateJwk));
    if (this.file) this.save(this.file);
    return privateJwk.kid;
  }

  /** Drops every key but the newest `keep` (an old key's tokens then stop validating). */
  retire(keep = 1): void {
    this.keys.splice(Math.max(1, keep));
    if (this.file) this.save(this.file);
  }

  save(file: string): void {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(this.keys.map((k) => k.privateJwk)), { mode: 0o600 });
  }

  get signing(): SigningKey {
    return this.keys[0]!;
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }
}

/** Key rotation as a function: a new signing key, the old ones kept in the JWKS. */
export async function rotateSigningKey(keys: KeySet): Promise<string> {
  return keys.rotate();
}

async function fromPrivateJwk(jwk: JWK): Promise<SigningKey> {
  const privateKey = (await importJWK(jwk, "RS256")) as CryptoKey;
  const { kty, n, e, kid, alg, use } = jwk;
  if (!kid) throw new Error("stored signing key has no kid");
  return { kid, privateKey, privateJwk: jwk, publicJwk: { kid, kty, alg: alg ?? "RS256", use: use ?? "sig", n, e } };
}
