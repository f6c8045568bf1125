import { useState } from "react";
import { api, asCommandError, type CommandError, type OidcConfig, type OidcForm, type OidcProbeReport } from "../api";
import { Guarded } from "../access";
import { useNav } from "../App";
import { Badge, Confirm, Empty, ErrorState, Field, Loading, Modal, PageHeader, fieldError, fmtTime, onRowKey, useAsync, useToast } from "../ui";

export function OidcPage() {
  const { go } = useNav();
  const { data, error, loading, reload } = useAsync(() => api.oidcList(), []);
  const [editing, setEditing] = useState<OidcConfig | "new" | null>(null);
  const [removing, setRemoving] = useState<OidcConfig | null>(null);
  const [testing, setTesting] = useState<OidcConfig | null>(null);
  const toast = useToast();
  const toggle = async (c: OidcConfig) => {
    try {
      await api.oidcSetEnabled(c.id, !c.enabled);
      toast(`${c.client_id} ${c.enabled ? "disabled" : "enabled"}`);
      reload();
    } catch (e) {
      toast(asCommandError(e).message, "bad");
    }
  };
  return (
    <div className="page">
      <PageHeader title="OIDC configurations" subtitle="Sign-in providers of the portal. Client secrets are encrypted and never shown again." actions={<Guarded permission="manage_oidc" className="primary" onClick={() => setEditing("new")}>Add configuration</Guarded>} />
      {loading && !data ? <Loading /> : error ? <ErrorState error={error} onRetry={reload} /> : !data?.length ? (
        <Empty title="No OIDC configuration yet" hint="Add your identity provider's issuer and client." action={<Guarded permission="manage_oidc" className="primary" onClick={() => setEditing("new")}>Add configuration</Guarded>} />
      ) : (
        <table className="table" aria-label="OIDC configurations">
          <thead><tr><th>Issuer</th><th>Client id</th><th>Secret</th><th>Status</th><th aria-label="Actions" /></tr></thead>
          <tbody>
            {data.map((c) => (
              <tr key={c.id} tabIndex={0} onKeyDown={(e) => onRowKey(e, () => setEditing(c))} aria-label={`OIDC ${c.issuer} ${c.client_id}`}>
                <td><span className="mono">{c.issuer}</span><small className="block muted">redirects to {c.redirect_uri} · updated {fmtTime(c.updated_at)}</small></td>
                <td className="name"><a href="#" onClick={(e) => { e.preventDefault(); go("audit", { entity_type: "oidc_config", entity_id: c.id }); }} title="Open its audit trail" aria-label={`Audit trail of ${c.client_id}`}>{c.client_id}</a></td>
                <td>{c.has_client_secret ? <Badge tone="info">set</Badge> : <span className="muted">none</span>}</td>
                <td>{c.enabled ? <Badge tone="good">enabled</Badge> : <Badge tone="muted">disabled</Badge>}</td>
                <td className="actions-cell"><div className="row-actions">
                  <button onClick={() => setTesting(c)} aria-label={`Test connection to ${c.issuer}`}>Test connection</button>
                  <Guarded permission="manage_oidc" onClick={() => setEditing(c)} aria-label={`Edit ${c.client_id}`}>Edit</Guarded>
                  <Guarded permission="manage_oidc" onClick={() => toggle(c)} aria-label={`${c.enabled ? "Disable" : "Enable"} ${c.client_id}`}>{c.enabled ? "Disable" : "Enable"}</Guarded>
                  <Guarded permission="manage_oidc" className="danger-text" onClick={() => setRemoving(c)} aria-label={`Delete ${c.client_id}`}>Delete</Guarded>
                </div></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {editing && <OidcEditor config={editing === "new" ? null : editing} onClose={() => setEditing(null)} onSaved={reload} />}
      {testing && <OidcTest config={testing} onClose={() => setTesting(null)} />}
      {removing && <Confirm title="Delete this configuration?" danger confirmLabel="Delete" message={<p>Sign-in through <span className="mono">{removing.issuer}</span> with client <strong>{removing.client_id}</strong> stops working.</p>}
        onClose={() => setRemoving(null)} onConfirm={async () => { await api.oidcDelete(removing.id); toast("Configuration deleted"); reload(); }} />}
    </div>
  );
}

function OidcEditor({ config, onClose, onSaved }: { config: OidcConfig | null; onClose: () => void; onSaved: () => void }) {
  const [form, setForm] = useState<OidcForm>({
    issuer: config?.issuer ?? "", client_id: config?.client_id ?? "", redirect_uri: config?.redirect_uri ?? "",
    client_secret: "", clear_client_secret: false, enabled: config?.enabled ?? true,
  });
  const [error, setError] = useState<CommandError>();
  const [busy, setBusy] = useState(false);
  const toast = useToast();
  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      if (config) await api.oidcUpdate(config.id, form);
      else await api.oidcCreate(form);
      toast(config ? "Configuration saved" : "Configuration added");
      onSaved();
      onClose();
    } catch (err) {
      setError(asCommandError(err));
      setBusy(false);
    }
  };
  const set = (k: keyof OidcForm) => (e: React.ChangeEvent<HTMLInputElement>) => setForm({ ...form, [k]: e.target.type === "checkbox" ? e.target.checked : e.target.value });
  return (
    <Modal title={config ? "Edit OIDC configuration" : "Add OIDC configuration"} onClose={onClose} footer={<>
      <button className="ghost" onClick={onClose}>Cancel</button>
      <button className="primary" form="oidc-form" disabled={busy}>{busy ? "Saving…" : "Save"}</button>
    </>}>
      <form id="oidc-form" onSubmit={save} autoComplete="off">
        <Field label="Issuer" error={fieldError(error, "issuer")} hint="https://login.example.com — compared exactly, including a trailing slash">
          <input aria-label="Issuer" value={form.issuer} onChange={set("issuer")} />
        </Field>
        <Field label="Client id" error={fieldError(error, "client_id")}><input aria-label="Client id" value={form.client_id} onChange={set("client_id")} /></Field>
        <Field label="Redirect URI" error={fieldError(error, "redirect_uri")}><input aria-label="Redirect URI" value={form.redirect_uri} onChange={set("redirect_uri")} /></Field>
        <Field label="Client secret" error={fieldError(error, "client_secret")} hint={config?.has_client_secret ? "A secret is set. Leave empty to keep it." : "Optional for public clients."}>
          <input aria-label="Client secret" type="password" placeholder={config?.has_client_secret ? "•••••••• (set)" : ""} value={form.client_secret ?? ""} onChange={set("client_secret")} disabled={form.clear_client_secret} />
        </Field>
        {config?.has_client_secret && <label className="check-line"><input type="checkbox" checked={form.clear_client_secret} onChange={set("clear_client_secret")} /> Remove the stored secret</label>}
        {!config && <label className="check-line"><input type="checkbox" checked={form.enabled} onChange={set("enabled")} /> Enabled</label>}
        {error && !error.fields.length && <ErrorState error={error} />}
      </form>
    </Modal>
  );
}

function OidcTest({ config, onClose }: { config: OidcConfig; onClose: () => void }) {
  const { data, error, loading } = useAsync<OidcProbeReport>(() => api.oidcTest(config.id), [config.id]);
  return (
    <Modal title={`Test connection: ${config.issuer}`} onClose={onClose} wide footer={<button onClick={onClose}>Close</button>}>
      {loading ? <Loading label="Fetching the discovery document and keys…" /> : error ? <ErrorState error={error} /> : data && (
        <div className="probe">
          <p>{data.problems.length === 0 ? <Badge tone="good">Everything checks out</Badge> : <Badge tone="bad">{data.problems.length} problem{data.problems.length > 1 ? "s" : ""}</Badge>}</p>
          {data.problems.length > 0 && <ul className="problems">{data.problems.map((p) => <li key={p}>{p}</li>)}</ul>}
          <dl>
            <dt>Discovery document</dt><dd className="mono">{data.discovery_url}</dd>
            <dt>Configured issuer</dt><dd className="mono">{data.expected_issuer}</dd>
            <dt>Announced issuer</dt><dd className="mono">{data.found_issuer ?? "—"}</dd>
            <dt>Authorization endpoint</dt><dd className="mono">{data.authorization_endpoint ?? "—"}</dd>
            <dt>Token endpoint</dt><dd className="mono">{data.token_endpoint ?? "—"}</dd>
            <dt>JWKS</dt><dd className="mono">{data.jwks_uri ?? "—"}</dd>
            <dt>Signing keys</dt><dd>{data.signing_keys.length ? data.signing_keys.join(", ") : "—"}</dd>
            <dt>ID token algorithms</dt><dd>{data.id_token_algorithms.join(", ") || "—"}</dd>
          </dl>
        </div>
      )}
    </Modal>
  );
}
