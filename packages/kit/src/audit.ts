import type { FastifyReply } from "fastify";

/**
 * Tells the gateway which child records a response read or changed; the gateway
 * writes the audit row and strips this header (DESIGN.md: every read is audited).
 * Every service that returns child data marks its responses this way.
 */
export const AUDIT_HEADER = "x-shouhu-audit";

export type AuditAction =
  | "read"
  | "list"
  | "create"
  | "update"
  | "status-change"
  | "history"
  | "contact-card"
  | "import"
  | "import-preview"
  | "import-confirm"
  | "export"
  | "pairing-read"
  | "pairing-decision"
  | "pairing-end"
  | "pairing-create"
  | "pairing-transfer"
  | "matching"
  | "promote"
  | "handover"
  | "transfer-request"
  | "transfer-approve"
  | "transfer-refuse"
  | "growth"
  | "growth-add"
  | "growth-remove"
  | "attachment-list"
  | "attachment-read"
  | "attachment-upload"
  | "attachment-delete"
  | "enrolment-preview"
  | "enrolment-confirm"
  | "enrolment-missing"
  | "enrolment-read"
  | "enrolment-set";

export function markAudit(reply: FastifyReply, action: AuditAction, childIds: string[]): void {
  reply.header(AUDIT_HEADER, JSON.stringify({ action, childIds }));
}
