// The incident on screen, for the command palette: the detail view registers it (and how to
// show a change made elsewhere), the palette offers "Acknowledge incident" / "Resolve incident"
// for it. One at a time; cleared when the detail view closes.
import { useSyncExternalStore } from "react";
import type { IncidentDetail } from "../../api";

export type Current = { detail: IncidentDetail; changed: (d: IncidentDetail) => void };

let current: Current | null = null;
const listeners = new Set<() => void>();

export function setCurrentIncident(c: Current | null) {
  current = c;
  listeners.forEach((l) => l());
}

export function useCurrentIncident(): Current | null {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => current,
  );
}
