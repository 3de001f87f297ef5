import { ConfigProvider, App as AntApp } from "antd";
import zhCN from "antd/locale/zh_CN";
import dayjs from "dayjs";
import "dayjs/locale/zh-cn";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { RouterProvider } from "react-router/dom";
import type { User } from "oidc-client-ts";
import { SessionProvider } from "./auth/session";
import { useState } from "react";
import { createRouter } from "./router";
import { ApiError } from "./services/client";
import "./global.css";

dayjs.locale("zh-cn");

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 30_000,
      // A 4xx will not change on retry; a 5xx/503 may (weak signal, a service restarting).
      retry: (count, err) => !(err instanceof ApiError && err.status < 500) && count < 2,
      refetchOnWindowFocus: false,
    },
  },
});

/** Primary, link and secondary text darker than AntD's defaults: WCAG AA contrast (4.5:1), checked by axe in test/children-edit.test.ts. */
export const theme = {
  token: {
    colorPrimary: "#0958d9",
    colorLink: "#0958d9",
    // AntD's #ff4d4f is 3.9:1 on white (danger buttons, 驳回): red-7 passes.
    colorError: "#cf1322",
    // Likewise #52c41a (success tags, 已完成 text) is 2.3:1: green-8.
    colorSuccess: "#237804",
    // The light backgrounds stay AntD's own (derived from the darker seeds they turn grey).
    colorSuccessBg: "#f6ffed",
    colorSuccessBorder: "#b7eb8f",
    colorErrorBg: "#fff2f0",
    colorErrorBorder: "#ffccc7",
    colorTextDescription: "rgba(0, 0, 0, 0.62)",
    colorTextPlaceholder: "rgba(0, 0, 0, 0.56)",
    borderRadius: 6,
  },
};

export function App({ user }: { user: User }) {
  const [router] = useState(createRouter);
  return (
    <ConfigProvider locale={zhCN} theme={theme}>
      <AntApp>
        <SessionProvider user={user}>
          <QueryClientProvider client={queryClient}>
            <RouterProvider router={router} />
          </QueryClientProvider>
        </SessionProvider>
      </AntApp>
    </ConfigProvider>
  );
}
