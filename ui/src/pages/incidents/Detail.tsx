// One incident: its fields, the two SLA clocks, the timeline, a comment box and the changes the
// role may make in its current status. The portal's answer to a change replaces what is shown; a
// refusal (a 409 conflict among them) is shown inline as the portal worded it.
import { syncChanged } from "../../sync";
import { useCallback, useEffect, useState } from "react";
import { api, asCommandError, type ClockState, type CommandError, type IncidentChange, type IncidentDetail, type Severity } from "../../api";
import { useCan } from "../../access";
import { useNav } from "../../App";
import { ErrorState, Field, Loading, Modal, fieldError, fmtTime, relTime, useAsync, useToast } from "../../ui";
import { SEVERITIES, SEVERITY_HINT, SeverityChip, StatusBadge, clockView, fmtSpan, newId, transitionsFor, useNow, useOrgs, type Transition } from "./common";
import { setCurrentIncident } from "./current";
import { Timeline } from "./Timeline";

type Command = { command: Transition["command"] } | { command: "assign"; assignee: string | null } | { command: "change_severity"; severity: Severity };

/** Sends one change based on the version on screen, with a fresh event id (a retry is not applied twice). */
export function changeIncident(d: IncidentDetail, command: Command): Promise<IncidentDetail> {
  return api.incidentChange(d.incident.id, { ...command, event_id: newId(), base_version: d.incident.version, occurred_at: null } as IncidentChange);
}

