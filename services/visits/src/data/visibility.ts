import { NotFoundError } from "@shouhu/kit";
import { hasAnyRole, type Principal } from "@shouhu/auth";
import type { Tx } from "./db.js";
import { contains } from "@shouhu/contracts";

export interface VisibleChild {
  id: string;
  name: string;
  villageCode: string;
  townshipCode: string;
  countyCode: string;
  status: string;
  helperUsername: string | null;
}

/** Teachers see only the children paired to them (issue: "a teacher sees only their paired children"). */
export function teacherOnly(principal: Principal): string | null {
  const caseWorker = hasAnyRole(principal, ["county-admin", "federation-officer", "township-supervisor", "village-director", "inspector", "health-worker"]);
  return !caseWorker && hasAnyRole(principal, ["teacher"]) ? principal.username : null;
}

/** The child if the principal may see it; 404 otherwise (existence outside one's area is not disclosed). */
export async function visibleChild(db: Pick<Tx, "$queryRawUnsafe">, principal: Principal, childId: string): Promise<VisibleChild> {
  const [child] = await db.$queryRawUnsafe<VisibleChild[]>(
    `SELECT c.id, c.name, c.village_code AS "villageCode", c.township_code AS "townshipCode", c.county_code AS "countyCode", c.status,
            a.username AS "helperUsername"
       FROM children c LEFT JOIN assignments a ON a.child_id = c.id WHERE c.id = $1::uuid`,
    childId,
  );
  const teacher = teacherOnly(principal);
  if (!child || !contains(principal.orgUnit, child.villageCode) || (teacher && child.helperUsername !== teacher)) throw new NotFoundError("儿童", childId);
  return child;
}
