import { createRoot } from "react-dom/client";
import { CALLBACK_PATH, initAuth, signIn, type RuntimeConfig } from "./auth/oidc";
import { App } from "./app";
import { BootError } from "./pages/exception/BootError";
import { isPublicPage } from "./public/routes";

/**
 * Start-up: read the runtime config (issuer, client id) from the gateway, finish a
 * sign-in redirect if this is one, and sign in when there is no session. Only then
 * is the app rendered, so every page can assume a signed-in user.
 */
/** The issuer and client id; offline, the last ones read (they are not secret, and the same for every user). */
async function runtimeConfig(): Promise<RuntimeConfig> {
  const KEY = "shouhu.runtime-config";
  let res: Response;
  try {
    res = await fetch("/config.json", { cache: "no-cache" });
  } catch (err) {
    const saved = localStorage.getItem(KEY);
    if (saved) return JSON.parse(saved) as RuntimeConfig;
    throw err;
  }
  if (!res.ok) throw new Error(`读取配置失败（${res.status}）`);
  const config = (await res.json()) as RuntimeConfig;
  localStorage.setItem(KEY, JSON.stringify(config));
  return config;
}

async function boot() {
  const root = createRoot(document.getElementById("root")!);
  // The service worker (vite-plugin-pwa, Workbox) precaches the app shell so the console
  // opens without network; scope "/" (sw.js is served from the root, never long-cached).
  if ("serviceWorker" in navigator && import.meta.env.PROD) void navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => undefined);
  // Pages opened from an SMS (a letter home, a one-time task link): no account, no sign-in, none of the console.
  if (isPublicPage(location.pathname)) {
    const { PublicApp } = await import("./public/PublicApp");
    root.render(<PublicApp />);
    return;
  }
  try {
    const um = initAuth(await runtimeConfig());
    if (location.pathname === CALLBACK_PATH) {
      const signedIn = await um.signinRedirectCallback();
      const returnTo = (signedIn.state as { returnTo?: string } | undefined)?.returnTo;
      history.replaceState(null, "", returnTo && returnTo.startsWith("/") && !returnTo.startsWith(CALLBACK_PATH) ? returnTo : "/");
    }
    let user = await um.getUser();
    // Offline, an expired session still opens the app (its offline pages; the API is out of
    // reach anyway); the token is renewed when the network returns (auth/session.tsx).
    if (user?.expired && navigator.onLine) user = await um.signinSilent().catch(() => null);
    if (!user && !navigator.onLine) throw new Error("当前离线，无法登录；请联网后再打开（已登录过的设备可离线使用走访）");
    if (!user) {
      await signIn(location.pathname + location.search);
      return;
    }
    root.render(<App user={user} />);
  } catch (err) {
    root.render(<BootError message={err instanceof Error ? err.message : String(err)} />);
  }
}

void boot();
