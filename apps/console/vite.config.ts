import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import { compression } from "vite-plugin-compression2";
import { VitePWA } from "vite-plugin-pwa";

// The gateway serves dist/ with its precompressed .gz/.br siblings, so nothing is
// compressed per request. `npm run dev` proxies the API (and the runtime config) to a
// gateway on GATEWAY_URL (default http://127.0.0.1:3000).
const gateway = process.env.GATEWAY_URL ?? "http://127.0.0.1:3000";

export default defineConfig({
  plugins: [
    react(),
    // Installable, and the app shell works offline (issue 18.2): Workbox precaches every
    // built file, so each page's chunk opens without network once the app has loaded once.
    // No API answer is cached by the service worker: the caseload and the queue of records
    // made offline live in IndexedDB (src/offline), with an expiry and wiped on sign-out.
    VitePWA({
      strategies: "generateSW",
      // Registered in src/main.tsx with one line, not the plugin's workbox-window script.
      injectRegister: false,
      registerType: "autoUpdate",
      manifestFilename: "manifest.webmanifest",
      includeAssets: ["favicon.svg"],
      manifest: {
        name: "守护 · 留守儿童关爱服务平台",
        short_name: "守护",
        description: "村儿童主任、帮扶人走访登记，离线可用",
        lang: "zh-CN",
        start_url: "/visits",
        scope: "/",
        display: "standalone",
        background_color: "#ffffff",
        theme_color: "#001529",
        icons: [
          { src: "/icon-192.png", sizes: "192x192", type: "image/png" },
          { src: "/icon-512.png", sizes: "512x512", type: "image/png" },
          { src: "/icon-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
          { src: "/favicon.svg", sizes: "any", type: "image/svg+xml" },
        ],
      },
      workbox: {
        globPatterns: ["**/*.{js,css,html,svg,png,woff2}"],
        // 统计报表 (ECharts, ~600 KB) reads the reporting API on every view: useless offline, so not precached.
        globIgnores: ["**/reports-*.js"],
        // Client-side routes open offline from the precached index.html; never the API.
        navigateFallback: "/index.html",
        navigateFallbackDenylist: [/^\/api\//, /^\/config\.json$/],
        // The runtime config (issuer, client id).
        runtimeCaching: [
          {
            urlPattern: ({ url, sameOrigin }) => sameOrigin && url.pathname === "/config.json",
            // The last one at once, refreshed behind (a changed issuer URL applies from the next open):
            // waiting for the network here cost a slow-3G phone a 2-s round trip before anything showed.
            handler: "StaleWhileRevalidate",
            options: { cacheName: "shouhu-config" },
          },
        ],
        cleanupOutdatedCaches: true,
        clientsClaim: true,
        skipWaiting: true,
        maximumFileSizeToCacheInBytes: 3 * 1024 * 1024,
      },
    }),
    compression({ algorithms: ["gzip", "brotliCompress"], threshold: 1024, exclude: [/\.(png|jpg|woff2)$/] }),
  ],
  build: {
    target: "es2022",
    chunkSizeWarningLimit: 1200,
  },
  server: {
    port: 5173,
    proxy: { "/api": gateway, "/config.json": gateway },
  },
});
