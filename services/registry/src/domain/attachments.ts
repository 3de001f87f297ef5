import { MB, type AttachmentPolicy } from "@shouhu/attachments";
import type { ChildAttachmentKind } from "@shouhu/auth";

/**
 * The evidence a child's file keeps, what each accepts, its limit and how long it is kept.
 * Who sees which kind is the need-to-know table's (ATTACHMENT_ACCESS in @shouhu/auth).
 *
 * Retention: agreements, proofs and consent forms are the basis of the child's case and are
 * kept five years (a case reopened, an inspection); photos of the home two years.
 */
export const CHILD_ATTACHMENT_POLICIES: Record<ChildAttachmentKind, AttachmentPolicy & { label: string }> = {
  "guardianship-agreement": { label: "监护协议", accepts: "document", maxBytes: 20 * MB, retentionDays: 5 * 365 },
  "hardship-proof": { label: "困境证明", accepts: "document", maxBytes: 20 * MB, retentionDays: 5 * 365 },
  "consent-form": { label: "知情同意书", accepts: "document", maxBytes: 20 * MB, retentionDays: 5 * 365 },
  photo: { label: "照片", accepts: "photo", maxBytes: 15 * MB, retentionDays: 2 * 365 },
};
