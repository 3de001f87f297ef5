import { useSyncExternalStore } from "react";

const subscribe = (onChange: () => void) => {
  window.addEventListener("online", onChange);
  window.addEventListener("offline", onChange);
  return () => {
    window.removeEventListener("online", onChange);
    window.removeEventListener("offline", onChange);
  };
};

/** navigator.onLine as state: false in aeroplane mode or without any network. */
export const useOnline = (): boolean => useSyncExternalStore(subscribe, () => navigator.onLine);

/** A fetch that never reached the server (no network, DNS, refused): retry later, nothing was stored. */
export const isNetworkError = (err: unknown): boolean => err instanceof TypeError || (err instanceof DOMException && err.name === "AbortError");
