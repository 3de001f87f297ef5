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

export function upstreamTable(urls: { registry: string }): Upstream[] {
  return [
    { name: "registry", url: urls.registry, prefixes: ["/api/v1/org-units", "/api/v1/schools", "/api/v1/children", "/api/v1/imports", "/api/v1/exports"] },
  ];
}

export function findUpstream(table: Upstream[], path: string): Upstream | undefined {
  return table.find((u) => u.prefixes.some((p) => path === p || path.startsWith(`${p}/`) || path.startsWith(`${p}?`)));
}
