// "Open incident": title, severity, the organisation affected and when the impact started (both
// optional). The dialog chooses the incident's id once, so pressing Open again after a lost
// answer returns the same incident instead of opening a second one.
import { useState } from "react";
import { api, asCommandError, type CommandError, type IncidentDetail, type Severity } from "../../api";
import { useNav } from "../../App";
import { ErrorState, Field, Modal, fieldError, useToast } from "../../ui";
import { SEVERITIES, SEVERITY_HINT, newId, useOrgs } from "./common";

/** `datetime-local` input value (local time) to an RFC 3339 instant. */
const toInstant = (v: string) => (v ? new Date(v).toISOString() : null);

export function OpenIncidentDialog({ onClose, onOpened }: { onClose: () => void; onOpened: (d: IncidentDetail) => void }) {
  const { session } = useNav();
  const orgs = useOrgs();
  const toast = useToast();
  const [id] = useState(newId);
  const [title, setTitle] = useState("");
  const [severity, setSeverity] = useState<Severity>("sev3");
  const [org, setOrg] = useState("");
  const [impact, setImpact] = useState("");
  const [error, setError] = useState<CommandError>();
  const [busy, setBusy] = useState(false);
  // A client-role user opens incidents for its own organisation only: the portal sets it.
  const ownOrg = session?.user?.role === "client";

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const d = await api.incidentOpen({ id, title, severity, org_id: org || null, impact_started_at: toInstant(impact), occurred_at: null });
      toast(`Incident opened: ${d.incident.title}`);
      onOpened(d);
    } catch (err) {
      setError(asCommandError(err));
      setBusy(false);
    }
  };
  const others = error?.fields.filter((f) => !["title", "severity", "org_id", "impact_started_at"].includes(f.field)) ?? [];
  return (
    <Modal title="Open an incident" onClose={onClose} footer={<>
      <button className="ghost" onClick={onClose}>Cancel</button>
      <button className="primary" form="open-incident" disabled={busy}>{busy ? "Opening…" : "Open incident"}</button>
    </>}>
      <form id="open-incident" onSubmit={submit}>
        <Field label="Title" error={fieldError(error, "title")} hint="What is wrong, as a customer would say it: “Sign-in fails for Acme”">
          <input aria-label="Incident title" value={title} maxLength={200} onChange={(e) => setTitle(e.target.value)} />
        </Field>
        <fieldset className="radio-group severities" aria-label="Severity">
          <legend>Severity</legend>
          {SEVERITIES.map((s) => (
            <label key={s} title={SEVERITY_HINT[s]}>
              <input type="radio" name="open-severity" checked={severity === s} onChange={() => setSeverity(s)} aria-label={`Severity ${s}`} />
              <span className={`sev-chip ${s}`}>{s.toUpperCase()}</span> <span className="small muted">{SEVERITY_HINT[s].split(" — ")[1]}</span>
            </label>
          ))}
        </fieldset>
        {fieldError(error, "severity") && <small className="field-error">{fieldError(error, "severity")}</small>}
        <div className="grid-form">
          {!ownOrg && (
            <Field label="Organisation (optional)" error={fieldError(error, "org_id")} hint="The client affected, if one is">
              <select aria-label="Organisation" value={org} onChange={(e) => setOrg(e.target.value)}>
                <option value="">None</option>
                {orgs.list.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
              </select>
            </Field>
          )}
          <Field label="Impact started (optional)" error={fieldError(error, "impact_started_at")} hint="If before now: the SLA clocks start there">
            <input aria-label="Impact started" type="datetime-local" value={impact} onChange={(e) => setImpact(e.target.value)} />
          </Field>
        </div>
        {error && (!error.fields.length || others.length > 0) && <ErrorState error={error} />}
      </form>
    </Modal>
  );
}
