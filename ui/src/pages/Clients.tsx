import { useEffect, useState } from "react";
import { api, type Client, type CommandError } from "../api";
import { notAllowed, useCan, useNav } from "../App";
import { Badge, Empty, ErrorState, Field, Loading, Modal, PageHeader, fieldError, fmtTime, onRowKey, useToast } from "../ui";

const statusTone = (s: string) => (s === "active" ? "good" : s === "trial" ? "info" : s === "suspended" ? "warn" : "muted");

export function ClientsPage() {
  const { params } = useNav();
  const [search, setSearch] = useState("");
  const [items, setItems] = useState<Client[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<CommandError>();
  const [open, setOpen] = useState<string | null>(params.open ?? null);

  const load = async (more = false) => {
    setLoading(true);
    setError(undefined);
    try {
      const page = await api.clients({ search: search || null, limit: 100, cursor: more ? cursor : null });
      setItems((old) => (more ? [...old, ...page.items] : page.items));
      setCursor(page.next_cursor);
    } catch (e) {
      setError(e as CommandError);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    const t = setTimeout(() => load(), search ? 200 : 0);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [search]);

  return (
    <div className="page">
      <PageHeader title="Clients" subtitle="Tenant organisations of the portal." />
      <div className="filters" role="search">
        <Field label="Search"><input aria-label="Search clients" placeholder="Name contains…" value={search} onChange={(e) => setSearch(e.target.value)} /></Field>
      </div>
      {error ? <ErrorState error={error} onRetry={() => load()} /> : items.length === 0 && loading ? <Loading /> : items.length === 0 ? (
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
      {cursor && <div className="more"><button onClick={() => load(true)} disabled={loading}>{loading ? "Loading…" : "Load more"}</button></div>}
      {open && <ClientDetails id={open} onClose={() => setOpen(null)} onChanged={(c) => setItems((old) => old.map((x) => (x.id === c.id ? c : x)))} />}
    </div>
  );
}

function ClientDetails({ id, onClose, onChanged }: { id: string; onClose: () => void; onChanged: (c: Client) => void }) {
  const { go, session } = useNav();
  const can = useCan();
  const [client, setClient] = useState<Client>();
  const [error, setError] = useState<CommandError>();
  const [name, setName] = useState("");
  const [saveError, setSaveError] = useState<CommandError>();
  const [busy, setBusy] = useState(false);
  const toast = useToast();
  useEffect(() => {
    api.client(id).then((c) => { setClient(c); setName(c.name); }, setError);
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
      setSaveError(err as CommandError);
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
            <button className="primary" disabled={busy || name === client.name || !can("manage_clients")} title={can("manage_clients") ? undefined : notAllowed(session)}>{busy ? "Saving…" : "Rename"}</button>
          </form>
          {saveError && !saveError.fields.length && <ErrorState error={saveError} />}
        </>
      )}
    </Modal>
  );
}
