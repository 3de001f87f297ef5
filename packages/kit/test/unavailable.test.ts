import { describe, expect, it } from "vitest";
import { isDependencyUnavailable } from "../src/unavailable.js";

const prismaError = (code: string, message: string) => Object.assign(new Error(message), { name: "PrismaClientKnownRequestError", code });

describe("which errors are a dependency being unavailable (503) rather than a bug (500)", () => {
  it("takes a saturated database's transaction errors as unavailable: nothing was committed", () => {
    // Both seen in the chaos run under load (docs/RELIABILITY.md), answered 500 before.
    expect(isDependencyUnavailable(prismaError("P2028", "Transaction API error: Unable to start a transaction in the given time."))).toBe(true);
    expect(
      isDependencyUnavailable(
        prismaError(
          "P2028",
          "Transaction API error: A commit cannot be executed on an expired transaction. The timeout for this transaction was 5000 ms, however 7468 ms passed",
        ),
      ),
    ).toBe(true);
    expect(
      isDependencyUnavailable(
        prismaError("P2028", "\nInvalid `prisma.child.create()` invocation:\n\nTransaction API error: A query cannot be executed on an expired transaction."),
      ),
    ).toBe(true);
  });

  it("keeps a transaction used after it closed, a constraint and a plain error as bugs", () => {
    expect(
      isDependencyUnavailable(
        prismaError("P2028", "Transaction API error: Transaction already closed: A query cannot be executed on a committed transaction."),
      ),
    ).toBe(false);
    expect(isDependencyUnavailable(prismaError("P2002", "Unique constraint failed on the fields: (`id_number`)"))).toBe(false);
    expect(isDependencyUnavailable(new TypeError("Cannot read properties of undefined"))).toBe(false);
  });

  it("sees the cause of a wrapped error, and pg's and Prisma's connection errors", () => {
    expect(
      isDependencyUnavailable(new Error("import failed", { cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }) })),
    ).toBe(true);
    expect(isDependencyUnavailable(prismaError("P2024", "Timed out fetching a new connection from the connection pool."))).toBe(true);
    expect(isDependencyUnavailable(Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" }))).toBe(true);
  });
});
