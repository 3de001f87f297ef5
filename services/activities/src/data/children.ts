import type { ChildSnapshot } from "@shouhu/contracts";
import { upsertChildren, type ChildProjection, type SqlTx } from "@shouhu/messaging";

/** The service's name as an event producer. */
export const PRODUCER = "activities";

/** The children this service holds: whom a site may serve and a campaign must reach (name, place, school, age, status). */
const children: ChildProjection<ChildSnapshot> = {
  table: "children",
  child: (c) => c,
  columns: {
    name: { type: "text", value: (c) => c.name },
    village_code: { type: "text", value: (c) => c.villageCode },
    township_code: { type: "text", value: (c) => c.townshipCode },
    county_code: { type: "text", value: (c) => c.countyCode },
    school_id: { type: "text", value: (c) => c.schoolId },
    birth_date: { type: "date", value: (c) => c.birthDate },
    status: { type: "text", value: (c) => c.status },
  },
};

/** Children as the registry last said (the shared rules: @shouhu/messaging child-projection); at most one snapshot per child. */
export async function applyChildren(tx: Pick<SqlTx, "$queryRawUnsafe" | "$executeRawUnsafe">, snapshots: readonly ChildSnapshot[]): Promise<void> {
  await upsertChildren(tx, children, snapshots);
}
