import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "./client";
import type { InboxMessage, OrgUnit, OrgUnitDetail, School } from "./models";
import { contains, countyOf, orgLevel } from "./org-units";

/** Org units change rarely; cached for the session. */
export function useOrgUnit(code: string | undefined) {
  return useQuery({
    queryKey: ["org-unit", code],
    enabled: Boolean(code),
    staleTime: Infinity,
    queryFn: () => unwrap<OrgUnitDetail>(api.GET("/api/v1/org-units/{code}", { params: { path: { code: code! } } })),
  });
}

export function useOrgUnits(parent: string | undefined, level?: "township" | "village") {
  return useQuery({
    queryKey: ["org-units", parent, level],
    enabled: Boolean(parent),
    staleTime: Infinity,
    queryFn: async () =>
      (await unwrap<{ items: OrgUnit[] }>(api.GET("/api/v1/org-units", { params: { query: { parent: parent!, ...(level ? { level } : {}) } } }))).items,
  });
}

export function useSchools(townshipCode?: string) {
  return useQuery({
    queryKey: ["schools", townshipCode ?? "all"],
    staleTime: Infinity,
    queryFn: async () => (await unwrap<{ items: School[] }>(api.GET("/api/v1/schools", { params: { query: townshipCode ? { townshipCode } : {} } }))).items,
  });
}

/** All villages under a code (county → townships → villages), for names in tables. */
export function useVillageNames(orgUnit: string) {
  return useQuery({
    queryKey: ["village-names", orgUnit],
    staleTime: Infinity,
    queryFn: async () => {
      const names = new Map<string, string>();
      const county = countyOf(orgUnit);
      const townships = (await unwrap<{ items: OrgUnit[] }>(api.GET("/api/v1/org-units", { params: { query: { parent: county } } }))).items;
      for (const t of townships) names.set(t.code, t.name);
      const wanted = townships.filter((t) => orgLevel(orgUnit) === "county" || contains(t.code, orgUnit));
      const villages = await Promise.all(
        wanted.map((t) => unwrap<{ items: OrgUnit[] }>(api.GET("/api/v1/org-units", { params: { query: { parent: t.code } } }))),
      );
      for (const v of villages.flatMap((r) => r.items)) names.set(v.code, v.name);
      return names;
    },
  });
}

/** Unread count for the header badge; polled gently (a minute), not pushed. */
export function useUnreadCount() {
  return useQuery({
    queryKey: ["inbox", "unread"],
    refetchInterval: 60_000,
    retry: false,
    queryFn: async () =>
      (await unwrap<{ unread: number; items: InboxMessage[] }>(api.GET("/api/v1/inbox", { params: { query: { unread: "true", limit: 5 } } }))).unread,
  });
}
