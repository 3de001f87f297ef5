import { fileURLToPath } from "node:url";
import { createLogger, type ServiceApp } from "@shouhu/kit";
import { createTokenVerifier } from "@shouhu/auth";
import type { ChildSnapshot, Envelope } from "@shouhu/contracts";
import { buildEvent, consumeEvent } from "@shouhu/messaging";
import { childSnapshot, createTestDatabase, startTestIssuer, type TestDatabase, type TestIssuer } from "@shouhu/testing";
import { serviceTest } from "@shouhu/testing/vitest";
import { createPrisma, type PrismaClient, type Tx } from "../src/data/db.js";
import { buildPairingApp } from "../src/app.js";
import { childEventHandlers } from "../src/events/child-events.js";
import { runPendingMatches } from "../src/data/matching.js";

export const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));

export interface PairingHarness {
  db: TestDatabase;
  prisma: PrismaClient;
  app: ServiceApp;
  issuer: TestIssuer;
  clock: { now: Date };
  as(username: string): Promise<{ authorization: string }>;
  /** Delivers an event as the BullMQ consumer would (inbox + handler in one transaction). */
  deliver(event: Envelope): Promise<"applied" | "duplicate">;
  /** Runs the queued township matches at once (the worker's poller, without its quiet period). */
  match(): ReturnType<typeof runPendingMatches>;
  outbox(type?: string): Promise<Envelope[]>;
  close(): Promise<void>;
}

/**
 * The pairing service as in production, against real PostgreSQL and the development
 * issuer, on the given database and issuer. `close()` closes the app and its client, not
 * the database or the issuer.
 */
async function buildPairing({ db, issuer }: { db: TestDatabase; issuer: TestIssuer }): Promise<PairingHarness> {
  const prisma = createPrisma(db.url);
  const clock = { now: new Date("2026-11-22T02:00:00Z") };
  const app = await buildPairingApp({
    prisma,
    verifier: createTokenVerifier({ issuerUrl: issuer.issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-web", "shouhu-service"] }),
    logger: createLogger("pairing-test", "silent"),
    now: () => clock.now,
  });
  await app.ready();
  const handlers = childEventHandlers(() => clock.now);
  return {
    db,
    prisma,
    app,
    issuer,
    clock,
    as: issuer.as,
    deliver: (event) => consumeEvent<Tx>(event, handlers, (fn) => prisma.$transaction(fn)),
    match: () => runPendingMatches(prisma, { quietMs: 0 }),
    outbox: async (type) =>
      (await prisma.outboxEvent.findMany({ where: type ? { type } : {}, orderBy: { createdAt: "asc" } })).map((row) => row.envelope as unknown as Envelope),
    async close() {
      await app.close();
      await prisma.$disconnect();
    },
  };
}

/**
 * The pairing test file's `test`: `pairing`, a {@link PairingHarness} on the file's `db` and
 * `issuer` fixtures, built when a test or `test.beforeAll` first asks for it and closed
 * (then the database dropped, the issuer stopped) after the file.
 */
export const pairingTest = (label: string) =>
  serviceTest(label, migrationsDir).extend("pairing", { scope: "file" }, async ({ db, issuer }, { onCleanup }) => {
    const pairing = await buildPairing({ db, issuer });
    onCleanup(() => pairing.close());
    return pairing;
  });

/**
 * The pairing service on a database of its own, with its own issuer or one shared with
 * other services in the file (the gateway's chain test, reporting's rebuild fan-out); its
 * `close()` also drops the database and stops an issuer it started.
 */
export async function startPairing(label: string, options: { issuer?: TestIssuer } = {}): Promise<PairingHarness> {
  const db = await createTestDatabase(label, { migrationsDir });
  const issuer = options.issuer ?? (await startTestIssuer());
  const pairing = await buildPairing({ db, issuer });
  return {
    ...pairing,
    async close() {
      await pairing.close();
      if (!options.issuer) await issuer.close();
      await db.drop();
    },
  };
}

let seq = 0;

/** A registry child snapshot (what child events carry), in Changling township by default. */
export function snapshot(over: Partial<ChildSnapshot> = {}): ChildSnapshot {
  seq += 1;
  return childSnapshot({
    name: `儿童${seq}`,
    grade: "四年级",
    className: "2班",
    guardian: { name: "李大山", relation: "祖父", phone: "13907310001" },
    ...over,
  });
}

export function childEvent(type: "child.registered" | "child.updated", child: ChildSnapshot): Envelope {
  return buildEvent(
    type,
    {
      subject: child.id,
      orgUnit: child.villageCode,
      actor: { kind: "user", id: "registrar", name: "登记员" },
      data: type === "child.registered" ? { child } : { child, changes: [] },
    },
    { producer: "registry" },
  );
}

export function exitEvent(child: ChildSnapshot): Envelope {
  return buildEvent(
    "child.status-changed",
    {
      subject: child.id,
      orgUnit: child.villageCode,
      actor: { kind: "user", id: "registrar", name: "登记员" },
      data: { child: { ...child, status: "exited", exitReason: "parent_returned" }, from: "active", to: "exited", reason: "parent_returned", note: null },
    },
    { producer: "registry" },
  );
}
