import { useState } from "react";
import { api, asCommandError, type CommandError, type PortalForm, type PostgresForm, type ProfileBook, type TlsMode } from "../api";
import { useNav, useTheme } from "../App";
import { Badge, Confirm, ErrorState, Field, Loading, Modal, PageHeader, fieldError, useAsync, useToast } from "../ui";

export function SettingsPage() {
  const { session, reloadSession } = useNav();
  const theme = useTheme();
  const book = useAsync(() => api.profilesGet(), []);
  const info = useAsync(() => api.appInfo(), []);
  const [adding, setAdding] = useState<"postgres" | "portal" | null>(null);
  const [signingOut, setSigningOut] = useState(false);
  const [removing, setRemoving] = useState<string | null>(null);
  const [switching, setSwitching] = useState<string | null>(null);
  const [switchError, setSwitchError] = useState<CommandError>();
  const toast = useToast();
  const activate = async (id: string) => {
    setSwitching(id);
    setSwitchError(undefined);
    try {
      const s = await api.profileActivate(id);
      toast(`Now using ${s.profile.name}`);
      book.reload();
      reloadSession();
    } catch (e) {
      setSwitchError(asCommandError(e));
    } finally {
      setSwitching(null);
    }
  };
  return (
    <div className="page">
      <PageHeader title="Settings" />
      <section className="panel">
        <h2>Connection profiles</h2>
        <p className="muted">Where the data is. Switching takes effect immediately. Database passwords are kept in the OS keychain, never in the profile file.</p>
        {book.loading && !book.data ? <Loading /> : book.error ? <ErrorState error={book.error} onRetry={book.reload} /> : (
          <ul className="profiles" aria-label="Connection profiles">
            {book.data!.profiles.map((p) => (
              <li key={p.id} className={p.id === book.data!.active ? "active" : ""}>
                <div>
                  <strong>{p.name}</strong> {p.id === book.data!.active && <Badge tone="good">in use</Badge>}
                  <small className="block muted">{describe(p.connection)}</small>
                </div>
                <div className="row-actions">
                  {p.id !== book.data!.active && <button onClick={() => activate(p.id)} disabled={!!switching} aria-label={`Use ${p.name}`}>{switching === p.id ? "Connecting…" : "Use"}</button>}
                  {p.connection.kind !== "embedded" && p.id !== book.data!.active && <button className="danger-text" onClick={() => setRemoving(p.id)} aria-label={`Remove ${p.name}`}>Remove</button>}
                </div>
              </li>
            ))}
          </ul>
        )}
        {switchError && <ErrorState error={switchError} />}
        <div className="row-actions">
          <button onClick={() => setAdding("postgres")}>Add PostgreSQL profile</button>
          <button onClick={() => setAdding("portal")}>Add portal API profile</button>
        </div>
      </section>
      {session?.profile.connection.kind === "portal" && (
        <section className="panel" aria-label="Portal sign-in">
          <h2>Portal sign-in</h2>
          {session.user ? (
            <>
              <dl className="details">
                <dt>Signed in as</dt><dd>{session.user.name} <span className="muted">({session.user.id})</span></dd>
                <dt>Role</dt><dd><Badge tone="good">{session.user.role}</Badge>{session.user.role === "client" && <span className="muted small"> organisation {session.user.org_id}</span>}</dd>
                <dt>Allowed</dt><dd className="small">{session.permissions.map((p) => p.replace(/_/g, " ")).join(", ")}</dd>
              </dl>
              <button className="danger-text" disabled={signingOut} onClick={async () => {
                setSigningOut(true);
                try { await api.portalSignOut(); toast("Signed out"); reloadSession(); } catch (e) { toast(asCommandError(e).message, "bad"); } finally { setSigningOut(false); }
              }}>{signingOut ? "Signing out…" : "Sign out"}</button>
            </>
          ) : <p className="muted">Not signed in. Open any page to sign in.</p>}
        </section>
      )}
      <section className="panel">
        <h2>Appearance</h2>
        <div className="segmented" role="radiogroup" aria-label="Theme">
          {(["system", "light", "dark"] as const).map((c) => (
            <button key={c} role="radio" aria-checked={theme.choice === c} className={theme.choice === c ? "active" : ""} onClick={() => theme.set(c)}>
              {c === "system" ? "Follow the system" : c === "light" ? "Light" : "Dark"}
            </button>
          ))}
        </div>
      </section>
      <section className="panel">
        <h2>About</h2>
        {info.data && (
          <dl className="details" aria-label="About">
            <dt>Version</dt><dd>{info.data.version}</dd>
            <dt>Data folder</dt><dd className="mono">{info.data.data_dir}</dd>
            <dt>Log folder</dt><dd className="mono">{info.data.log_dir}</dd>
            {session && <><dt>Database</dt><dd className="mono">{session.location}</dd><dt>Master key</dt><dd>{session.key_source}</dd></>}
            {session?.user && session.profile.connection.kind !== "portal" && (
              <><dt>Acting as</dt><dd>{session.user.name} <span className="muted">({session.user.id})</span> <Badge tone="good">{session.user.role}</Badge></dd></>
            )}
          </dl>
        )}
      </section>
      {adding === "postgres" && <AddProfile onClose={() => setAdding(null)} onSaved={book.reload} />}
      {adding === "portal" && <AddPortalProfile onClose={() => setAdding(null)} onSaved={book.reload} />}
      {removing && <Confirm title="Remove this profile?" confirmLabel="Remove" danger message={<p>The profile and its saved password are removed from this computer. The database is not touched.</p>}
        onClose={() => setRemoving(null)} onConfirm={async () => { await api.profileDelete(removing); book.reload(); }} />}
    </div>
  );
}

