import { Suspense, lazy, useEffect, useState } from "react";
import { OFFLINE_CHANGED, offlineStoreExists } from "./store";
import { useOnline } from "./online";

const SyncPanel = lazy(() => import("./SyncPanel"));

/**
 * The header's place for "N 条待同步" and 离线. The panel (antd List and Popover, Dexie)
 * is a chunk of its own, loaded only once the device holds offline data or has no
 * network — so the first screen of everyone else carries none of it.
 */
export function SyncIndicator({ owner }: { owner: string }) {
  const online = useOnline();
  const [hasStore, setHasStore] = useState(false);
  useEffect(() => {
    const check = () => void offlineStoreExists().then(setHasStore);
    check();
    window.addEventListener(OFFLINE_CHANGED, check);
    return () => window.removeEventListener(OFFLINE_CHANGED, check);
  }, []);
  if (online && !hasStore) return null;
  return (
    <Suspense fallback={null}>
      <SyncPanel owner={owner} />
    </Suspense>
  );
}
