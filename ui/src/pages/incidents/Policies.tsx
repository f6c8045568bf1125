// Escalation policies: the default one and the organisations' overrides, each edited as a form
// (steps with their delay, condition, minimum severity, repeats and targets). The portal checks
// the whole policy; its field errors (`rules[1].targets[0].url`) are shown at their input.
import { useEffect, useState } from "react";
import { api, asCommandError, type CommandError, type EscalationCondition, type EscalationPolicy, type EscalationTarget, type PolicyInput, type Severity } from "../../api";
import { Guarded, useCan } from "../../access";
import { Confirm, Empty, ErrorState, Field, Loading, fieldError, useAsync, useToast } from "../../ui";
import { SEVERITIES, fmtMinutes, newId, useOrgs } from "./common";

type TargetDraft = { key: string; type: EscalationTarget["type"]; value: string };
type StepDraft = { key: string; after_mins: string; condition: EscalationCondition; min_severity: Severity; repeat: string; repeat_every_mins: string; targets: TargetDraft[] };
type Draft = { id: string | null; name: string; org_id: string; rules: StepDraft[] };

const ROLES = ["provider", "developer", "support"];
const VALUE_FIELD = { user: "id", role: "role", webhook: "url" } as const;

const newStep = (): StepDraft => ({ key: newId(), after_mins: "15", condition: "unacknowledged", min_severity: "sev2", repeat: "0", repeat_every_mins: "", targets: [{ key: newId(), type: "role", value: "support" }] });
const blank = (): Draft => ({ id: null, name: "", org_id: "", rules: [newStep()] });

function toDraft(p: EscalationPolicy): Draft {
  return {
    id: p.id, name: p.name, org_id: p.org_id ?? "",
    rules: p.rules.map((r) => ({
      key: newId(), after_mins: String(r.after_mins), condition: r.condition, min_severity: r.min_severity, repeat: String(r.repeat),
      repeat_every_mins: r.repeat_every_mins == null ? "" : String(r.repeat_every_mins),
      targets: r.targets.map((t) => ({ key: newId(), type: t.type, value: t.type === "user" ? t.id : t.type === "role" ? t.role : t.url })),
    })),
  };
}

/** The draft as the portal takes it, or the fields that are not even numbers. */
function toInput(d: Draft): PolicyInput | { field: string; message: string }[] {
  const bad: { field: string; message: string }[] = [];
  const num = (v: string, field: string, optional = false): number | null => {
    const s = v.trim();
    if (optional && !s) return null;
    if (!/^\d+$/.test(s) || Number(s) > 4294967295) { bad.push({ field, message: "must be a whole number" }); return 0; }
    return Number(s);
  };
  const rules = d.rules.map((r, i) => ({
    after_mins: num(r.after_mins, `rules[${i}].after_mins`) ?? 0,
    condition: r.condition,
    min_severity: r.min_severity,
    repeat: num(r.repeat || "0", `rules[${i}].repeat`) ?? 0,
    repeat_every_mins: num(r.repeat_every_mins, `rules[${i}].repeat_every_mins`, true),
    targets: r.targets.map((t): EscalationTarget => (t.type === "user" ? { type: "user", id: t.value } : t.type === "role" ? { type: "role", role: t.value } : { type: "webhook", url: t.value })),
  }));
  return bad.length ? bad : { name: d.name, org_id: d.org_id || null, rules };
}

