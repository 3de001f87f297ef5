import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import type { User } from "oidc-client-ts";
import { accessFor, type Access } from "../access";
import { claimsOf, userManager, type Claims } from "./oidc";

export interface Session {
  user: User;
  claims: Claims;
  access: Access;
}

const SessionContext = createContext<Session | null>(null);

/** Keeps the session current as oidc-client-ts renews the tokens in the background. */
export function SessionProvider({ user: initial, children }: { user: User; children: ReactNode }) {
  const [user, setUser] = useState(initial);
  useEffect(() => {
    const um = userManager();
    const loaded = (u: User) => setUser(u);
    // Renewal failed for good (refresh token expired or revoked): sign in again.
    // Offline (a village without signal) the session simply waits: the pages that work offline
    // go on, and the token is renewed when the network returns.
    const expired = () => {
      if (navigator.onLine) void um.signinRedirect({ state: { returnTo: location.pathname + location.search } });
    };
    const online = () => {
      void um.getUser().then((u) => (u?.expired ? um.signinSilent().catch(() => expired()) : undefined));
    };
    window.addEventListener("online", online);
    um.events.addUserLoaded(loaded);
    um.events.addAccessTokenExpired(expired);
    return () => {
      um.events.removeUserLoaded(loaded);
      um.events.removeAccessTokenExpired(expired);
      window.removeEventListener("online", online);
    };
  }, []);
  const claims = claimsOf(user);
  return <SessionContext.Provider value={{ user, claims, access: accessFor(claims) }}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside SessionProvider");
  return s;
}

export const useAccess = (): Access => useSession().access;
