import { defineConfig } from "vitest/config";

// Tests import workspace packages from source (the "source" export condition),
// so `vitest run` needs no prior build except generated Prisma clients.
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"], externalConditions: ["source"] } },
  test: {
    include: [
      "apps/*/test/**/*.test.ts",
      "packages/*/test/**/*.test.ts",
      "services/*/test/**/*.test.ts",
      "infra/test/**/*.test.ts",
      "conformance/**/*.test.ts",
    ],
    pool: "forks",
    // Vitest's default on 2 cores is one file at a time (cores − 1): the suite then took ~20 minutes, most of
    // it waiting (browsers, stacks starting, crash tests waiting out a lock). Three files at once overlap
    // that waiting; the files are isolated (own databases, Redis prefixes, ports), and ran in ~9 minutes.
    maxWorkers: 3,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // A poll gives up after 1 s by default: on two loaded cores a page's refetch after a save takes longer.
    expect: { poll: { timeout: 15_000 } },
    // Removes each file's Redis keys (its test prefixes) after the file: runs leave none behind.
    setupFiles: ["packages/testing/src/vitest-setup.ts"],
    reporters: ["default"],
  },
});
