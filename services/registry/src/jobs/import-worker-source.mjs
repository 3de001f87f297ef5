// Runs the parse worker from TypeScript source (tests, benchmarks): the built
// service starts dist/jobs/import-worker.js directly and never loads this.
import { register } from "tsx/esm/api";

register();
await import("./import-worker.ts");
