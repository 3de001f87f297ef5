import { z } from "zod";

/**
 * What reporting answers, documented so the console's types are generated from the
 * OpenAPI document. Fastify encodes each answer through these, so a field missing here
 * is missing from the answer.
 */
const counts = z.record(z.string(), z.number().int());

/** One unit's figures (a township, a village, or the 合计 row). */
const FiguresResponse = z.object({
  code: z.string(),
  name: z.string(),
  children: z.number().int(),
  exited: z.number().int(),
  byType: counts,
  byRisk: counts,
  byCategory: counts,
  breakdown: z.object({ children: counts, categories: counts }),
  mentored: z.number().int(),
  /** Mentored / active children, 0–1; null with no children. */
  mentorCoverage: z.number().nullable(),
  peerBuddies: z.number().int(),
  visits: z.object({
    month: z.string(),
    records: z.number().int(),
    due: z.number().int(),
    onTime: z.number().int(),
    late: z.number().int(),
    missed: z.number().int(),
    punctuality: z.number().nullable(),
  }),
  checkups: z.object({ year: z.string(), examined: z.number().int(), coverage: z.number().nullable(), flags: counts }),
  concerns: z.object({
    open: z.number().int(),
    escalated: z.number().int(),
    age: z
      .object({ upTo7Days: z.number().int(), upTo30Days: z.number().int(), over30Days: z.number().int(), oldestDays: z.number().int().nullable() })
      .optional(),
  }),
});

export const OverviewResponse = z.object({
  orgUnit: z.string(),
  name: z.string(),
  month: z.string(),
  rows: z.array(FiguresResponse),
  total: FiguresResponse,
});

const SchoolFiguresResponse = z.object({
  schoolId: z.string(),
  schoolName: z.string(),
  children: z.number().int(),
  mentored: z.number().int(),
  examined: z.number().int(),
  mentorCoverage: z.number().nullable(),
});

/** By village: figures as in the overview; by school: children, mentored and examined per school. */
export const DrilldownResponse = z.object({
  orgUnit: z.string(),
  by: z.string(),
  month: z.string(),
  rows: z.array(z.union([FiguresResponse, SchoolFiguresResponse])),
  total: FiguresResponse.optional(),
});

export const TrendResponse = z.object({
  orgUnit: z.string(),
  months: z.array(
    z.object({
      month: z.string(),
      visitRecords: z.number().int(),
      itemsDue: z.number().int(),
      onTime: z.number().int(),
      late: z.number().int(),
      missed: z.number().int(),
      punctuality: z.number().nullable(),
      concernsRaised: z.number().int(),
    }),
  ),
});

export const SupervisionResponse = z.object({
  orgUnit: z.string(),
  name: z.string(),
  unpaired: z.array(z.object({ id: z.string(), name: z.string(), villageCode: z.string(), riskLevel: z.string(), leftBehindType: z.string() })),
  overdue: z.array(
    z.object({
      childId: z.string(),
      name: z.string(),
      villageCode: z.string(),
      kind: z.string(),
      period: z.string(),
      dueDate: z.string().nullable(),
      escalated: z.boolean(),
    }),
  ),
  unexamined: z.array(z.object({ id: z.string(), name: z.string(), villageCode: z.string() })),
  openConcerns: z.array(
    z.object({
      id: z.string(),
      childId: z.string(),
      childName: z.string(),
      villageCode: z.string(),
      category: z.string(),
      raisedAt: z.string().nullable(),
      escalated: z.boolean(),
      ageDays: z.number().int().nullable(),
    }),
  ),
});

export const ExportStartedResponse = z.object({ id: z.uuid(), status: z.literal("queued") });

export const ExportStateResponse = z.object({
  id: z.uuid(),
  report: z.string(),
  orgUnit: z.string(),
  /** queued | running | done | failed */
  status: z.string(),
  total: z.number().int(),
  done: z.number().int(),
  /** 0–1. */
  progress: z.number(),
  fileName: z.string().nullable(),
  error: z.string().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
});
