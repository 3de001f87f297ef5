/**
 * Response shapes, all generated from the gateway's OpenAPI document (schema.d.ts,
 * `npm run openapi -w apps/console`): every route the console reads documents its
 * answer, so when a service changes what it returns, this stops compiling.
 */
import type { paths } from "./schema";

type Method = "get" | "post" | "patch" | "put";
/** A route's documented success body (200, else 201/202). */
type Ok<P extends keyof paths, M extends Method = "get"> = paths[P][M] extends {
  responses: { 200: { content: { "application/json": infer T } } };
}
  ? T
  : paths[P][M] extends { responses: { 201: { content: { "application/json": infer T } } } }
    ? T
    : never;

export type Child = Ok<"/api/v1/children/{id}">;
export type ChildPage = Ok<"/api/v1/children">;
export type ContactCard = Ok<"/api/v1/children/{id}/contact-card">;
export type HistoryEntry = Ok<"/api/v1/children/{id}/history">["items"][number];
export type OrgUnit = Ok<"/api/v1/org-units">["items"][number];
export type OrgUnitDetail = Ok<"/api/v1/org-units/{code}">;
export type School = Ok<"/api/v1/schools">["items"][number];
export type OrgOverview = Ok<"/api/v1/org-units/overview">;
export type OverviewUnit = OrgOverview["units"][number];
export type OverviewSchool = OrgOverview["schools"][number];
export type MergeResult = Ok<"/api/v1/org-units/{code}/merge", "post">;
export type ListImportResult = Ok<"/api/v1/org-units/import", "post">;
export type InboxPage = Ok<"/api/v1/inbox">;
export type InboxMessage = InboxPage["items"][number];
export type ImportBatch = Ok<"/api/v1/imports/{id}">;
export type ReimportPreview = Ok<"/api/v1/imports/{id}/preview">;
export type ReimportRow = ReimportPreview["items"][number];
export type ImportRejection = Ok<"/api/v1/imports/{id}/rejections">["items"][number];
export type Pairing = Ok<"/api/v1/pairings/{id}">;
export type PairingPage = Ok<"/api/v1/pairings">;
export type Decisions = Ok<"/api/v1/pairings/decisions", "post">;
export type Helper = Ok<"/api/v1/helpers">["items"][number];
export type HelperPage = Ok<"/api/v1/helpers">;
export type HelperImportResult = Ok<"/api/v1/helpers/import", "post">;
export type UnpairedPage = Ok<"/api/v1/unpaired-children">;
export type UnpairedSummary = Ok<"/api/v1/unpaired-children/summary">;
export type VisitItemPage = Ok<"/api/v1/visit-items">;
export type VisitItem = VisitItemPage["items"][number];
export type VisitRecordPage = Ok<"/api/v1/visit-records">;
export type VisitRecord = VisitRecordPage["items"][number];
export type RecordCreated = Ok<"/api/v1/visit-records", "post">;
export type RecordBody = NonNullable<paths["/api/v1/visit-records"]["post"]["requestBody"]>["content"]["application/json"];
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
export type MatchRun = Ok<"/api/v1/pairing-runs", "post">;
export type ChildCounts = Ok<"/api/v1/children/counts">;
export type ImportBatchList = Ok<"/api/v1/imports">;
export type AuditPage = Ok<"/api/v1/audit">;
export type AuditEntry = AuditPage["items"][number];
export type Overview = Ok<"/api/v1/reports/overview">;
export type Figures = Overview["total"];
export type Trend = Ok<"/api/v1/reports/trend">;
export type Drilldown = Ok<"/api/v1/reports/drilldown">;
export type Supervision = Ok<"/api/v1/reports/supervision">;
export type ReportExport = Ok<"/api/v1/reports/exports/{id}">;
export type OfficeSettings = Ok<"/api/v1/notifications/offices/{orgUnit}">;

export type Site = Ok<"/api/v1/sites">["items"][number];
export type SiteDetail = Ok<"/api/v1/sites/{id}">;
export type SiteChild = SiteDetail["children"][number];
export type Session = Ok<"/api/v1/sites/{id}/sessions">["items"][number];
export type SiteOptions = Ok<"/api/v1/sites/options">;
export type SafetyCampaign = Ok<"/api/v1/safety-campaigns">["items"][number];
export type SafetyProgress = Ok<"/api/v1/safety-campaigns/{id}">;
export type ActivityCounts = Ok<"/api/v1/reports/activities">;
export type AttachmentList = Ok<"/api/v1/children/{id}/attachments">;
export type Attachment = AttachmentList["items"][number];
export type VisitPhoto = Ok<"/api/v1/visit-records/{id}/photos">["items"][number];
export type ParentCallCounts = paths["/api/v1/reports/parent-calls"]["get"]["responses"]["200"]["content"]["application/json"];

// 致家长的一封信 (notifications)
export type Letter = Ok<"/api/v1/letters/{id}">;
export type LetterPreview = Ok<"/api/v1/letters/{id}/preview">;
export type LetterReach = Ok<"/api/v1/letters/{id}/reach">;
export type LetterSchools = Ok<"/api/v1/letters/schools">;
export type OpenedLetter = Ok<"/api/v1/public/letters/{code}">;
// 控辍保学 (reporting)
export type EnrolmentReport = Ok<"/api/v1/reports/enrolment">;
// 控辍保学 (registry)
export type EnrolmentSchools = Ok<"/api/v1/enrolments/schools">;
export type EnrolmentMissing = Ok<"/api/v1/enrolments/missing">;
export type EnrolmentImport = Ok<"/api/v1/enrolment-imports/{id}">;
export type ChildEnrolments = Ok<"/api/v1/children/{id}/enrolments">;
// A proxy parent's one-time task link (visits, token-less)
export type TaskLinkView = Ok<"/api/v1/public/task-links/{*}">;
export type TaskLinkRecorded = Ok<"/api/v1/public/task-links/{*}", "post">;
