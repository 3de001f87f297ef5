import { fileURLToPath } from "node:url";
import { createIssuerApp } from "./app.js";

// Run from src (tsx) or dist (node): both sit two levels below the repo's packages/.
const realmFile = process.env.REALM_FILE ?? fileURLToPath(new URL("../../../infra/keycloak/shouhu-realm.json", import.meta.url));
const port = Number(process.env.PORT ?? 8081);
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got ${process.env.PORT}`);
const host = process.env.HOST ?? "127.0.0.1";
const publicBaseUrl = process.env.ISSUER_PUBLIC_URL ?? `http://127.0.0.1:${port}`;

// Users as the admin REST API left them (accounts created in the console survive a restart); delete the file to start over from the dev users file.
const usersStoreFile = process.env.DEV_ISSUER_USERS_STORE ?? fileURLToPath(new URL("../var/shouhu-users.json", import.meta.url));

const app = await createIssuerApp({
  realmFile,
  publicBaseUrl,
  usersStoreFile,
  ...(process.env.ISSUER_KEY_FILE ? { keyFile: process.env.ISSUER_KEY_FILE } : {}),
});
await app.listen({ port, host });
console.log(JSON.stringify({ service: "dev-issuer", msg: "listening", issuer: app.issuerUrl(), kid: app.keys.signing.kid }));
for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => void app.close().then(() => process.exit(0)));
