import { afterAll } from "vitest";
import { removeTestKeys } from "./prefix.js";

// Registered before each test file's own hooks, so (after-hooks run in reverse) it runs
// last: once the file has closed its queues and workers, its Redis keys are removed.
afterAll(async () => {
  await removeTestKeys();
});
