import { fileURLToPath } from "node:url";
import { createIssuerApp } from "./app.js";

const realmFile = process.env.REALM_FILE ?? fileURLToPath(new URL("../../../infra/keycloak/shouhu-realm.json", import.meta.url));
const port = Number(process.env.PORT ?? 8081);
const host = process.env.HOST ?? "127.0.0.1";
const publicBaseUrl = process.env.ISSUER_PUBLIC_URL ?? `http://127.0.0.1:${port}`;

const app = await createIssuerApp({ realmFile, publicBaseUrl, keyFile: process.env.ISSUER_KEY_FILE });
await app.listen({ port, host });
console.log(JSON.stringify({ service: "dev-issuer", msg: "listening", issuer: `${publicBaseUrl}/realms/${app.realm.realm}` }));
for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => void app.close().then(() => process.exit(0)));
