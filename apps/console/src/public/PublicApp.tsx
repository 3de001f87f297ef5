import { ConfigProvider, App as AntApp } from "antd";
import zhCN from "antd/locale/zh_CN";
import dayjs from "dayjs";
import "dayjs/locale/zh-cn";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createBrowserRouter } from "react-router";
import { RouterProvider } from "react-router/dom";
import { useState } from "react";
import { theme } from "../app";
import { publicRoutes } from "./routes";
import { PublicApiError } from "./api";
import "../global.css";

dayjs.locale("zh-cn");

// A link's answer does not change on retry when it is a 4xx (expired, used); a 5xx may.
const queryClient = new QueryClient({
  defaultOptions: { queries: { retry: (count, err) => !(err instanceof PublicApiError && err.status < 500) && count < 2, refetchOnWindowFocus: false } },
});

/** The shell of the token-less pages: zh-CN AntD, a query client, their own small router. */
export function PublicApp() {
  const [router] = useState(() => createBrowserRouter(publicRoutes));
  return (
    <ConfigProvider locale={zhCN} theme={theme}>
      <AntApp>
        <QueryClientProvider client={queryClient}>
          <RouterProvider router={router} />
        </QueryClientProvider>
      </AntApp>
    </ConfigProvider>
  );
}