export function PolicySettings() {
  const policies = useAsync(() => api.escalationPoliciesList(), []);
  const orgs = useOrgs();
  const editable = useCan()("manage_sla");
  const [draft, setDraft] = useState<Draft | null>(null);
  useEffect(() => {
    // The first policy is open to begin with (and after a deletion, once the list is read again).
    if (policies.data && !policies.loading && !draft) setDraft(policies.data[0] ? toDraft(policies.data[0]) : null);
  }, [policies.data, policies.loading, draft]);
  if (policies.loading && !policies.data) return <Loading />;
  if (policies.error) return <ErrorState error={policies.error} onRetry={policies.reload} />;
  const list = policies.data!;
  const whose = (org: string | null) => (org ? orgs.name(org) : "Default policy");
  const done = (p: EscalationPolicy | null) => {
    setDraft(p ? toDraft(p) : null);
    policies.reload();
  };
  return (
    <section className="panel" aria-label="Escalation policies">
      <div className="section-head">
        <div>
          <h2>Escalation policies</h2>
          <p className="muted small">Who is notified, and when, while an incident goes unanswered. An organisation's own policy replaces the default for its incidents.</p>
        </div>
        <Guarded permission="manage_sla" onClick={() => setDraft(blank())}>New policy</Guarded>
      </div>
      <div className="policies">
        <ul className="policy-list" aria-label="Policies">
          {list.map((p) => (
            <li key={p.id}>
              <button className={draft?.id === p.id ? "active" : ""} onClick={() => setDraft(toDraft(p))}>
                <strong>{p.name}</strong>
                <small className="muted block">{whose(p.org_id)} · {p.rules.length} step{p.rules.length === 1 ? "" : "s"}</small>
              </button>
            </li>
          ))}
          {draft && !draft.id && <li><button className="active"><strong>{draft.name || "New policy"}</strong><small className="muted block">not saved yet</small></button></li>}
        </ul>
        {draft ? <PolicyForm key={draft.id ?? "new"} initial={draft} editable={editable} onSaved={done} onCancel={() => setDraft(list[0] ? toDraft(list[0]) : null)} />
          : <Empty title="No escalation policy yet" hint="Without one, nobody is notified when an incident goes unanswered." action={<Guarded permission="manage_sla" className="primary" onClick={() => setDraft(blank())}>New policy</Guarded>} />}
      </div>
    </section>
  );
}

