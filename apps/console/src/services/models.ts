/**
 * Response shapes. Where a route documents its response (history, contact-card) the
 * type is generated from the OpenAPI document (`Ok` below); the rest still come from
 * the services' own TypeScript (type-only imports, nothing bundled):
 * when a service changes what it returns, this stops compiling.
 */
import type { ChildRecord } from "../../../../services/registry/src/domain/child-record";

export type Child = ChildRecord;
import type { paths } from "./schema";

/** A route's documented 200 body, from the generated OpenAPI types (routes that declare a response schema). */
type Ok<P extends keyof paths, M extends "get" | "post" | "patch" = "get"> = paths[P][M] extends {
  responses: { 200: { content: { "application/json": infer T } } };
}
  ? T
  : never;

export type ContactCard = Ok<"/api/v1/children/{id}/contact-card">;
export type HistoryEntry = Ok<"/api/v1/children/{id}/history">["items"][number];

// The routes below build their answer inline (nothing exported to import); these
// mirror them field for field — services/registry/src/routes/imports.ts presentBatch,
// org-units.ts (Prisma rows), pairing/src/routes/unpaired.ts, notifications/src/routes/inbox.ts.
export interface OrgUnit {
  code: string;
  name: string;
  level: "county" | "township" | "village";
  parentCode: string | null;
}
export interface School {
  id: string;
  name: string;
  townshipCode: string;
}
export interface InboxMessage {
  id: string;
  title: string;
  body: string;
  urgent: boolean;
  childId: string | null;
  createdAt: string;
  readAt: string | null;
}
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** An import batch and its rejected rows, as the registry's imports API returns them. */
export interface ImportBatch {
  id: string;
  fileName: string;
  orgUnit: string;
  status: string;
  totalRows: number;
  processedRows: number;
  acceptedRows: number;
  rejectedRows: number;
  error: string | null;
  createdBy: string | null;
  createdAt: string;
  finishedAt: string | null;
  duplicateUpload?: boolean;
}
export interface ImportRejection {
  sheet: string;
  rowNumber: number;
  name: string | null;
  reasons: string[];
  existingChildId: string | null;
}