export function IncidentDetailView({ id, onBack }: { id: string; onBack: () => void }) {
  const { go, session } = useNav();
  const can = useCan();
  const orgs = useOrgs();
  const toast = useToast();
  const now = useNow();
  const [shown, setShown] = useState<{ detail: IncidentDetail; readAt: number }>();
  const [loadError, setLoadError] = useState<CommandError>();
  const [actionError, setActionError] = useState<CommandError>();
  const [busy, setBusy] = useState<string>();
  const [dialog, setDialog] = useState<"assign" | "severity" | null>(null);

  const show = useCallback((detail: IncidentDetail) => setShown({ detail, readAt: Date.now() }), []);
  const load = useCallback(() => {
    api.incidentGet(id).then((d) => { setLoadError(undefined); show(d); }, (e) => setLoadError(asCommandError(e)));
  }, [id, show]);
  useEffect(load, [load]);
  // The clocks' standings move with time: read it again every 30 seconds.
  useEffect(() => {
    const t = setInterval(load, 30_000);
    return () => clearInterval(t);
  }, [load]);
  // The palette acts on the incident on screen.
  useEffect(() => {
    setCurrentIncident(shown ? { detail: shown.detail, changed: show } : null);
  }, [shown, show]);
  useEffect(() => () => setCurrentIncident(null), []);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (e.key === "Escape" && !t.closest("input, textarea, select, [role=dialog]") && !document.querySelector("[role=dialog]")) onBack();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onBack]);

  if (loadError && !shown) return <><BackLink onBack={onBack} /><ErrorState error={loadError} onRetry={load} /></>;
  if (!shown) return <><BackLink onBack={onBack} /><Loading /></>;
  const { detail, readAt } = shown;
  const i = detail.incident;
  const me = session?.user?.id ?? null;
  const manage = can("manage_incidents");

  /** Makes one change; its refusal is shown on the page, or returned to the dialog that asked. */
  const run = async (label: string, command: Command, done: string, inDialog = false): Promise<CommandError | null> => {
    setBusy(label);
    setActionError(undefined);
    try {
      show(await changeIncident(detail, command));
      syncChanged();
      toast(done);
      return null;
    } catch (e) {
      const err = asCommandError(e);
      if (!inDialog) setActionError(err);
      // Someone else changed it: show what it is now, so the buttons match.
      if (err.code === "conflict") load();
      return err;
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <div className="incident-detail">
      <BackLink onBack={onBack} />
      <header className="incident-head">
        <h1 className="incident-h1"><SeverityChip severity={i.severity} /> {i.title}</h1>
        <p className="subtitle incident-meta">
          <StatusBadge status={i.status} />
          <span>{i.org_id ? <strong>{orgs.name(i.org_id)}</strong> : "No organisation"}</span>
          <span>{i.assignee ? <>assigned to <strong>{i.assignee}</strong>{i.assignee === me && " (you)"}</> : "unassigned"}</span>
          <span title={fmtTime(i.opened_at)}>opened {relTime(i.opened_at)} by {i.created_by}</span>
        </p>
        {manage && (
          <div className="incident-actions" role="toolbar" aria-label="Incident actions">
            {transitionsFor(i.status).map((t, k) => (
              <button key={t.command} className={k === 0 ? "primary" : ""} disabled={!!busy} onClick={() => run(t.label, { command: t.command }, t.done)}>
                {busy === t.label ? "Working…" : t.label}
              </button>
            ))}
            {i.status !== "closed" && me && i.assignee !== me && (
              <button disabled={!!busy} onClick={() => run("me", { command: "assign", assignee: me }, "Assigned to you")}>{busy === "me" ? "Working…" : "Assign to me"}</button>
            )}
            {i.status !== "closed" && <button disabled={!!busy} onClick={() => setDialog("assign")}>Assign…</button>}
            {i.status !== "closed" && <button disabled={!!busy} onClick={() => setDialog("severity")}>Change severity</button>}
          </div>
        )}
      </header>
      {actionError && <div className="inline-error"><ErrorState error={actionError} /></div>}
      <div className="incident-grid">
        <section className="panel" aria-label="Timeline and comments">
          <h2>Timeline</h2>
          <Timeline events={detail.timeline} />
          {can("comment_incidents") && <CommentBox detail={detail} onDone={show} />}
        </section>
        <aside className="incident-side">
          <section className="panel" aria-label="SLA clocks">
            <h2>SLA</h2>
            <Clock label="Response" hint="to the first acknowledgement" clock={detail.sla.response} readAt={readAt} now={now} />
            <Clock label="Resolve" hint={detail.sla.cycles.length > 1 ? `this cycle (${detail.sla.cycles.length} since reopens); waiting on the customer does not count` : "waiting on the customer does not count"} clock={detail.sla.resolve} readAt={readAt} now={now} />
          </section>
          <section className="panel" aria-label="Incident details">
            <dl className="details compact">
              <dt>Opened</dt><dd>{fmtTime(i.opened_at)}</dd>
              {i.impact_started_at && <><dt>Impact since</dt><dd>{fmtTime(i.impact_started_at)}</dd></>}
              <dt>Acknowledged</dt><dd>{fmtTime(i.acknowledged_at)}</dd>
              <dt>Resolved</dt><dd>{fmtTime(i.resolved_at)}</dd>
              {i.closed_at && <><dt>Closed</dt><dd>{fmtTime(i.closed_at)}</dd></>}
              <dt>Id</dt><dd className="mono">{i.id}</dd>
            </dl>
            {can("read_audit") && <button className="ghost link" onClick={() => go("audit", { entity_type: "incident", entity_id: i.id })} aria-label="Audit trail of this incident">Audit trail →</button>}
          </section>
        </aside>
      </div>
      {dialog === "assign" && <AssignDialog current={i.assignee} onClose={() => setDialog(null)} onAssign={(a) => run("assign", { command: "assign", assignee: a }, a ? `Assigned to ${a}` : "Unassigned", true)} />}
      {dialog === "severity" && <SeverityDialog current={i.severity} onClose={() => setDialog(null)} onChange={(s) => run("severity", { command: "change_severity", severity: s }, `Severity is now ${s.toUpperCase()}`, true)} />}
    </div>
  );
}

function BackLink({ onBack }: { onBack: () => void }) {
  return <button className="ghost back" onClick={onBack} aria-label="Back to the incident list">← Incidents</button>;
}

function Clock({ label, hint, clock, readAt, now }: { label: string; hint: string; clock: ClockState; readAt: number; now: number }) {
  const v = clockView(clock, readAt, now);
  return (
    <div className={`clock ${v.tone}`} aria-label={`${label} SLA`}>
      <div className="clock-head"><strong>{label}</strong><span className={`badge ${v.tone}`}>{v.state}</span></div>
      <div className="clock-value">{v.text}</div>
      <small className="muted">target {fmtSpan(clock.target_ms)} · {hint}</small>
    </div>
  );
}

