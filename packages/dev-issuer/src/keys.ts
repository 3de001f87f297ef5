import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { exportJWK, generateKeyPair, importJWK, type JWK, type CryptoKey } from "jose";

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  privateJwk: JWK;
}

/**
 * The issuer's RS256 keys. The newest signs; older ones stay in the JWKS so
 * tokens they signed keep validating after a rotation, as in Keycloak.
 */
export class KeySet {
  private keys: SigningKey[] = [];

  static async create(file?: string): Promise<KeySet> {
    const set = new KeySet();
    if (file && existsSync(file)) {
      const stored = JSON.parse(readFileSync(file, "utf8")) as JWK[];
      for (const jwk of stored) set.keys.push(await fromPrivateJwk(jwk));
    } else {
      await set.rotate();
      if (file) set.save(file);
    }
    return set;
  }

  async rotate(): Promise<string> {
    const { privateKey } = await generateKeyPair("RS256", { modulusLength: 2048, extractable: true });
    const privateJwk = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: "RS256", use: "sig" };
    this.keys.unshift(await fromPrivateJwk(privateJwk));
    return privateJwk.kid;
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

async function fromPrivateJwk(jwk: JWK): Promise<SigningKey> {
  const privateKey = (await importJWK(jwk, "RS256")) as CryptoKey;
  const { kty, n, e, kid, alg, use } = jwk;
  return { kid: kid!, privateKey, privateJwk: jwk, publicJwk: { kty, n, e, kid, alg: alg ?? "RS256", use: use ?? "sig" } };
}
