import { useState } from "react";
import { api, asCommandError, type CommandError, type Integration, type IntegrationForm } from "../api";
import { Guarded } from "../access";
import { useNav } from "../App";
import { Badge, Confirm, Empty, ErrorState, Field, Loading, Modal, PageHeader, fieldError, fmtTime, onRowKey, relTime, useAsync, useToast } from "../ui";

const TYPES = ["stripe", "salesforce", "hubspot", "slack", "zendesk", "webhook", "custom"];

function status(i: Integration) {
  if (i.status === "error") return <Badge tone="bad">error</Badge>;
  if (i.status === "paused") return <Badge tone="warn">paused</Badge>;
  return <Badge tone="good">active</Badge>;
}

export function IntegrationsPage() {
  const { go } = useNav();
  const { data, error, loading, reload } = useAsync(() => api.integrationsList(), []);
  const [editing, setEditing] = useState<Integration | "new" | null>(null);
  const [removing, setRemoving] = useState<Integration | null>(null);
  const toast = useToast();
  const pause = async (i: Integration) => {
    try {
      await api.integrationSetPaused(i.id, i.status !== "paused");
      toast(i.status === "paused" ? `${i.name} resumed` : `${i.name} paused`);
      reload();
    } catch (e) {
      toast(asCommandError(e).message, "bad");
    }
  };
  return (
    <div className="page">
      <PageHeader title="Integrations" subtitle="Connections to providers. Configuration is encrypted; only its field names are shown." actions={<Guarded permission="manage_integrations" className="primary" onClick={() => setEditing("new")}>Add integration</Guarded>} />
      {loading && !data ? <Loading /> : error ? <ErrorState error={error} onRetry={reload} /> : !data?.length ? (
        <Empty title="No integration yet" action={<Guarded permission="manage_integrations" className="primary" onClick={() => setEditing("new")}>Add integration</Guarded>} />
      ) : (
        <table className="table" aria-label="Integrations">
          <thead><tr><th>Name</th><th>Type</th><th>Status</th><th>Configuration</th><th>Last sync</th><th aria-label="Actions" /></tr></thead>
          <tbody>
            {data.map((i) => (
              <tr key={i.id} tabIndex={0} onKeyDown={(e) => onRowKey(e, () => setEditing(i))} aria-label={`Integration ${i.name}`}>
                <td className="name"><a href="#" onClick={(e) => { e.preventDefault(); go("audit", { entity_type: "integration", entity_id: i.id }); }} title="Open its audit trail" aria-label={`Audit trail of ${i.name}`}>{i.name}</a>{i.last_error && <small className="block error-text">{i.last_error}</small>}</td>
                <td>{i.type}</td>
                <td>{status(i)}</td>
                <td className="small">{i.config_fields.length ? i.config_fields.join(", ") : <span className="muted">empty</span>}</td>
                <td title={fmtTime(i.last_sync_at)}>{relTime(i.last_sync_at)}</td>
                <td className="actions-cell"><div className="row-actions">
                  <Guarded permission="manage_integrations" onClick={() => setEditing(i)} aria-label={`Edit ${i.name}`}>Edit</Guarded>
                  <Guarded permission="manage_integrations" onClick={() => pause(i)} aria-label={`${i.status === "paused" ? "Resume" : "Pause"} ${i.name}`}>{i.status === "paused" ? "Resume" : "Pause"}</Guarded>
                  <Guarded permission="manage_integrations" className="danger-text" onClick={() => setRemoving(i)} aria-label={`Delete ${i.name}`}>Delete</Guarded>
                </div></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {editing && <IntegrationEditor integration={editing === "new" ? null : editing} onClose={() => setEditing(null)} onSaved={reload} />}
      {removing && <Confirm title="Delete this integration?" danger confirmLabel="Delete" message={<p><strong>{removing.name}</strong> and its encrypted configuration will be deleted.</p>}
        onClose={() => setRemoving(null)} onConfirm={async () => { await api.integrationDelete(removing.id); toast("Integration deleted"); reload(); }} />}
    </div>
  );
}

function IntegrationEditor({ integration, onClose, onSaved }: { integration: Integration | null; onClose: () => void; onSaved: () => void }) {
  const [form, setForm] = useState<IntegrationForm>({ name: integration?.name ?? "", kind: integration?.type ?? "webhook", config: "" });
  const [error, setError] = useState<CommandError>();
  const [busy, setBusy] = useState(false);
  const toast = useToast();
  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      if (integration) await api.integrationUpdate(integration.id, form);
      else await api.integrationCreate(form);
      toast(integration ? "Integration saved" : "Integration added");
      onSaved();
      onClose();
    } catch (err) {
      setError(asCommandError(err));
      setBusy(false);
    }
  };
  return (
    <Modal title={integration ? `Edit ${integration.name}` : "Add integration"} onClose={onClose} footer={<>
      <button className="ghost" onClick={onClose}>Cancel</button>
      <button className="primary" form="integration-form" disabled={busy}>{busy ? "Saving…" : "Save"}</button>
    </>}>
      <form id="integration-form" onSubmit={save} autoComplete="off">
        <Field label="Name" error={fieldError(error, "name")}><input aria-label="Integration name" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} /></Field>
        <Field label="Type" error={fieldError(error, "type")}>
          <select aria-label="Integration type" value={form.kind} disabled={!!integration} onChange={(e) => setForm({ ...form, kind: e.target.value })}>
            {TYPES.map((t) => <option key={t}>{t}</option>)}
          </select>
        </Field>
        <Field label="Configuration (JSON)" error={fieldError(error, "config")}
          hint={integration ? `Stored fields: ${integration.config_fields.join(", ") || "none"}. Values are never shown; paste a complete object to replace them, or leave empty to keep them.` : "A JSON object, e.g. {\"api_key\": \"…\"}. It is encrypted at rest."}>
          <textarea aria-label="Configuration JSON" rows={6} spellCheck={false} className="mono" value={form.config ?? ""} onChange={(e) => setForm({ ...form, config: e.target.value })} />
        </Field>
        {error && !error.fields.length && <ErrorState error={error} />}
      </form>
    </Modal>
  );
}
