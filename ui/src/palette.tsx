// The command palette (Ctrl/⌘+K): go anywhere, and run actions through the same Portal calls
// as the screens.
import { useEffect, useMemo, useRef, useState } from "react";
import { api, asCommandError } from "./api";
import { useCan } from "./access";
import { useNav, visiblePages, type PageId } from "./App";
import { useToast } from "./ui";
import { useCurrentIncident } from "./pages/incidents/current";
import { changeIncident } from "./pages/incidents/Detail";
import { transitionsFor, type Transition } from "./pages/incidents/common";

type Item = { id: string; label: string; hint?: string; run: () => void | Promise<void> };

export function Palette({ onClose }: { onClose: () => void }) {
  const { go, session, page } = useNav();
  const can = useCan();
  const toast = useToast();
  const manageKeys = can("manage_keys");
  const openIncidents = can("open_incidents");
  const manageIncidents = can("manage_incidents");
  // The incident on screen, if any: the palette can acknowledge or resolve it.
  const current = useCurrentIncident();
  const incident = page === "incidents" && manageIncidents ? current : null;
  const [query, setQuery] = useState("");
  const [mode, setMode] = useState<"root" | "revoke" | "client">("root");
  const [entities, setEntities] = useState<Item[]>([]);
  const [active, setActive] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), [mode]);

  const root: Item[] = useMemo(() => {
    const offers = (command: Transition["command"]) => !!incident && transitionsFor(incident.detail.incident.status).some((t) => t.command === command);
    const change = (command: "acknowledge" | "resolve", done: string) => async () => {
      if (!incident) return;
      onClose();
      try {
        incident.changed(await changeIncident(incident.detail, { command }));
        toast(done);
      } catch (e) {
        toast(asCommandError(e).message, "bad");
      }
    };
    return [
      ...(offers("acknowledge") ? [{ id: "ack", label: "Acknowledge incident", hint: incident!.detail.incident.title, run: change("acknowledge", "Incident acknowledged") }] : []),
      ...(offers("resolve") ? [{ id: "resolve", label: "Resolve incident", hint: incident!.detail.incident.title, run: change("resolve", "Incident resolved") }] : []),
      ...visiblePages(session).map((p) => ({ id: `go-${p.id}`, label: `Go to ${p.label}`, run: () => { go(p.id as PageId); onClose(); } })),
      ...(openIncidents ? [
        { id: "open-incident", label: "Open incident…", hint: "Incidents", run: () => { go("incidents", { action: "open" }); onClose(); } },
      ] : []),
      ...(manageKeys ? [
        { id: "generate", label: "Generate key", hint: "Federation keys", run: () => { go("keys", { action: "generate" }); onClose(); } },
        { id: "revoke", label: "Revoke key…", hint: "choose a key", run: () => { setMode("revoke"); setQuery(""); } },
      ] : []),
      { id: "client", label: "Open client…", hint: "choose a client", run: () => { setMode("client"); setQuery(""); } },
      { id: "verify", label: "Verify audit chain", hint: "Audit", run: () => { go("audit"); onClose(); } },
      ...(can("read_revenue") ? [
        { id: "mrr-90", label: "Analytics: MRR last 90 days", hint: "Analytics", run: () => { go("analytics", { range: "90", interval: "day" }); onClose(); } },
        { id: "mrr-12m", label: "Analytics: MRR last 12 months", hint: "by month", run: () => { go("analytics", { range: "365", interval: "month" }); onClose(); } },
        { id: "analytics-pdf", label: "Export analytics PDF", hint: "the last 6 months", run: () => { go("analytics", { action: "pdf" }); onClose(); } },
      ] : []),
    ];
  }, [go, onClose, manageKeys, openIncidents, incident, session, toast, can]);

  useEffect(() => {
    if (mode === "root") return;
    let live = true; // an answer to an older query must not replace the newer one's
    const t = setTimeout(async () => {
      if (mode === "revoke") {
        const page = await api.keysList({ status: "active", expiring_within_days: null, unused_for_days: null, search: query || null, limit: 20, cursor: null });
        if (!live) return;
        setEntities(page.items.map((k) => ({ id: k.id, label: `${k.name}`, hint: k.prefix, run: () => { go("keys", { action: "revoke", id: k.id }); onClose(); } })));
      } else {
        const page = await api.clientsList({ search: query || null, limit: 20, cursor: null });
        if (!live) return;
        setEntities(page.items.map((c) => ({ id: c.id, label: c.name, hint: `${c.plan} · ${c.status}`, run: () => { go("clients", { open: c.id }); onClose(); } })));
      }
      setActive(0);
    }, 120);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [mode, query, go, onClose]);

  const items = mode === "root" ? root.filter((i) => i.label.toLowerCase().includes(query.toLowerCase())) : entities;
  const onKey = (e: React.KeyboardEvent) => {
    if (e.key === "ArrowDown") { setActive((a) => Math.min(items.length - 1, a + 1)); e.preventDefault(); }
    if (e.key === "ArrowUp") { setActive((a) => Math.max(0, a - 1)); e.preventDefault(); }
    if (e.key === "Enter" && items[active]) { items[active].run(); e.preventDefault(); }
    if (e.key === "Escape") { if (mode === "root") onClose(); else { setMode("root"); setQuery(""); } e.preventDefault(); }
    if (e.key === "Backspace" && !query && mode !== "root") setMode("root");
  };
  return (
    <div className="backdrop palette-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="palette" role="dialog" aria-modal="true" aria-label="Command palette">
        <input ref={input} aria-label="Command" placeholder={mode === "root" ? "Type a command or a page…" : mode === "revoke" ? "Which key to revoke? Type part of its name…" : "Which client? Type part of its name…"}
          value={query} onChange={(e) => { setQuery(e.target.value); setActive(0); }} onKeyDown={onKey} />
        <ul role="listbox" aria-label="Commands">
          {items.map((i, k) => (
            <li key={i.id} role="option" aria-selected={k === active} className={k === active ? "active" : ""} onMouseEnter={() => setActive(k)} onClick={() => i.run()}>
              <span>{i.label}</span>{i.hint && <small>{i.hint}</small>}
            </li>
          ))}
          {items.length === 0 && <li className="muted">Nothing matches</li>}
        </ul>
      </div>
    </div>
  );
}