function describe(c: ProfileBook["profiles"][number]["connection"]): string {
  switch (c.kind) {
    case "embedded": return "Embedded SQLite workspace on this computer";
    case "postgres": return `PostgreSQL ${c.user}@${c.host}:${c.port}/${c.database} · ${TLS_CHOICES[c.tls].short}`;
    case "portal": return `Portal API ${c.url} · sign-in ${c.issuer}`;
  }
}

function AddPortalProfile({ onClose, onSaved }: { onClose: () => void; onSaved: () => void }) {
  const [form, setForm] = useState<PortalForm>({ id: null, name: "", url: "https://", issuer: "", client_id: "" });
  const [error, setError] = useState<CommandError>();
  const [found, setFound] = useState(false);
  const [busy, setBusy] = useState<"discover" | "save" | null>(null);
  const toast = useToast();
  const set = (k: keyof PortalForm) => (e: React.ChangeEvent<HTMLInputElement>) => {
    if (k === "url") setFound(false);
    setForm({ ...form, [k]: e.target.value });
  };
  const discover = async () => {
    setBusy("discover");
    setError(undefined);
    try {
      const d = await api.profileDiscoverPortal(form.url);
      setForm({ ...form, issuer: d.issuer, client_id: d.client_id });
      setFound(true);
    } catch (e) {
      setError(asCommandError(e));
    } finally {
      setBusy(null);
    }
  };
  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy("save");
    try {
      await api.profileSavePortal(form);
      toast(`Profile ${form.name} saved: use it, then sign in`);
      onSaved();
      onClose();
    } catch (err) {
      setError(asCommandError(err));
      setBusy(null);
    }
  };
  return (
    <Modal title="Add a portal API profile" onClose={onClose} footer={<>
      <button className="ghost" onClick={onClose}>Cancel</button>
      <button onClick={discover} disabled={!!busy} aria-label="Check portal">{busy === "discover" ? "Checking…" : "Check portal"}</button>
      <button className="primary" form="portal-profile-form" disabled={!!busy}>Save</button>
    </>}>
      <form id="portal-profile-form" onSubmit={save} autoComplete="off" className="grid-form">
        <Field label="Name" error={fieldError(error, "name")}><input aria-label="Profile name" value={form.name} onChange={set("name")} placeholder="Production portal" /></Field>
        <Field label="Portal URL" error={fieldError(error, "url")} hint="The portal API's address"><input aria-label="Portal URL" value={form.url} onChange={set("url")} placeholder="https://portal.example.com" /></Field>
        <Field label="Identity provider (issuer)" error={fieldError(error, "issuer")} hint="Filled in by Check portal"><input aria-label="Issuer" value={form.issuer ?? ""} onChange={set("issuer")} /></Field>
        <Field label="Client id" error={fieldError(error, "client_id")} hint="This app's id at the identity provider"><input aria-label="Client id" value={form.client_id ?? ""} onChange={set("client_id")} /></Field>
      </form>
      {found && <p><Badge tone="good">Portal found</Badge> <span className="small muted">sign-in with {form.issuer}</span></p>}
      {error && !error.fields.length && <ErrorState error={error} />}
    </Modal>
  );
}