function PolicyForm({ initial, editable, onSaved, onCancel }: { initial: Draft; editable: boolean; onSaved: (p: EscalationPolicy | null) => void; onCancel: () => void }) {
  const orgs = useOrgs();
  const toast = useToast();
  const [d, setD] = useState<Draft>(initial);
  const [error, setError] = useState<CommandError>();
  const [busy, setBusy] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const err = (field: string) => fieldError(error, field);
  const setStep = (i: number, patch: Partial<StepDraft>) => setD({ ...d, rules: d.rules.map((r, k) => (k === i ? { ...r, ...patch } : r)) });
  // Moving or removing a step renumbers the steps: the portal's errors would point at the wrong ones.
  const reshape = (rules: StepDraft[]) => { setError(undefined); setD({ ...d, rules }); };
  const move = (i: number, by: number) => {
    const rules = [...d.rules];
    [rules[i], rules[i + by]] = [rules[i + by], rules[i]];
    reshape(rules);
  };
  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    const input = toInput(d);
    if (Array.isArray(input)) {
      setError({ code: "invalid", message: "Some values are not numbers", fields: input, current_version: null, conflicting_fields: [] });
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const p = d.id ? await api.escalationPolicyUpdate(d.id, input) : await api.escalationPolicyCreate(input);
      toast(`Policy “${p.name}” saved`);
      onSaved(p);
    } catch (x) {
      setError(asCommandError(x));
    } finally {
      setBusy(false);
    }
  };
  const known = (f: string) => f === "name" || f === "org_id" || f.startsWith("rules");
  return (
    <form className="policy-form" onSubmit={save} aria-label="Escalation policy">
      <fieldset disabled={!editable} className="bare">
        <div className="grid-form">
          <Field label="Name" error={err("name")}><input aria-label="Policy name" value={d.name} maxLength={120} onChange={(e) => setD({ ...d, name: e.target.value })} /></Field>
          <Field label="Applies to" error={err("org_id")}>
            <select aria-label="Policy organisation" value={d.org_id} onChange={(e) => setD({ ...d, org_id: e.target.value })}>
              <option value="">Default policy (every organisation)</option>
              {orgs.list.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
            </select>
          </Field>
        </div>
        <h3 className="steps-title">Steps</h3>
        {err("rules") && <small className="field-error block">{err("rules")}</small>}
        <ol className="steps">
          {d.rules.map((r, i) => (
            <li key={r.key} className="step" aria-label={`Step ${i + 1}`}>
              <div className="step-head">
                <strong>Step {i + 1}</strong>
                <span className="muted small">{summary(r)}</span>
                {editable && <div className="row-actions">
                  <button type="button" className="ghost" disabled={i === 0} onClick={() => move(i, -1)} aria-label={`Move step ${i + 1} up`} title="Move up">↑</button>
                  <button type="button" className="ghost" disabled={i === d.rules.length - 1} onClick={() => move(i, 1)} aria-label={`Move step ${i + 1} down`} title="Move down">↓</button>
                  <button type="button" className="ghost danger-text" disabled={d.rules.length === 1} onClick={() => reshape(d.rules.filter((_, k) => k !== i))} aria-label={`Remove step ${i + 1}`}>Remove</button>
                </div>}
              </div>
              <div className="step-grid">
                <Field label="After (minutes)" error={err(`rules[${i}].after_mins`)}><input className="num" inputMode="numeric" aria-label={`Step ${i + 1} after minutes`} value={r.after_mins} onChange={(e) => setStep(i, { after_mins: e.target.value })} /></Field>
                <Field label="While" error={err(`rules[${i}].condition`)}>
                  <select aria-label={`Step ${i + 1} condition`} value={r.condition} onChange={(e) => setStep(i, { condition: e.target.value as EscalationCondition })}>
                    <option value="unacknowledged">unacknowledged</option><option value="unresolved">unresolved</option>
                  </select>
                </Field>
                <Field label="Severity at least" error={err(`rules[${i}].min_severity`)}>
                  <select aria-label={`Step ${i + 1} minimum severity`} value={r.min_severity} onChange={(e) => setStep(i, { min_severity: e.target.value as Severity })}>
                    {SEVERITIES.map((s) => <option key={s} value={s}>{s.toUpperCase()}{s === "sev1" ? " only" : s === "sev4" ? " (all)" : " or worse"}</option>)}
                  </select>
                </Field>
                <Field label="Repeat (times)" error={err(`rules[${i}].repeat`)}><input className="num" inputMode="numeric" aria-label={`Step ${i + 1} repeat count`} value={r.repeat} onChange={(e) => setStep(i, { repeat: e.target.value })} /></Field>
                <Field label="Every (minutes)" error={err(`rules[${i}].repeat_every_mins`)}><input className="num" inputMode="numeric" aria-label={`Step ${i + 1} repeat every minutes`} placeholder={r.repeat.trim() && r.repeat.trim() !== "0" ? "required" : "—"} value={r.repeat_every_mins} onChange={(e) => setStep(i, { repeat_every_mins: e.target.value })} /></Field>
              </div>
              <Targets step={i} targets={r.targets} editable={editable} err={err} onChange={(targets) => setStep(i, { targets })} />
            </li>
          ))}
        </ol>
        {editable && <button type="button" onClick={() => reshape([...d.rules, newStep()])} disabled={d.rules.length >= 20}>+ Add step</button>}
      </fieldset>
      {error && (!error.fields.length || error.fields.some((f) => !known(f.field))) && <ErrorState error={error} />}
      {error && error.fields.length > 0 && error.fields.every((f) => known(f.field)) && <p className="field-error small" role="alert">{error.fields.length === 1 ? "One field needs" : `${error.fields.length} fields need`} fixing: see the highlighted inputs.</p>}
      {editable && (
        <div className="form-actions">
          {d.id && <button type="button" className="danger-text" onClick={() => setDeleting(true)}>Delete policy</button>}
          <span className="spacer" />
          <button type="button" className="ghost" onClick={onCancel}>Discard</button>
          <button className="primary" disabled={busy}>{busy ? "Saving…" : d.id ? "Save policy" : "Create policy"}</button>
        </div>
      )}
      {deleting && d.id && (
        <Confirm title={`Delete “${initial.name}”?`} danger confirmLabel="Delete" onClose={() => setDeleting(false)}
          message={<p>{initial.org_id ? "This organisation's incidents then follow the default policy." : "Incidents of organisations without their own policy will no longer be escalated."}</p>}
          onConfirm={async () => { await api.escalationPolicyDelete(d.id!); toast("Policy deleted"); onSaved(null); }} />
      )}
    </form>
  );
}

