import { createBrowserRouter } from "react-router";
import { BasicLayout } from "./layouts/BasicLayout";
import { NotFound } from "./pages/exception/NotFound";
import { PageError } from "./pages/exception/PageError";

/** Each page is its own chunk: the first screen loads the layout and 工作台 only. */
const page = (load: () => Promise<{ default: React.ComponentType }>) => async () => ({ Component: (await load()).default });

/** Created after start-up (sign-in callback handled, URL replaced), so it reads the final location. */
export const createRouter = () =>
  createBrowserRouter([
    {
      path: "/",
      Component: BasicLayout,
      children: [
        {
          // Errors of any page render inside the layout (menu stays usable).
          ErrorBoundary: PageError,
          children: [
            { index: true, lazy: page(() => import("./pages/workbench")) },
            { path: "children", lazy: page(() => import("./pages/children/ChildList")) },
            { path: "children/:id", lazy: page(() => import("./pages/children/ChildDetail")) },
            { path: "children/new", lazy: page(() => import("./pages/children/ChildForm")) },
            { path: "children/:id/edit", lazy: page(() => import("./pages/children/ChildForm")) },
            { path: "pairing", lazy: page(() => import("./pages/pairing")) },
            { path: "visits", lazy: page(() => import("./pages/visits")) },
            { path: "visits/new", lazy: page(() => import("./pages/visits/VisitForm")) },
            { path: "visits/child/:id", lazy: page(() => import("./pages/visits/ChildVisits")) },
            { path: "visits/scan", lazy: page(() => import("./pages/visits/Scan")) },
            { path: "imports", lazy: page(() => import("./pages/imports")) },
            { path: "imports/:id/preview", lazy: page(() => import("./pages/imports/ReimportPreview")) },
            { path: "school-year", lazy: page(() => import("./pages/school-year")) },
            { path: "enrolment", lazy: page(() => import("./pages/enrolment")) },
            { path: "transfers", lazy: page(() => import("./pages/transfers")) },
            { path: "org-units", lazy: page(() => import("./pages/org-units")) },
            { path: "reports", lazy: page(() => import("./pages/reports")) },
            { path: "audit", lazy: page(() => import("./pages/audit")) },
            { path: "accounts", lazy: page(() => import("./pages/accounts")) },
            { path: "settings/notifications", lazy: page(() => import("./pages/settings/Notifications")) },
            { path: "inbox", lazy: page(() => import("./pages/inbox")) },
            { path: "concerns", lazy: page(() => import("./pages/concerns")) },
            { path: "concerns/:id", lazy: page(() => import("./pages/concerns/ConcernDetail")) },
            { path: "homes", lazy: page(() => import("./pages/homes")) },
            { path: "homes/new", lazy: page(() => import("./pages/homes/SiteForm")) },
            { path: "homes/:id", lazy: page(() => import("./pages/homes/SiteDetail")) },
            { path: "homes/:id/edit", lazy: page(() => import("./pages/homes/SiteForm")) },
            { path: "homes/:id/session", lazy: page(() => import("./pages/homes/SessionForm")) },
            { path: "safety", lazy: page(() => import("./pages/safety")) },
            { path: "safety/:id", lazy: page(() => import("./pages/safety/CampaignProgress")) },
            { path: "letters", lazy: page(() => import("./pages/letters")) },
            { path: "letters/new", lazy: page(() => import("./pages/letters/Compose")) },
            { path: "letters/:id/edit", lazy: page(() => import("./pages/letters/Compose")) },
            { path: "letters/:id", lazy: page(() => import("./pages/letters/LetterDetail")) },
            { path: "checkups", lazy: page(() => import("./pages/checkups")) },
            { path: "checkups/:id", lazy: page(() => import("./pages/checkups/CampaignDetail")) },
            { path: "*", Component: NotFound },
          ],
        },
      ],
    },
    // 联系卡 print without the console's menu and header.
    { path: "/print/cards", lazy: page(() => import("./pages/print/ContactCards")) },
    { path: "/print/cards/:id", lazy: page(() => import("./pages/print/ContactCards")) },
  ]);
