import { useEffect, useRef, useState } from "react";
import { api, asCommandError, emptyAuditFilter, type AuditEvent, type AuditFilter, type ChainReport } from "../api";
import { useNav } from "../App";
import { Guarded } from "../access";
import { Badge, Empty, ErrorState, Field, Loading, Modal, PageHeader, fmtTime, usePaged, useToast } from "../ui";

const ROW = 40;
const ENTITY_TYPES = ["federation_key", "oidc_config", "integration", "client", "master_key", "incident", "escalation_policy", "sla_targets"];

export function AuditPage() {
  const { params } = useNav();
  const [filter, setFilter] = useState<AuditFilter>({ ...emptyAuditFilter, entity_type: params.entity_type ?? null, entity_id: params.entity_id ?? null });
  const list = usePaged((cursor) => api.auditList({ ...filter, cursor }), [filter], 150);
  const { items: rows, cursor, loading, error } = list;
  const [open, setOpen] = useState<AuditEvent | null>(null);
  const [report, setReport] = useState<ChainReport | "checking" | null>(null);
  const toast = useToast();

  const verify = async () => {
    setReport("checking");
    try {
      setReport(await api.auditVerify());
    } catch (e) {
      setReport(null);
      toast(asCommandError(e).message, "bad");
    }
  };
  const exportCsv = async () => {
    try {
      // The app opens the save dialog itself and writes only where the user chose.
      const path = await api.auditExportChoose();
      if (!path) return;
      const n = await api.auditExportCsv({ ...filter, cursor: null }, path);
      toast(`Exported ${n} events to ${path}`);
    } catch (e) {
      toast(asCommandError(e).message, "bad");
    }
  };
  const set = (k: keyof AuditFilter) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) =>
    setFilter({ ...filter, [k]: e.target.value ? (k === "from" || k === "to" ? new Date(e.target.value).toISOString() : e.target.value) : null });

  return (
    <div className="page audit-page">
      <PageHeader title="Audit trail" subtitle="Every change, hash-chained: an edit anywhere breaks the chain." actions={<>
        {report === "checking" && <Badge tone="info">Verifying…</Badge>}
        {report && report !== "checking" && (report.first_broken
          ? <Badge tone="bad">Chain broken at event #{report.first_broken.seq}: {report.first_broken.reason}</Badge>
          : <Badge tone="good">Chain intact · {report.checked} events</Badge>)}
        <Guarded permission="verify_audit" onClick={verify} aria-label="Verify chain">Verify chain</Guarded>
        <button onClick={exportCsv} aria-label="Export CSV">Export CSV</button>
      </>} />
      <div className="filters" role="search">
        <Field label="Entity">
          <select aria-label="Entity type filter" value={filter.entity_type ?? ""} onChange={set("entity_type")}>
            <option value="">Any</option>{ENTITY_TYPES.map((t) => <option key={t}>{t}</option>)}
          </select>
        </Field>
        <Field label="Entity id"><input aria-label="Entity id filter" value={filter.entity_id ?? ""} onChange={set("entity_id")} /></Field>
        <Field label="Actor"><input aria-label="Actor filter" value={filter.actor ?? ""} onChange={set("actor")} placeholder="name or id" /></Field>
        <Field label="Action"><input aria-label="Action filter" value={filter.action ?? ""} onChange={set("action")} placeholder="create, revoke…" /></Field>
        <Field label="From"><input aria-label="From date" type="date" onChange={set("from")} /></Field>
        <Field label="To"><input aria-label="To date" type="date" onChange={set("to")} /></Field>
      </div>
      {error ? <ErrorState error={error} onRetry={list.reload} /> : rows.length === 0 && loading ? <Loading /> : rows.length === 0 ? (
        <Empty title="No event matches" hint="Change the filters." />
      ) : (
        <VirtualRows rows={rows} onOpen={setOpen} onEnd={list.more} loadingMore={loading && !!cursor} />
      )}
      {open && <EventDetails e={open} onClose={() => setOpen(null)} />}
    </div>
  );
}

