/**
 * Whoever is responsible for item `i` now: the child's mentor for mentor rules
 * (joined as `a`), else — no mentor, or a village-director rule — the village
 * child director (a NULL `a`). Shared by the item listing and the daily scan;
 * kept apart so neither module imports the other.
 */
export function responsibleJoin(item: string): string {
  return `LEFT JOIN assignments a ON a.child_id = ${item}.child_id AND ${item}.responsible = 'mentor'`;
}
