#!/usr/bin/env node
// `npm run bench`: every benchmark that needs no running system, one after the
// other (they share this machine's two cores, so never in parallel). The gateway
// benchmark needs `npm start` first; see bench/RESULTS.md for how it is run.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const benches = [
  ["bench/pairing-match.ts"],
  ["bench/visits-scan.ts", "--children", "100000"],
  ["bench/notifications-delivery.ts", "--events", "20000"],
  ["bench/reporting-overview.ts"],
  ["bench/import-register.ts", "--rows", "100000"],
];
let failed = 0;
for (const [script, ...args] of benches) {
  console.log(`\n=== ${script} ${args.join(" ")}`);
  const run = spawnSync("npx", ["tsx", "--conditions=source", script, ...args], { cwd: root, stdio: "inherit" });
  if (run.status !== 0) failed++;
}
console.log("\n(gateway vs direct: start the system with `RATE_LIMIT_PER_MINUTE=100000000 LOG_LEVEL=warn npm start`, then `node bench/gateway.mjs`)");
process.exit(failed ? 1 : 0);
