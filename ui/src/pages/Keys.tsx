import { useEffect, useState } from "react";
import { api, asCommandError, emptyKeyFilter, newIdempotencyKey, type CommandError, type CreatedKeyView, type FederationKey, type KeyFilter, type RotationView } from "../api";
import { Guarded } from "../access";
import { useNav } from "../App";
import { Badge, Confirm, CopyButton, Empty, ErrorState, Field, Loading, Modal, PageHeader, fieldError, fmtDate, fmtTime, onRowKey, relTime, usePaged, useToast } from "../ui";

export function statusBadge(k: FederationKey) {
  if (k.status === "revoked") return <Badge tone="bad">revoked</Badge>;
  if (k.status === "expired") return <Badge tone="muted">expired</Badge>;
  if (k.rotated_to) return <Badge tone="warn">rotated · ends {relTime(k.expires_at)}</Badge>;
  return <Badge tone="good">active</Badge>;
}

export function KeysPage() {
  const { params, go } = useNav();
  const [filter, setFilter] = useState<KeyFilter>({
    ...emptyKeyFilter,
    status: (params.status as KeyFilter["status"]) ?? null,
    expiring_within_days: params.expiring ? Number(params.expiring) : null,
    unused_for_days: params.unused ? Number(params.unused) : null,
  });
  const list = usePaged((cursor) => api.keysList({ ...filter, cursor }), [filter], filter.search ? 200 : 0);
  const { items, cursor, loading, error } = list;
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [generate, setGenerate] = useState(params.action === "generate");
  const [revoke, setRevoke] = useState<string[] | null>(params.action === "revoke" && params.id ? [params.id] : null);
  const [rotate, setRotate] = useState<FederationKey | null>(null);
  const toast = useToast();
  useEffect(() => setSelected(new Set()), [filter]);
  /** The first page again, after a change (the selection refers to the old list). */
  const load = () => {
    setSelected(new Set());
    list.reload();
  };

  const toggle = (id: string) => setSelected((s) => {
    const n = new Set(s);
    if (n.has(id)) n.delete(id); else n.add(id);
    return n;
  });
  const revocable = items.filter((k) => k.status !== "revoked");

  return (
    <div className="page">
      <PageHeader title="Federation keys" subtitle="API keys of partner systems. A key is shown once, when it is created." actions={<>
        {selected.size > 0 && <Guarded permission="manage_keys" className="danger" onClick={() => setRevoke([...selected])}>Revoke {selected.size} selected</Guarded>}
        <Guarded permission="manage_keys" className="primary" onClick={() => setGenerate(true)}>Generate key</Guarded>
      </>} />
      <div className="filters" role="search">
        <Field label="Search"><input aria-label="Search keys by name" placeholder="Name contains…" value={filter.search ?? ""} onChange={(e) => setFilter({ ...filter, search: e.target.value || null })} /></Field>
        <Field label="Status">
          <select aria-label="Status filter" value={filter.status ?? ""} onChange={(e) => setFilter({ ...filter, status: (e.target.value || null) as KeyFilter["status"] })}>
            <option value="">Any</option><option value="active">Active</option><option value="revoked">Revoked</option><option value="expired">Expired</option>
          </select>
        </Field>
        <Field label="Expiring within">
          <select aria-label="Expiring within" value={filter.expiring_within_days ?? ""} onChange={(e) => setFilter({ ...filter, expiring_within_days: e.target.value ? Number(e.target.value) : null })}>
            <option value="">—</option><option value="7">7 days</option><option value="30">30 days</option><option value="90">90 days</option>
          </select>
        </Field>
        <Field label="Unused for">
          <select aria-label="Unused for" value={filter.unused_for_days ?? ""} onChange={(e) => setFilter({ ...filter, unused_for_days: e.target.value ? Number(e.target.value) : null })}>
            <option value="">—</option><option value="30">30 days</option><option value="90">90 days</option>
          </select>
        </Field>
      </div>
      {error ? <ErrorState error={error} onRetry={load} /> : items.length === 0 && loading ? <Loading /> : items.length === 0 ? (
        <Empty title="No keys match" hint="Generate a key for a partner system, or change the filters." action={<Guarded permission="manage_keys" className="primary" onClick={() => setGenerate(true)}>Generate key</Guarded>} />
      ) : (
        <table className="table" aria-label="Federation keys">
          <thead>
            <tr>
              <th className="check"><input type="checkbox" aria-label="Select all keys" checked={revocable.length > 0 && revocable.every((k) => selected.has(k.id))} onChange={(e) => setSelected(e.target.checked ? new Set(revocable.map((k) => k.id)) : new Set())} /></th>
              <th>Key</th><th>Status</th><th>Created</th><th>Expires</th><th>Last used</th><th aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {items.map((k) => (
              <tr key={k.id} tabIndex={0} aria-label={`Key ${k.name} ${k.prefix}`} onKeyDown={(e) => onRowKey(e, () => go("audit", { entity_type: "federation_key", entity_id: k.id }))}>
                <td className="check"><input type="checkbox" aria-label={`Select ${k.prefix}`} disabled={k.status === "revoked"} checked={selected.has(k.id)} onChange={() => toggle(k.id)} /></td>
                <td className="name"><a href="#" onClick={(e) => { e.preventDefault(); go("audit", { entity_type: "federation_key", entity_id: k.id }); }} aria-label={`Audit trail of ${k.prefix}`} title="Open its audit trail">{k.name}</a><small className="mono muted block">{k.prefix}</small></td>
                <td>{statusBadge(k)}</td>
                <td className="nowrap" title={fmtTime(k.created_at)}>{fmtDate(k.created_at)}<small className="muted block">by {k.created_by}</small></td>
                <td className="nowrap" title={fmtTime(k.expires_at)}>{k.expires_at ? fmtDate(k.expires_at) : <span className="muted">never</span>}</td>
                <td className="nowrap">{k.last_used_at ? <>{relTime(k.last_used_at)}<small className="muted block">{k.last_used_ip}</small></> : <span className="muted">never</span>}</td>
                <td className="actions-cell"><div className="row-actions">
                  {k.status === "active" && !k.rotated_to && <Guarded permission="manage_keys" onClick={() => setRotate(k)} aria-label={`Rotate ${k.prefix}`}>Rotate</Guarded>}
                  {k.status === "active" && k.rotated_to && <Guarded permission="manage_keys" onClick={async () => { try { await api.keyEndOverlap(k.id); toast("Overlap ended: the old key no longer works"); load(); } catch (e) { toast(asCommandError(e).message, "bad"); } }} aria-label={`End overlap of ${k.prefix}`}>End overlap</Guarded>}
                  {k.status !== "revoked" && <Guarded permission="manage_keys" className="danger-text" onClick={() => setRevoke([k.id])} aria-label={`Revoke ${k.prefix}`}>Revoke</Guarded>}
                </div></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor && <div className="more"><button onClick={list.more} disabled={loading}>{loading ? "Loading…" : "Load more"}</button></div>}
      {generate && <GenerateKey onClose={() => setGenerate(false)} onCreated={load} />}
      {rotate && <RotateKey k={rotate} onClose={() => setRotate(null)} onDone={load} />}
      {revoke && (
        <Confirm title={revoke.length === 1 ? "Revoke this key?" : `Revoke ${revoke.length} keys?`} danger confirmLabel="Revoke"
          message={<p>Partners using {revoke.length === 1 ? "this key" : "these keys"} will be refused immediately. This cannot be undone.</p>}
          onClose={() => setRevoke(null)}
          onConfirm={async () => {
            const done = await api.keysRevoke(revoke, newIdempotencyKey());
            toast(done.length === 1 ? `${done[0].prefix} revoked` : `${done.length} keys revoked`);
            load();
          }} />
      )}
    </div>
  );
}

const LIFETIMES: [string, string][] = [["", "Never expires"], ["30d", "30 days"], ["90d", "90 days"], ["180d", "180 days"], ["365d", "1 year"]];

function GenerateKey({ onClose, onCreated }: { onClose: () => void; onCreated: () => void }) {
  const [name, setName] = useState("");
  const [lifetime, setLifetime] = useState("90d");
  const [error, setError] = useState<CommandError>();
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<CreatedKeyView>();
  const [saved, setSaved] = useState(false);
  const [idem] = useState(newIdempotencyKey);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      setCreated(await api.keyCreate(name, lifetime || null, idem));
      onCreated();
    } catch (err) {
      setError(asCommandError(err));
    } finally {
      setBusy(false);
    }
  };
  if (created) {
    return (
      <Modal title="Save this key now" onClose={() => saved && onClose()} footer={<button className="primary" disabled={!saved} onClick={onClose}>Done</button>}>
        <p>This is the only time the full key is shown. Store it in the partner's secret manager.</p>
        <div className="secret" aria-label="New federation key"><code>{created.full_key}</code><CopyButton text={created.full_key} label="Copy key" /></div>
        <label className="check-line"><input type="checkbox" checked={saved} onChange={(e) => setSaved(e.target.checked)} aria-label="I have saved this key" /> I have saved this key somewhere safe</label>
      </Modal>
    );
  }
  return (
    <Modal title="Generate a federation key" onClose={onClose} footer={<>
      <button className="ghost" onClick={onClose}>Cancel</button>
      <button className="primary" form="generate-key" disabled={busy}>{busy ? "Generating…" : "Generate"}</button>
    </>}>
      <form id="generate-key" onSubmit={submit}>
        <Field label="Name" error={fieldError(error, "name")} hint="Who uses it, e.g. “Acme production”">
          <input aria-label="Key name" value={name} maxLength={120} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field label="Expires" error={fieldError(error, "expires_in")}>
          <select aria-label="Key lifetime" value={lifetime} onChange={(e) => setLifetime(e.target.value)}>
            {LIFETIMES.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
          </select>
        </Field>
        {error && !error.fields.length && <ErrorState error={error} />}
      </form>
    </Modal>
  );
}

const OVERLAPS: [string, string][] = [["0", "None — the old key stops now"], ["1m", "1 minute"], ["15m", "15 minutes"], ["1h", "1 hour"], ["6h", "6 hours"], ["24h", "24 hours"]];

function RotateKey({ k, onClose, onDone }: { k: FederationKey; onClose: () => void; onDone: () => void }) {
  const [overlap, setOverlap] = useState("1h");
  const [error, setError] = useState<CommandError>();
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<RotationView>();
  const [saved, setSaved] = useState(false);
  const [idem] = useState(newIdempotencyKey);
  const go = async () => {
    setBusy(true);
    try {
      setResult(await api.keyRotate(k.id, overlap, idem));
      onDone();
    } catch (e) {
      setError(asCommandError(e));
    } finally {
      setBusy(false);
    }
  };
  if (result) {
    return (
      <Modal title="Key rotated" onClose={() => saved && onClose()} footer={<button className="primary" disabled={!saved} onClick={onClose}>Done</button>}>
        <p>The successor <span className="mono">{result.successor.key.prefix}</span> is shown only now:</p>
        <div className="secret" aria-label="Successor key"><code>{result.successor.full_key}</code><CopyButton text={result.successor.full_key} label="Copy key" /></div>
        <p className="grace" aria-label="Grace window">
          The old key <span className="mono">{result.old.prefix}</span> {result.old.status === "active" ? <>keeps working until <strong>{fmtTime(result.old.expires_at)}</strong> ({relTime(result.old.expires_at)}).</> : <>stopped working now.</>}
        </p>
        <label className="check-line"><input type="checkbox" checked={saved} onChange={(e) => setSaved(e.target.checked)} aria-label="I have saved this key" /> I have saved the new key</label>
      </Modal>
    );
  }
  return (
    <Modal title={`Rotate ${k.prefix}`} onClose={onClose} footer={<>
      <button className="ghost" onClick={onClose}>Cancel</button>
      <button className="primary" disabled={busy} onClick={go}>{busy ? "Rotating…" : "Rotate"}</button>
    </>}>
      <p>A new key replaces <strong>{k.name}</strong>. During the overlap both keys work, so the partner can switch without downtime.</p>
      <fieldset className="radio-group" aria-label="Overlap">
        <legend>Overlap</legend>
        {OVERLAPS.map(([v, l]) => (
          <label key={v}><input type="radio" name="overlap" value={v} checked={overlap === v} onChange={() => setOverlap(v)} aria-label={`Overlap ${l}`} /> {l}</label>
        ))}
      </fieldset>
      {error && <ErrorState error={error} />}
    </Modal>
  );
}
