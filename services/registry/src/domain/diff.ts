import type { FieldChange } from "@shouhu/contracts";

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a == null && b == null) return true;
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Field-level before/after for the history (动态管理). Only fields present in
 * `after` are compared, so a partial update records just what it touched.
 */
export function diffFields(before: Record<string, unknown>, after: Record<string, unknown>): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const field of Object.keys(after)) {
    const b = before[field] ?? null;
    const a = after[field] ?? null;
    if (!same(b, a)) changes.push({ field, before: b, after: a });
  }
  return changes;
}