/** Renders only the visible rows, so 100,000 events scroll as smoothly as 100. */
function VirtualRows({ rows, onOpen, onEnd, loadingMore }: { rows: AuditEvent[]; onOpen: (e: AuditEvent) => void; onEnd: () => void; loadingMore: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  const [top, setTop] = useState(0);
  const [height, setHeight] = useState(600);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const first = Math.max(0, Math.floor(top / ROW) - 10);
  const last = Math.min(rows.length, Math.ceil((top + height) / ROW) + 10);
  useEffect(() => {
    if (last >= rows.length - 20) onEnd();
  }, [last, rows.length, onEnd]);
  const focusRow = (i: number) => {
    const el = box.current;
    if (!el) return;
    if (i * ROW < el.scrollTop) el.scrollTop = i * ROW;
    if ((i + 1) * ROW > el.scrollTop + el.clientHeight) el.scrollTop = (i + 1) * ROW - el.clientHeight;
    requestAnimationFrame(() => el.querySelector<HTMLElement>(`[data-index="${i}"]`)?.focus());
  };
  return (
    <div className="vtable" role="table" aria-label="Audit events" aria-rowcount={rows.length}>
      <div className="vhead" role="row">
        <span role="columnheader">#</span><span role="columnheader">Time</span><span role="columnheader">Actor</span><span role="columnheader">Entity</span><span role="columnheader">Action</span><span role="columnheader">Change</span>
      </div>
      <div className="vbody" ref={box} onScroll={(e) => setTop(e.currentTarget.scrollTop)}>
        <div style={{ height: rows.length * ROW, position: "relative" }}>
          {rows.slice(first, last).map((e, k) => {
            const i = first + k;
            return (
              <div key={e.seq} role="row" tabIndex={0} data-index={i} className="vrow" style={{ top: i * ROW, height: ROW }} aria-label={`Event ${e.seq} ${e.action} ${e.entity_type}`}
                onClick={() => onOpen(e)}
                onKeyDown={(ev) => {
                  if (ev.key === "ArrowDown") { focusRow(Math.min(rows.length - 1, i + 1)); ev.preventDefault(); }
                  if (ev.key === "ArrowUp") { focusRow(Math.max(0, i - 1)); ev.preventDefault(); }
                  if (ev.key === "Enter") onOpen(e);
                }}>
                <span role="cell" className="mono muted">{e.seq}</span>
                <span role="cell">{fmtTime(e.ts)}</span>
                <span role="cell">{e.actor_name}</span>
                <span role="cell"><span className="entity">{e.entity_type}</span> <span className="mono small muted">{e.entity_id.slice(0, 18)}</span></span>
                <span role="cell"><Badge tone={actionTone(e.action)}>{e.action}</Badge></span>
                <span role="cell" className="small muted ellipsis">{summary(e)}</span>
              </div>
            );
          })}
        </div>
        {loadingMore && <Loading label="Loading more…" />}
      </div>
    </div>
  );
}

function actionTone(a: string) {
  return a === "revoke" || a === "delete" ? "bad" : a === "create" || a === "register" || a === "add" ? "good" : a === "rotate" || a === "disable" || a === "pause" ? "warn" : "info";
}

function fields(e: AuditEvent): string[] {
  const keys = new Set<string>();
  for (const side of [e.before, e.after]) if (side && typeof side === "object" && !Array.isArray(side)) Object.keys(side).forEach((k) => keys.add(k));
  return [...keys].sort();
}

function summary(e: AuditEvent): string {
  const f = fields(e);
  if (!e.before && e.after) return `created with ${f.length} fields`;
  if (e.before && !e.after) return "deleted";
  return f.join(", ");
}

function show(v: unknown): string {
  if (v === undefined) return "—";
  if (v === null) return "null";
  return typeof v === "string" ? v : JSON.stringify(v);
}

function EventDetails({ e, onClose }: { e: AuditEvent; onClose: () => void }) {
  const before = (e.before ?? {}) as Record<string, unknown>;
  const after = (e.after ?? {}) as Record<string, unknown>;
  return (
    <Modal title={`Event #${e.seq}: ${e.entity_type} ${e.action}`} onClose={onClose} wide footer={<button onClick={onClose}>Close</button>}>
      <dl className="details">
        <dt>When</dt><dd>{fmtTime(e.ts)} <span className="muted">({e.ts})</span></dd>
        <dt>Actor</dt><dd>{e.actor_name} <span className="muted">({e.actor_type}, {e.actor_id})</span></dd>
        <dt>From</dt><dd>{e.ip ?? "—"} · {e.ua ?? "—"}</dd>
        {e.request_id && (<><dt>Request</dt><dd className="mono">{e.request_id}</dd></>)}
        <dt>Entity</dt><dd className="mono">{e.entity_type}/{e.entity_id}</dd>
      </dl>
      <table className="table diff" aria-label="Changes">
        <thead><tr><th>Field</th><th>Before</th><th>After</th></tr></thead>
        <tbody>
          {fields(e).map((f) => (
            <tr key={f}>
              <td className="mono">{f}</td>
              <td className="before mono">{show(e.before ? before[f] : undefined)}</td>
              <td className="after mono">{show(e.after ? after[f] : undefined)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="small muted mono">hash {e.hash}<br />previous {e.prev_hash}</p>
    </Modal>
  );
}
