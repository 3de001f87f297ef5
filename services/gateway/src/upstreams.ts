/**
 * Which service answers which public path. Services serve the same `/api/v1/...`
 * paths, so proxying keeps the path. A new service is one line here and one
 * URL in the config.
 */
export interface Upstream {
  name: string;
  url: string;
  prefixes: string[];
}

export function upstreamTable(urls: {
  registry: string;
  pairing: string;
  visits: string;
  health: string;
  notifications: string;
  reporting: string;
  activities: string;
}): Upstream[] {
  return [
    {
      name: "registry",
      url: urls.registry,
      prefixes: [
        "/api/v1/org-units",
        "/api/v1/schools",
        "/api/v1/children",
        "/api/v1/transfers",
        "/api/v1/enrolments",
        "/api/v1/enrolment-imports",
        "/api/v1/imports",
        "/api/v1/exports",
        "/api/v1/snapshots/registry",
      ],
    },
    {
      name: "pairing",
      url: urls.pairing,
      prefixes: ["/api/v1/helpers", "/api/v1/pairings", "/api/v1/pairing-runs", "/api/v1/unpaired-children", "/api/v1/snapshots/pairing"],
    },
    {
      name: "visits",
      url: urls.visits,
      prefixes: [
        "/api/v1/visit-records",
        "/api/v1/visit-items",
        "/api/v1/visit-summary",
        "/api/v1/visit-rules",
        "/api/v1/concerns",
        "/api/v1/task-links",
        "/api/v1/public/task-links",
        "/api/v1/snapshots/visits",
      ],
    },
    {
      name: "health",
      url: urls.health,
      prefixes: ["/api/v1/campaigns", "/api/v1/exams", "/api/v1/follow-ups", "/api/v1/growth-reference", "/api/v1/snapshots/health"],
    },
    {
      name: "notifications",
      url: urls.notifications,
      prefixes: ["/api/v1/inbox", "/api/v1/notifications", "/api/v1/letters", "/api/v1/public/letters", "/api/v1/public/sms-receipts"],
    },
    { name: "reporting", url: urls.reporting, prefixes: ["/api/v1/reports"] },
    { name: "activities", url: urls.activities, prefixes: ["/api/v1/sites", "/api/v1/safety-campaigns"] },
  ];
}

export function findUpstream(table: Upstream[], path: string): Upstream | undefined {
  return table.find((u) => u.prefixes.some((p) => path === p || path.startsWith(`${p}/`) || path.startsWith(`${p}?`)));
}

/**
 * A token-less request: under `/api/v1/public/` with a plain path — letters, digits and `-_.~/` only, no
 * percent-escapes and no dot segments, so no spelling of the path can reach a route that needs a token
 * (the services check again on the route their router matched).
 */
const PUBLIC_PATH = /^\/api\/v1\/public\/[A-Za-z0-9_~/-]+(?:\.[A-Za-z0-9_~-]+)*(?:\?|$)/;
export function isPublicPath(url: string): boolean {
  return PUBLIC_PATH.test(url) && !url.split("?")[0]!.includes("/.");
}
