// Offline sync in the shell: the status (polled, and refreshed after every incident edit), the
// sidebar indicator that is always visible for a profile with a replica, and its context.
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from "react";
import { api, type SyncStatus } from "./api";

type Sync = { status: SyncStatus | null; refresh: () => void; setStatus: (s: SyncStatus) => void };
const SyncContext = createContext<Sync>({ status: null, refresh: () => {}, setStatus: () => {} });
export const useSync = () => useContext(SyncContext);

/** Tells the sync status to refresh now (after an incident edit: it is queued at once). */
export function syncChanged() {
  window.dispatchEvent(new Event("padmin:sync-changed"));
}

/** Polls the sync status every few seconds while a session is open (`key` changes reset it). */
export function SyncProvider({ active, children }: { active: boolean; children: ReactNode }) {
  const [status, setStatus] = useState<SyncStatus | null>(null);
  const refresh = useCallback(() => {
    if (!active) return;
    api.syncStatus().then(setStatus, () => setStatus(null));
  }, [active]);
  useEffect(() => {
    if (!active) { setStatus(null); return; }
    refresh();
    const t = window.setInterval(refresh, 3000);
    window.addEventListener("padmin:sync-changed", refresh);
    return () => { window.clearInterval(t); window.removeEventListener("padmin:sync-changed", refresh); };
  }, [active, refresh]);
  return <SyncContext.Provider value={{ status, refresh, setStatus }}>{children}</SyncContext.Provider>;
}

/** One line of words for the indicator. */
export function syncWords(s: SyncStatus): { tone: "good" | "warn" | "bad" | "info" | "muted"; text: string } {
  switch (s.health) {
    case "synced": return { tone: "good", text: "Synced" };
    case "pending": return { tone: "info", text: s.pending > 0 ? `Pending ${s.pending}` : "Syncing…" };
    case "offline": return { tone: "muted", text: s.pending > 0 ? `Offline · ${s.pending} pending` : "Offline" };
    case "attention": {
      const n = s.conflicts + s.rejected;
      return { tone: "warn", text: s.conflicts > 0 ? `${n} conflict${n === 1 ? "" : "s"}` : `${n} rejected` };
    }
    case "error": return { tone: "bad", text: "Sync error" };
  }
}

export function SyncIndicator({ onOpen }: { onOpen: () => void }) {
  const { status } = useSync();
  if (!status) return null;
  const w = syncWords(status);
  return (
    <button className={`sync-indicator ${w.tone}`} onClick={onOpen} aria-label={`Sync: ${w.text}`} title={status.last_error ?? "Open the sync panel"}>
      <span className="dot" aria-hidden />
      <span>{w.text}</span>
    </button>
  );
}
