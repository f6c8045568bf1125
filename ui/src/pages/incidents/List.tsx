// The incident list: filters, one row per incident with its live SLA badge, keyset "Load more",
// keyboard navigation (j/k or the arrows, Enter opens).
import { useEffect, useRef } from "react";
import { api, emptyIncidentFilter, type IncidentFilter, type IncidentSummary, type Severity, type SlaFilter, type StatusFilter } from "../../api";
import { Guarded } from "../../access";
import { useNav } from "../../App";
import { Empty, ErrorState, Field, Loading, fmtTime, relTime, usePaged } from "../../ui";
import { SEVERITIES, SeverityChip, SlaBadge, StatusBadge, useNow, useOrgs } from "./common";

type Row = IncidentSummary & { readAt: number };

const STATUSES: [StatusFilter | "", string][] = [
  ["active", "Active"], ["open", "Open"], ["acknowledged", "Acknowledged"], ["waiting", "Waiting on customer"],
  ["done", "Done"], ["resolved", "Resolved"], ["closed", "Closed"], ["", "Any"],
];

const isDefault = (f: IncidentFilter) =>
  f.status === emptyIncidentFilter.status && !f.severity && !f.org_id && !f.sla && !f.search && !f.assignee;

export function IncidentList({ filter, setFilter, onOpen, onNew, focusId }: {
  filter: IncidentFilter; setFilter: (f: IncidentFilter) => void; onOpen: (id: string) => void; onNew: () => void; focusId?: string;
}) {
  const orgs = useOrgs();
  const me = useNav().session?.user?.id;
  const now = useNow();
  const list = usePaged<Row>(async (cursor) => {
    const page = await api.incidentsList({ ...filter, cursor });
    const readAt = Date.now();
    return { ...page, items: page.items.map((s) => ({ ...s, readAt })) };
  }, [filter], filter.search ? 200 : 0);
  const { items, cursor, loading, error, reload } = list;
  const body = useRef<HTMLTableSectionElement>(null);

  // The SLA standings move with time: read the first page again every minute (not once more
  // pages are loaded, which would lose the reader's place).
  const pages = useRef(1);
  useEffect(() => {
    const t = setInterval(() => pages.current === 1 && reload(), 60_000);
    return () => clearInterval(t);
  }, [reload]);

  // Back from an incident: its row has the focus again.
  const focused = useRef(false);
  useEffect(() => {
    if (!focusId || focused.current || !items.length) return;
    focused.current = true;
    body.current?.querySelector<HTMLElement>(`[data-id="${focusId}"]`)?.focus();
  }, [focusId, items]);

  // j / k from anywhere on the page (not while typing) move into the list.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (e.ctrlKey || e.metaKey || e.altKey || t.closest("input, textarea, select, [role=dialog]")) return;
      if ((e.key === "j" || e.key === "k") && !t.closest("tbody")) {
        body.current?.querySelector<HTMLElement>("tr")?.focus();
        e.preventDefault();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  const onRowKey = (e: React.KeyboardEvent<HTMLTableRowElement>, id: string) => {
    const row = e.currentTarget;
    if (e.key === "ArrowDown" || e.key === "j") {
      (row.nextElementSibling as HTMLElement | null)?.focus();
      e.preventDefault();
    } else if (e.key === "ArrowUp" || e.key === "k") {
      (row.previousElementSibling as HTMLElement | null)?.focus();
      e.preventDefault();
    } else if (e.key === "Enter" && e.target === row) {
      onOpen(id);
      e.preventDefault();
    }
  };
  const set = (patch: Partial<IncidentFilter>) => {
    pages.current = 1;
    setFilter({ ...filter, ...patch });
  };

  return (
    <>
      <div className="filters" role="search">
        <Field label="Search"><input aria-label="Search incidents by title" placeholder="Title contains…" value={filter.search ?? ""} onChange={(e) => set({ search: e.target.value || null })} /></Field>
        <Field label="Status">
          <select aria-label="Status filter" value={filter.status ?? ""} onChange={(e) => set({ status: (e.target.value || null) as StatusFilter | null })}>
            {STATUSES.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
          </select>
        </Field>
        <Field label="Severity">
          <select aria-label="Severity filter" value={filter.severity ?? ""} onChange={(e) => set({ severity: (e.target.value || null) as Severity | null })}>
            <option value="">Any</option>{SEVERITIES.map((s) => <option key={s} value={s}>{s.toUpperCase()}</option>)}
          </select>
        </Field>
        <Field label="Organisation">
          <select aria-label="Organisation filter" value={filter.org_id ?? ""} onChange={(e) => set({ org_id: e.target.value || null })}>
            <option value="">Any</option>{orgs.list.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
          </select>
        </Field>
        <Field label="SLA">
          <select aria-label="SLA filter" value={filter.sla ?? ""} onChange={(e) => set({ sla: (e.target.value || null) as SlaFilter | null })}>
            <option value="">Any</option><option value="attention">At risk or breached</option><option value="at_risk">At risk</option><option value="breached">Breached</option>
          </select>
        </Field>
        {!isDefault(filter) && <button className="ghost reset" onClick={() => set({ ...emptyIncidentFilter })}>Reset filters</button>}
      </div>
      {error ? <ErrorState error={error} onRetry={reload} /> : items.length === 0 && loading ? <Loading /> : items.length === 0 ? (
        isDefault(filter)
          ? <Empty title="No incidents — good." hint="Nothing is open, acknowledged or waiting on a customer." action={<Guarded permission="open_incidents" className="primary" onClick={onNew}>Open incident</Guarded>} />
          : <Empty title="No incident matches" hint="Change the filters, or look at the done ones." action={<button onClick={() => set({ ...emptyIncidentFilter })}>Reset filters</button>} />
      ) : (
        <table className="table incidents" aria-label="Incidents">
          <thead><tr><th className="sev">Sev</th><th>Incident · organisation</th><th>Status</th><th>Assignee</th><th>SLA</th></tr></thead>
          <tbody ref={body}>
            {items.map((s) => {
              const i = s.incident;
              const responding = i.status === "open";
              return (
                <tr key={i.id} data-id={i.id} tabIndex={0} className="clickable" aria-label={`Incident ${i.severity} ${i.title}`}
                  onClick={() => onOpen(i.id)} onKeyDown={(e) => onRowKey(e, i.id)}>
                  <td><SeverityChip severity={i.severity} /></td>
                  <td className="title-cell">
                    <span className="incident-title">{i.title}</span>
                    <small className="muted block">
                      {i.org_id ? <span className="org">{orgs.name(i.org_id)}</span> : "no organisation"} · <span title={fmtTime(i.opened_at)}>opened {relTime(i.opened_at)}</span>
                    </small>
                  </td>
                  <td className="nowrap"><StatusBadge status={i.status} short /></td>
                  <td className="ellipsis assignee" title={i.assignee ?? undefined}>{i.assignee ? <>{i.assignee}{i.assignee === me && <span className="muted"> (you)</span>}</> : <span className="muted">unassigned</span>}</td>
                  <td className="nowrap">
                    {responding
                      ? <SlaBadge label="Response" clock={s.sla.response} readAt={s.readAt} now={now} />
                      : <SlaBadge label="Resolve" clock={s.sla.resolve} readAt={s.readAt} now={now} />}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {cursor && <div className="more"><button onClick={() => { pages.current++; list.more(); }} disabled={loading}>{loading ? "Loading…" : "Load more"}</button></div>}
      {items.length > 0 && <p className="small muted keys-hint"><kbd>j</kbd> <kbd>k</kbd> or the arrows move, <kbd>Enter</kbd> opens.</p>}
    </>
  );
}