/** What each TLS choice does, said where the choice is made. */
const TLS_CHOICES: Record<TlsMode, { label: string; short: string; hint: string }> = {
  "verify-full": {
    label: "Verify the server (recommended)",
    short: "TLS, server verified",
    hint: "Encrypted, and the server's certificate must be issued by a public certificate authority (the list built into the app) for this host name — or by the CA in the file named by PGSSLROOTCERT. Protects the password and data from anyone on the network.",
  },
  require: {
    label: "Encrypt, don't verify",
    short: "TLS, server not verified",
    hint: "Encrypted, but any certificate is accepted: someone who can intercept the connection can pose as the server and read the password and data. Only for a server with a self-signed certificate on a network you trust.",
  },
  prefer: {
    label: "Encrypt if the server offers it",
    short: "TLS if offered, not verified",
    hint: "Encrypted only when the server offers TLS, never verified; otherwise in the clear. An attacker on the network can turn encryption off.",
  },
  disable: {
    label: "No encryption",
    short: "no TLS",
    hint: "The password and data cross the network in the clear. Only for a database on this computer or a private link.",
  },
};

function AddProfile({ onClose, onSaved }: { onClose: () => void; onSaved: () => void }) {
  const [form, setForm] = useState<PostgresForm>({ id: null, name: "", host: "127.0.0.1", port: 5432, database: "", user: "", password: "", tls: "verify-full" });
  const [error, setError] = useState<CommandError>();
  const [tested, setTested] = useState<string>();
  const [busy, setBusy] = useState<"test" | "save" | null>(null);
  const toast = useToast();
  const set = (k: keyof PostgresForm) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => {
    setTested(undefined);
    setForm({ ...form, [k]: k === "port" ? Number(e.target.value) : e.target.value });
  };
  const test = async () => {
    setBusy("test");
    setError(undefined);
    try {
      setTested(await api.profileTestPostgres(form));
    } catch (e) {
      setError(asCommandError(e));
    } finally {
      setBusy(null);
    }
  };
  const saveProfile = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy("save");
    try {
      await api.profileSavePostgres(form);
      toast(`Profile ${form.name} saved`);
      onSaved();
      onClose();
    } catch (err) {
      setError(asCommandError(err));
      setBusy(null);
    }
  };
  return (
    <Modal title="Add a PostgreSQL profile" onClose={onClose} footer={<>
      <button className="ghost" onClick={onClose}>Cancel</button>
      <button onClick={test} disabled={!!busy} aria-label="Test connection">{busy === "test" ? "Testing…" : "Test connection"}</button>
      <button className="primary" form="profile-form" disabled={!!busy || !tested} title={tested ? "" : "Test the connection first"}>Save</button>
    </>}>
      <form id="profile-form" onSubmit={saveProfile} autoComplete="off" className="grid-form">
        <Field label="Name" error={fieldError(error, "name")}><input aria-label="Profile name" value={form.name} onChange={set("name")} placeholder="Production portal" /></Field>
        <Field label="Host" error={fieldError(error, "host")}><input aria-label="Host" value={form.host} onChange={set("host")} /></Field>
        <Field label="Port" error={fieldError(error, "port")}><input aria-label="Port" type="number" value={form.port} onChange={set("port")} /></Field>
        <Field label="Database" error={fieldError(error, "database")}><input aria-label="Database" value={form.database} onChange={set("database")} /></Field>
        <Field label="User" error={fieldError(error, "user")}><input aria-label="User" value={form.user} onChange={set("user")} /></Field>
        <Field label="Password" hint="Stored in the OS keychain"><input aria-label="Password" type="password" value={form.password ?? ""} onChange={set("password")} /></Field>
        <Field label="TLS" error={fieldError(error, "tls")} hint={TLS_CHOICES[form.tls].hint}>
          <select aria-label="TLS" value={form.tls} onChange={set("tls")}>
            {(Object.keys(TLS_CHOICES) as TlsMode[]).map((m) => <option key={m} value={m}>{TLS_CHOICES[m].label}</option>)}
          </select>
        </Field>
      </form>
      {tested && <p><Badge tone="good">Connected</Badge> <span className="small muted">{tested}</span></p>}
      {error && !error.fields.length && <ErrorState error={error} />}
    </Modal>
  );
}