function Targets({ step, targets, editable, err, onChange }: { step: number; targets: TargetDraft[]; editable: boolean; err: (f: string) => string | undefined; onChange: (t: TargetDraft[]) => void }) {
  const at = `rules[${step}].targets`;
  const add = (type: TargetDraft["type"]) => onChange([...targets, { key: newId(), type, value: type === "role" ? "support" : "" }]);
  const set = (j: number, patch: Partial<TargetDraft>) => onChange(targets.map((t, k) => (k === j ? { ...t, ...patch } : t)));
  return (
    <div className="targets" aria-label={`Step ${step + 1} targets`}>
      <div className="targets-head">
        <span className="targets-label">Notify</span>
        {editable && <>
          <button type="button" onClick={() => add("user")}>+ User</button>
          <button type="button" onClick={() => add("role")}>+ Role</button>
          <button type="button" onClick={() => add("webhook")}>+ Webhook</button>
        </>}
      </div>
      {err(at) && <small className="field-error block">{err(at)}</small>}
      {targets.map((t, j) => {
        const e = err(`${at}[${j}].${VALUE_FIELD[t.type]}`) ?? err(`${at}[${j}]`);
        const label = `Step ${step + 1} target ${j + 1}`;
        return (
          <div key={t.key} className={`target ${e ? "has-error" : ""}`}>
            <select aria-label={`${label} kind`} value={t.type} onChange={(x) => set(j, { type: x.target.value as TargetDraft["type"], value: x.target.value === "role" ? "support" : "" })}>
              <option value="user">User</option><option value="role">Role</option><option value="webhook">Webhook</option>
            </select>
            {t.type === "role"
              ? <select aria-label={`${label} role`} value={t.value} onChange={(x) => set(j, { value: x.target.value })}>{ROLES.map((r) => <option key={r} value={r}>{r}</option>)}</select>
              : <input aria-label={`${label} ${t.type === "user" ? "user id" : "URL"}`} aria-invalid={!!e} value={t.value} placeholder={t.type === "user" ? "user:ana@example.com" : "https://hooks.example.com/incidents"} onChange={(x) => set(j, { value: x.target.value })} />}
            {editable && <button type="button" className="ghost" aria-label={`Remove ${label}`} onClick={() => onChange(targets.filter((_, k) => k !== j))}>×</button>}
            {e && <small className="field-error">{e}</small>}
          </div>
        );
      })}
    </div>
  );
}

/** One step in a sentence. */
function summary(r: StepDraft): string {
  const after = /^\d+$/.test(r.after_mins) ? fmtMinutes(Number(r.after_mins)) : "?";
  const times = Number(r.repeat) || 0;
  const every = /^\d+$/.test(r.repeat_every_mins) ? ` every ${fmtMinutes(Number(r.repeat_every_mins))}` : "";
  return `${after} after opening, if still ${r.condition}, ${r.min_severity.toUpperCase()}${r.min_severity === "sev1" ? "" : " or worse"}${times ? `; ${times} more time${times === 1 ? "" : "s"}${every}` : ""}`;
}
