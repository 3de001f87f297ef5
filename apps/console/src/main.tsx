import { createRoot } from "react-dom/client";
import { CALLBACK_PATH, initAuth, signIn, type RuntimeConfig } from "./auth/oidc";
import { App } from "./app";
import { BootError } from "./pages/exception/BootError";

/**
 * Start-up: read the runtime config (issuer, client id) from the gateway, finish a
 * sign-in redirect if this is one, and sign in when there is no session. Only then
 * is the app rendered, so every page can assume a signed-in user.
 */
async function boot() {
  const root = createRoot(document.getElementById("root")!);
  try {
    const res = await fetch("/config.json", { cache: "no-cache" });
    if (!res.ok) throw new Error(`读取配置失败（${res.status}）`);
    const um = initAuth((await res.json()) as RuntimeConfig);
    if (location.pathname === CALLBACK_PATH) {
      const signedIn = await um.signinRedirectCallback();
      const returnTo = (signedIn.state as { returnTo?: string } | undefined)?.returnTo;
      history.replaceState(null, "", returnTo && returnTo.startsWith("/") && !returnTo.startsWith(CALLBACK_PATH) ? returnTo : "/");
    }
    let user = await um.getUser();
    if (user?.expired) user = await um.signinSilent().catch(() => null);
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
