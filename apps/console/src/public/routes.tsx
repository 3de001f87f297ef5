import type { RouteObject } from "react-router";

/**
 * Pages reached from an SMS without an account: each reads one token-less API under
 * `/api/v1/public/` with the code or signed token its URL carries, and links nowhere else.
 */
const PREFIXES = ["/l/", "/t/"];

export const isPublicPage = (pathname: string) => PREFIXES.some((p) => pathname.startsWith(p));

const page = (load: () => Promise<{ default: React.ComponentType }>) => async () => ({ Component: (await load()).default });

export const publicRoutes: RouteObject[] = [
  // 致家长的一封信: the letter a guardian's SMS links to.
  { path: "/l/:code", lazy: page(() => import("./LetterPage")) },
  // A one-time task link (issue 22.2): a proxy parent records one visit or call.
  { path: "/t/:token", lazy: page(() => import("./TaskLink")) },
  { path: "*", lazy: page(() => import("./LinkNotFound")) },
];
