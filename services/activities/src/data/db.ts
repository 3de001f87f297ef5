import { PrismaClient } from "../generated/prisma/client.js";
import { createPrismaAdapter } from "@shouhu/db";

export { PrismaClient };
export type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];

export function createPrisma(databaseUrl: string): PrismaClient {
  return new PrismaClient({ adapter: createPrismaAdapter(databaseUrl) });
}
