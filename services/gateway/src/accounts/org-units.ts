import type { Principal } from "@shouhu/auth";

/**
 * Whether an org unit exists and is not retired, as the registry (owner of the org-unit tree)
 * answers the caller: GET /api/v1/org-units/{code}. Any answer but 200 or 404 is an error
 * (the account is not created on a guess).
 */
export function registryOrgUnits(registryUrl: string, timeoutMs = 5000) {
  return async (code: string, principal: Principal): Promise<boolean> => {
    const res = await fetch(`${registryUrl.replace(/\/+$/, "")}/api/v1/org-units/${encodeURIComponent(code)}`, {
      headers: { authorization: `Bearer ${principal.token}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (res.status === 404) return false;
    if (!res.ok) throw new Error(`registry answered ${res.status} for org unit ${code}`);
    const unit = (await res.json()) as { retiredAt?: string | null };
    return !unit.retiredAt;
  };
}
