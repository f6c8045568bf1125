// The Sync panel: where this device's incident edits stand, what the portal refused or found in
// conflict (with the choice per field), Sync now and Rebuild replica.
import { useState } from "react";
import { api, asCommandError, type CommandError, type OutboxEntry, type SyncStatus } from "../api";
import { useNav } from "../App";
import { Badge, Confirm, Empty, ErrorState, Loading, PageHeader, fmtTime, relTime, useToast } from "../ui";
import { syncWords, useSync } from "../sync";

export function SyncPage() {
  const { status, setStatus } = useSync();
  const [busy, setBusy] = useState<string>();
  const [error, setError] = useState<CommandError>();
  const [confirmRebuild, setConfirmRebuild] = useState(false);
  const toast = useToast();
  const run = async (what: string, call: () => Promise<SyncStatus>, done?: (s: SyncStatus) => string) => {
    setBusy(what);
    setError(undefined);
    try {
      const s = await call();
      setStatus(s);
      if (done) toast(done(s));
    } catch (e) {
      setError(asCommandError(e));
    } finally {
      setBusy(undefined);
    }
  };
  if (!status) return <div className="page"><PageHeader title="Sync" /><Loading label="Reading the sync state…" /></div>;
  const words = syncWords(status);
  const waiting = status.entries.filter((e) => e.state === "pending" || e.state === "applied");
  const conflicts = status.entries.filter((e) => e.state === "conflict");
  const rejected = status.entries.filter((e) => e.state === "rejected");
  return (
    <div className="page">
      <PageHeader
        title="Sync"
        subtitle="Incident edits are saved on this device first, then sent to the portal in order."
        actions={<>
          <button onClick={() => setConfirmRebuild(true)} disabled={!!busy}>Rebuild replica</button>
          <button className="primary" onClick={() => run("now", api.syncNow, (s) => s.last_error ? `Sync failed: ${s.last_error}` : "Synced")} disabled={!!busy}>{busy === "now" ? "Syncing…" : "Sync now"}</button>
        </>}
      />
      {error && <ErrorState error={error} />}
      <div className="cards sync-cards">
        <div className={`card stat ${words.tone === "bad" ? "bad" : words.tone === "warn" ? "warn" : ""}`} aria-label="Sync state">
          <span className="label">State</span><span className="value small"><Badge tone={words.tone}>{words.text}</Badge></span>
          <small>{status.last_error ?? (status.health === "offline" ? "The portal cannot be reached; edits are kept." : "")}</small>
        </div>
        <div className="card stat" aria-label="Last successful sync">
          <span className="label">Last synced</span><span className="value small">{status.last_synced_at ? relTime(status.last_synced_at) : "never"}</span>
          <small>{status.last_synced_at ? fmtTime(status.last_synced_at) : "Sync to fetch the portal's incidents"}</small>
        </div>
        <div className="card stat" aria-label="Next attempt">
          <span className="label">Next attempt</span><span className="value small">{status.next_attempt_at ? fmtTime(status.next_attempt_at) : "now"}</span>
          <small>Retries back off from 2 s to a minute while offline.</small>
        </div>
        <div className="card stat" aria-label="Pending edits">
          <span className="label">Pending</span><span className="value">{status.pending}</span><small>edits not yet confirmed by the portal</small>
        </div>
      </div>

      <h2 className="section">Conflicts</h2>
      {conflicts.length === 0 ? <p className="muted">None: nobody else changed a field you edited.</p> : (
        <table className="table" aria-label="Conflicts">
          <thead><tr><th>Incident</th><th>Field</th><th>Yours</th><th>Theirs (now)</th><th aria-label="Choice" /></tr></thead>
          <tbody>
            {conflicts.map((e) => e.conflicts.map((c) => (
              <tr key={`${e.mutation.mutation_id}-${c.field}`} aria-label={`Conflict on ${c.field} of ${e.incident_title ?? e.mutation.incident_id}`}>
                <td><IncidentLink entry={e} /></td>
                <td>{c.field}</td>
                <td><strong>{c.mine ?? "unassigned"}</strong></td>
                <td>{c.theirs ?? "unassigned"}</td>
                <td className="actions-cell"><div className="row-actions">
                  <button disabled={!!busy} onClick={() => run(`k${e.mutation.mutation_id}`, () => api.syncSettle(e.mutation.mutation_id, true), () => `Your ${c.field} is queued`)}>Keep mine</button>
                  <button disabled={!!busy} onClick={() => run(`t${e.mutation.mutation_id}`, () => api.syncSettle(e.mutation.mutation_id, false), () => `Kept theirs`)}>Take theirs</button>
                </div></td>
              </tr>
            )))}
          </tbody>
        </table>
      )}

      <h2 className="section">Rejected</h2>
      {rejected.length === 0 ? <p className="muted">None.</p> : (
        <table className="table" aria-label="Rejected edits">
          <thead><tr><th>Incident</th><th>Edit</th><th>Made</th><th>Why</th><th aria-label="Choice" /></tr></thead>
          <tbody>
            {rejected.map((e) => (
              <tr key={e.mutation.mutation_id} aria-label={`Rejected: ${e.summary}`}>
                <td><IncidentLink entry={e} /></td>
                <td>{e.summary}</td>
                <td>{fmtTime(e.mutation.occurred_at)}</td>
                <td>{e.reason}</td>
                <td className="actions-cell"><div className="row-actions">
                  <button disabled={!!busy} onClick={() => run(`r${e.mutation.mutation_id}`, () => api.syncSettle(e.mutation.mutation_id, true), () => "Queued again")}>Retry as new</button>
                  <button disabled={!!busy} onClick={() => run(`d${e.mutation.mutation_id}`, () => api.syncSettle(e.mutation.mutation_id, false), () => "Dismissed")}>Dismiss</button>
                </div></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2 className="section">Waiting to be sent</h2>
      {waiting.length === 0 ? <Empty title="Nothing waiting" hint="Every edit made on this device has reached the portal." /> : (
        <table className="table" aria-label="Pending edits">
          <thead><tr><th>#</th><th>Incident</th><th>Edit</th><th>Made</th><th>State</th></tr></thead>
          <tbody>
            {waiting.map((e) => (
              <tr key={e.mutation.mutation_id}>
                <td className="muted">{e.mutation.mutation_id}</td>
                <td><IncidentLink entry={e} /></td>
                <td>{e.summary}</td>
                <td>{fmtTime(e.mutation.occurred_at)}</td>
                <td>{e.state === "applied" ? <Badge tone="good">on the portal</Badge> : <Badge tone="info">pending</Badge>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="muted small">Device id {status.client_id} · change feed position {status.cursor}</p>
      {confirmRebuild && (
        <Confirm
          title="Rebuild the replica?"
          message="This device's copy of the incidents is emptied and fetched again from the portal. Edits waiting to be sent are kept."
          confirmLabel="Rebuild"
          onConfirm={async () => { setConfirmRebuild(false); await run("rebuild", api.syncRebuild, () => "Replica rebuilt"); }}
          onClose={() => setConfirmRebuild(false)}
        />
      )}
    </div>
  );
}

function IncidentLink({ entry }: { entry: OutboxEntry }) {
  const { go } = useNav();
  return (
    <a href="#" onClick={(ev) => { ev.preventDefault(); go("incidents", { open: entry.mutation.incident_id }); }}>
      {entry.incident_title ?? entry.mutation.incident_id}
    </a>
  );
}
