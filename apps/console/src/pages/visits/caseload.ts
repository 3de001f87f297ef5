import { useQuery } from "@tanstack/react-query";
import { useSession } from "../../auth/session";
import { ApiError, api, unwrap } from "../../services/client";
import type { ChildPage, VisitItem, VisitItemPage } from "../../services/models";
import { readCaseload, saveCaseload, type CachedChild, type Caseload } from "../../offline/db";
import { isNetworkError } from "../../offline/online";

/** At most this many children are kept on the device (a village's or a helper's caseload fits many times over). */
const MAX_CHILDREN = 600;
const PAGE = 200;

/** Only what a visit needs, from the API's answer (already reduced by need-to-know): no ID number, no notes. */
function forVisits(c: ChildPage["items"][number]): CachedChild {
  return {
    id: c.id,
    name: c.name,
    sex: c.sex,
    birthDate: c.birthDate,
    villageCode: c.villageCode,
    schoolName: c.schoolName,
    grade: c.grade,
    className: c.className,
    leftBehindType: c.leftBehindType,
    riskLevel: c.riskLevel,
    helperName: c.helperName,
    guardians: c.guardians.map((g) => ({ name: g.name, relation: g.relation, phone: g.phone })),
    parents: c.parents.map((p) => ({ role: p.role, name: p.name, phone: p.phone })),
  };
}

async function fetchChildren(pairedOnly: boolean): Promise<CachedChild[]> {
  const out: CachedChild[] = [];
  let cursor: string | null = null;
  do {
    const query = { status: "active" as const, limit: PAGE, ...(pairedOnly ? { paired: "true" as const } : {}), ...(cursor ? { cursor } : {}) };
    const page: ChildPage = await unwrap<ChildPage>(api.GET("/api/v1/children", { params: { query } }));
    out.push(...page.items.map(forVisits));
    cursor = page.nextCursor;
  } while (cursor && out.length < MAX_CHILDREN);
  return out;
}

async function fetchItems(view: "overdue" | "due_this_week"): Promise<VisitItem[]> {
  return (await unwrap<VisitItemPage>(api.GET("/api/v1/visit-items", { params: { query: { view, limit: 500 } } }))).items;
}

export type CaseloadState = Caseload & { offline: boolean };

/**
 * The user's caseload: fresh from the API when online (and saved on the device), the
 * saved one when offline — for at most 7 days. Runs offline too (networkMode "always").
 * The saved one also shows at once while the fresh one is on its way: on a slow mobile
 * network each request takes seconds, and the list is usable meanwhile (issue 18's
 * benchmark: installed app → due-visits list within 3 s on slow 3G).
 */
export function useCaseload() {
  const { claims, access } = useSession();
  const owner = claims.username;
  // A teacher visits the children paired to them, not the whole school.
  const pairedOnly = access.primaryRole === "teacher";
  const saved = useQuery({
    queryKey: ["caseload-saved", owner],
    networkMode: "always",
    staleTime: Infinity,
    retry: false,
    queryFn: async (): Promise<CaseloadState> => ({ ...(await readCaseload(owner)), offline: true }),
  });
  const fresh = useQuery({
    queryKey: ["caseload", owner],
    networkMode: "always",
    staleTime: 60_000,
    retry: false,
    queryFn: async (): Promise<CaseloadState> => {
      if (navigator.onLine) {
        try {
          const [children, overdue, due] = await Promise.all([fetchChildren(pairedOnly), fetchItems("overdue"), fetchItems("due_this_week")]);
          const items = [...new Map([...overdue, ...due].map((i) => [i.id, i])).values()].sort((a, b) => a.dueDate.localeCompare(b.dueDate));
          await saveCaseload(owner, children, items);
          return { children, items, cachedAt: Date.now(), expired: false, offline: false };
        } catch (err) {
          // No network after all, or the API is down: the saved caseload; anything else is shown.
          if (!isNetworkError(err) && !(err instanceof ApiError && err.status >= 500)) throw err;
        }
      }
      return { ...(await readCaseload(owner)), offline: true };
    },
  });
  const early = !fresh.data && saved.data?.cachedAt ? { ...saved.data, offline: !navigator.onLine } : undefined;
  if (!early) return fresh;
  return { ...fresh, data: early, isLoading: false };
}
