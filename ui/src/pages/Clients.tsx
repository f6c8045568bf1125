import { useEffect, useState } from "react";
import { api, asCommandError, type Client, type CommandError } from "../api";
import { Guarded } from "../access";
import { useNav } from "../App";
import { Badge, Empty, ErrorState, Field, Loading, Modal, PageHeader, fieldError, fmtTime, onRowKey, usePaged, useToast } from "../ui";

const statusTone = (s: string) => (s === "active" ? "good" : s === "trial" ? "info" : s === "suspended" ? "warn" : "muted");

export function ClientsPage() {
  const { params } = useNav();
  const [search, setSearch] = useState("");
  const list = usePaged((cursor) => api.clientsList({ search: search || null, limit: 100, cursor }), [search], search ? 200 : 0);
  const { items, cursor, loading, error } = list;
  const [open, setOpen] = useState<string | null>(params.open ?? null);

  return (
    <div className="page">
      <PageHeader title="Clients" subtitle="Tenant organisations of the portal." />
      <div className="filters" role="search">
        <Field label="Search"><input aria-label="Search clients" placeholder="Name contains…" value={search} onChange={(e) => setSearch(e.target.value)} /></Field>
      </div>
      {error ? <ErrorState error={error} onRetry={list.reload} /> : items.length === 0 && loading ? <Loading /> : items.length === 0 ? (
        <Empty title={search ? "No client matches" : "No client yet"} hint={search ? "Try another part of the name." : undefined} />
      ) : (
        <table className="table" aria-label="Clients">
          <thead><tr><th>Name</th><th>Plan</th><th>Status</th><th>Created</th><th aria-label="Actions" /></tr></thead>
          <tbody>
            {items.map((c) => (
              <tr key={c.id} tabIndex={0} className="clickable" onClick={() => setOpen(c.id)} onKeyDown={(e) => onRowKey(e, () => setOpen(c.id))} aria-label={`Client ${c.name}`}>
                <td>{c.name}</td>
                <td>{c.plan}</td>
                <td><Badge tone={statusTone(c.status)}>{c.status}</Badge></td>
                <td>{fmtTime(c.created_at)}</td>
                <td className="actions-cell"><div className="row-actions"><button onClick={(e) => { e.stopPropagation(); setOpen(c.id); }} aria-label={`Open ${c.name}`}>Details</button></div></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor && <div className="more"><button onClick={list.more} disabled={loading}>{loading ? "Loading…" : "Load more"}</button></div>}
      {open && <ClientDetails id={open} onClose={() => setOpen(null)} onChanged={(c) => list.setItems((old) => old.map((x) => (x.id === c.id ? c : x)))} />}
    </div>
  );
}

function ClientDetails({ id, onClose, onChanged }: { id: string; onClose: () => void; onChanged: (c: Client) => void }) {
  const { go } = useNav();
  const [client, setClient] = useState<Client>();
  const [error, setError] = useState<CommandError>();
  const [name, setName] = useState("");
  const [saveError, setSaveError] = useState<CommandError>();
  const [busy, setBusy] = useState(false);
  const toast = useToast();
  useEffect(() => {
    let live = true;
    api.clientGet(id).then((c) => { if (live) { setClient(c); setName(c.name); } }, (e) => live && setError(asCommandError(e)));
    return () => { live = false; };
  }, [id]);
  const rename = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setSaveError(undefined);
    try {
      const c = await api.clientRename(id, name);
      setClient(c);
      onChanged(c);
      toast(`Renamed to ${c.name}`);
    } catch (err) {
      setSaveError(asCommandError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title={client ? client.name : "Client"} onClose={onClose} footer={<>
      <button className="ghost" onClick={() => go("audit", { entity_type: "client", entity_id: id })}>View audit trail</button>
      <button onClick={onClose}>Close</button>
    </>}>
      {error ? <ErrorState error={error} /> : !client ? <Loading /> : (
        <>
          <dl className="details">
            <dt>Id</dt><dd className="mono">{client.id}</dd>
            <dt>Plan</dt><dd>{client.plan}</dd>
            <dt>Status</dt><dd><Badge tone={statusTone(client.status)}>{client.status}</Badge></dd>
            <dt>Created</dt><dd>{fmtTime(client.created_at)}</dd>
          </dl>
          <form onSubmit={rename} className="inline-form">
            <Field label="Name" error={fieldError(saveError, "name")}>
              <input aria-label="Client name" value={name} onChange={(e) => setName(e.target.value)} />
            </Field>
            <Guarded permission="manage_clients" className="primary" disabled={busy || name === client.name}>{busy ? "Saving…" : "Rename"}</Guarded>
          </form>
          {saveError && !saveError.fields.length && <ErrorState error={saveError} />}
        </>
      )}
    </Modal>
  );
}