function CommentBox({ detail, onDone }: { detail: IncidentDetail; onDone: (d: IncidentDetail) => void }) {
  const [text, setText] = useState("");
  const [eventId, setEventId] = useState(newId);
  const [error, setError] = useState<CommandError>();
  const [busy, setBusy] = useState(false);
  const submit = async (e?: React.FormEvent) => {
    e?.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onDone(await api.incidentComment(detail.incident.id, text, eventId));
      syncChanged();
      setText("");
      setEventId(newId());
    } catch (err) {
      setError(asCommandError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="comment-box" onSubmit={submit}>
      <Field label="Add a comment" error={fieldError(error, "text")} hint="Ctrl+Enter sends">
        <textarea aria-label="Comment" rows={3} value={text} maxLength={10000} placeholder="What you found, what you did, what is next…"
          onChange={(e) => setText(e.target.value)} onKeyDown={(e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) submit(); }} />
      </Field>
      {error && !error.fields.length && <ErrorState error={error} />}
      <div className="row-actions"><button className="primary" disabled={busy || !text.trim()}>{busy ? "Sending…" : "Comment"}</button></div>
    </form>
  );
}

type Ask<T> = (value: T) => Promise<CommandError | null>;

function AssignDialog({ current, onClose, onAssign }: { current: string | null; onClose: () => void; onAssign: Ask<string | null> }) {
  const [who, setWho] = useState(current ?? "");
  const [error, setError] = useState<CommandError | null>(null);
  // The people who worked on incidents (from the replica on a portal profile: offline too).
  const people = useAsync(() => api.incidentPeople(), []);
  const typed = who.trim().toLowerCase();
  const suggested = (people.data ?? [])
    .filter((p) => p.id !== current && (!typed || p.id.toLowerCase().includes(typed) || p.name.toLowerCase().includes(typed)))
    .slice(0, 6);
  const assign = async (a: string | null) => {
    const err = await onAssign(a);
    if (err) setError(err); else onClose();
  };
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    assign(who.trim() || null);
  };
  return (
    <Modal title="Assign the incident" onClose={onClose} footer={<>
      {current && <button className="ghost" onClick={() => assign(null)}>Unassign</button>}
      <button className="ghost" onClick={onClose}>Cancel</button>
      <button className="primary" form="assign-incident" disabled={!who.trim() || who.trim() === current}>Assign</button>
    </>}>
      <form id="assign-incident" onSubmit={submit}>
        <Field label="Assignee" error={fieldError(error ?? undefined, "assignee")} hint="Pick someone who worked on incidents, or type an actor id as the audit trail shows it (e.g. user:ana@example.com)">
          <input aria-label="Assignee" value={who} onChange={(e) => setWho(e.target.value)} maxLength={255} list="incident-people" autoFocus />
        </Field>
        <datalist id="incident-people">
          {(people.data ?? []).map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
        </datalist>
        {people.loading && !people.data && <p className="muted people-note">Loading people…</p>}
        {people.error && <p className="muted people-note">The list of people could not be loaded ({people.error.message}); an actor id can still be typed.</p>}
        {suggested.length > 0 && (
          <ul className="people" aria-label="People">
            {suggested.map((p) => (
              <li key={p.id}>
                <button type="button" className={p.id === who.trim() ? "person chosen" : "person"} onClick={() => setWho(p.id)} aria-label={`Choose ${p.name}`}>
                  <span className="person-name">{p.name}</span>
                  <span className="muted person-id">{p.id}</span>
                  <span className="muted person-seen">seen {relTime(p.last_seen_at)}</span>
                </button>
              </li>
            ))}
          </ul>
        )}
        {people.data && people.data.length === 0 && <p className="muted people-note">Nobody has worked on an incident yet: type an actor id.</p>}
      </form>
      {error && !error.fields.length && <ErrorState error={error} />}
    </Modal>
  );
}

function SeverityDialog({ current, onClose, onChange }: { current: Severity; onClose: () => void; onChange: Ask<Severity> }) {
  const [severity, setSeverity] = useState<Severity>(current);
  const [error, setError] = useState<CommandError | null>(null);
  const change = async () => {
    const err = await onChange(severity);
    if (err) setError(err); else onClose();
  };
  return (
    <Modal title="Change the severity" onClose={onClose} footer={<>
      <button className="ghost" onClick={onClose}>Cancel</button>
      <button className="primary" disabled={severity === current} onClick={change}>Change</button>
    </>}>
      <p className="muted">Both SLA clocks are then measured against the new severity's targets.</p>
      <fieldset className="radio-group single" aria-label="Severity">
        <legend>Severity</legend>
        {SEVERITIES.map((s) => (
          <label key={s}><input type="radio" name="severity" checked={severity === s} onChange={() => setSeverity(s)} aria-label={s} /> <SeverityChip severity={s} /> <span className="muted small">{SEVERITY_HINT[s].split(" — ")[1]}</span></label>
        ))}
      </fieldset>
      {error && <ErrorState error={error} />}
    </Modal>
  );
}
