import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import { compression } from "vite-plugin-compression2";

// The gateway serves dist/ with its precompressed .gz/.br siblings, so nothing is
// compressed per request. `npm run dev` proxies the API (and the runtime config) to a
// gateway on GATEWAY_URL (default http://127.0.0.1:3000).
const gateway = process.env.GATEWAY_URL ?? "http://127.0.0.1:3000";

export default defineConfig({
  plugins: [react(), compression({ algorithms: ["gzip", "brotliCompress"], threshold: 1024, exclude: [/\.(png|jpg|woff2)$/] })],
  build: {
    target: "es2022",
    chunkSizeWarningLimit: 1200,
  },
  server: {
    port: 5173,
    proxy: { "/api": gateway, "/config.json": gateway },
  },
});
