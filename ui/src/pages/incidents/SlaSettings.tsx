// The SLA targets of the four severities: read by everyone who reads incidents, edited with
// manage_sla. Saved all at once; the portal's field errors (`targets[2].target_resolve_mins`)
// are shown in their cell.
import { useEffect, useState } from "react";
import { api, asCommandError, type CommandError, type SlaTarget } from "../../api";
import { Guarded, useCan } from "../../access";
import { ErrorState, Loading, fieldError, useAsync, useToast } from "../../ui";
import { SeverityChip, fmtMinutes } from "./common";

type Column = "target_response_mins" | "target_resolve_mins" | "at_risk_percent";
const COLUMNS: { key: Column; label: string; unit: string; hint: string }[] = [
  { key: "target_response_mins", label: "Response", unit: "min", hint: "to the first acknowledgement" },
  { key: "target_resolve_mins", label: "Resolve", unit: "min", hint: "to resolution, not counting waiting on the customer" },
  { key: "at_risk_percent", label: "At risk at", unit: "%", hint: "of a target: the clock turns amber" },
];

export function SlaSettings() {
  const editable = useCan()("manage_sla");
  const targets = useAsync(() => api.slaTargetsGet(), []);
  // What the portal holds: read, then what each save returned.
  const [saved, setSaved] = useState<SlaTarget[]>();
  const [rows, setRows] = useState<Record<Column, string>[]>([]);
  const [error, setError] = useState<CommandError>();
  const [busy, setBusy] = useState(false);
  const toast = useToast();
  const reset = (t: SlaTarget[]) => {
    setSaved(t);
    setRows(t.map((x) => ({ target_response_mins: String(x.target_response_mins), target_resolve_mins: String(x.target_resolve_mins), at_risk_percent: String(x.at_risk_percent) })));
  };
  useEffect(() => { if (targets.data) reset(targets.data); }, [targets.data]);

  if (targets.error) return <ErrorState error={targets.error} onRetry={targets.reload} />;
  if (!saved) return <Loading />;
  const changed = rows.some((r, i) => COLUMNS.some((c) => r[c.key] !== String(saved[i]?.[c.key])));
  const save = async () => {
    // Only what cannot even be sent is checked here (the types' bounds); the rules are the portal's.
    const fields = rows.flatMap((r, i) => COLUMNS.flatMap((c) => {
      const v = r[c.key].trim();
      const max = c.key === "at_risk_percent" ? 255 : 4294967295;
      if (!/^\d+$/.test(v)) return [{ field: `targets[${i}].${c.key}`, message: "must be a whole number" }];
      return Number(v) > max ? [{ field: `targets[${i}].${c.key}`, message: "is too large" }] : [];
    }));
    if (fields.length) {
      setError({ code: "invalid", message: "Some targets are not numbers", fields, current_version: null, conflicting_fields: [] });
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const next = await api.slaTargetsSet(saved.map((t, i) => ({ severity: t.severity, target_response_mins: Number(rows[i].target_response_mins), target_resolve_mins: Number(rows[i].target_resolve_mins), at_risk_percent: Number(rows[i].at_risk_percent) })));
      reset(next);
      toast("SLA targets saved");
    } catch (e) {
      setError(asCommandError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="panel" aria-label="SLA targets">
      <div className="section-head">
        <div>
          <h2>SLA targets</h2>
          <p className="muted small">Per severity. Clocks are measured against the current targets, so a change applies to every incident of that severity.</p>
        </div>
        {editable && changed && <div className="row-actions">
          <button className="ghost" onClick={() => { setError(undefined); reset(saved); }}>Discard</button>
          <Guarded permission="manage_sla" className="primary" disabled={busy} onClick={save}>{busy ? "Saving…" : "Save targets"}</Guarded>
        </div>}
      </div>
      <table className="table sla-table">
        <thead><tr><th>Severity</th>{COLUMNS.map((c) => <th key={c.key} title={c.hint}>{c.label} <span className="muted">({c.unit})</span></th>)}</tr></thead>
        <tbody>
          {saved.map((t, i) => (
            <tr key={t.severity}>
              <td><SeverityChip severity={t.severity} /></td>
              {COLUMNS.map((c) => {
                const err = fieldError(error, `targets[${i}].${c.key}`);
                const value = rows[i]?.[c.key] ?? "";
                return (
                  <td key={c.key} className={err ? "has-error" : ""}>
                    {editable
                      ? <input className="num" inputMode="numeric" aria-label={`${t.severity} ${c.label}`} aria-invalid={!!err} value={value} onChange={(e) => setRows(rows.map((r, k) => (k === i ? { ...r, [c.key]: e.target.value } : r)))} />
                      : <span>{value}</span>}
                    {c.key !== "at_risk_percent" && /^\d+$/.test(value) && <small className="muted cell-hint">{fmtMinutes(Number(value))}</small>}
                    {err && <small className="field-error block">{err}</small>}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      {error && !error.fields.some((f) => f.field.startsWith("targets[")) && <ErrorState error={error} />}
    </section>
  );
}
