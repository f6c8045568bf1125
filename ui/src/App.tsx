// The shell: sidebar, header with the current profile, first-run choice, command palette.
import { Component, createContext, useCallback, useContext, useEffect, useRef, useState, type ErrorInfo, type ReactNode } from "react";
import { api, asCommandError, type CommandError, type Permission, type SessionInfo } from "./api";
import { Icon } from "./icons";
import { Palette } from "./palette";
import { ErrorState, Loading, Toasts, useToast } from "./ui";
import { OverviewPage } from "./pages/Overview";
import { KeysPage } from "./pages/Keys";
import { OidcPage } from "./pages/Oidc";
import { IntegrationsPage } from "./pages/Integrations";
import { ClientsPage } from "./pages/Clients";
import { IncidentsPage } from "./pages/Incidents";
import { AuditPage } from "./pages/Audit";
import { AnalyticsPage } from "./pages/Analytics";
import { SettingsPage } from "./pages/Settings";
import { SyncPage } from "./pages/Sync";
import { SyncIndicator, SyncProvider, useSync } from "./sync";

export type PageId = "overview" | "incidents" | "analytics" | "keys" | "oidc" | "integrations" | "clients" | "audit" | "sync" | "settings";
export type Params = Record<string, string | undefined>;

/** The pages, and what a role needs to see one in the navigation (any of `needs`). */
export const PAGES: { id: PageId; label: string; needs?: Permission[] }[] = [
  { id: "overview", label: "Overview", needs: ["read_keys", "read_incidents"] },
  { id: "incidents", label: "Incidents", needs: ["read_incidents"] },
  { id: "analytics", label: "Analytics", needs: ["read_revenue", "read_usage"] },
  { id: "keys", label: "Federation keys", needs: ["read_keys"] },
  { id: "oidc", label: "OIDC", needs: ["read_oidc"] },
  { id: "integrations", label: "Integrations", needs: ["read_integrations"] },
  { id: "clients", label: "Clients", needs: ["read_clients"] },
  { id: "audit", label: "Audit", needs: ["read_audit"] },
  { id: "sync", label: "Sync", needs: ["read_incidents"] },
  { id: "settings", label: "Settings" },
];

/**
 * The pages the session's role may read. Before a session is known (or while a portal profile
 * waits for sign-in) every page is listed: each then shows the sign-in or the error.
 */
export function visiblePages(session?: SessionInfo) {
  if (!session || session.needs_sign_in) return PAGES;
  return PAGES.filter((p) => !p.needs || p.needs.some((n) => session.permissions.includes(n)));
}

/** Where a session starts: the overview, or Incidents for a role that reads incidents but not keys (support). */
function landing(s: SessionInfo): PageId {
  const can = (p: Permission) => s.permissions.includes(p);
  return !s.needs_sign_in && !can("read_keys") && can("read_incidents") ? "incidents" : "overview";
}

type Nav = { page: PageId; params: Params; go: (page: PageId, params?: Params) => void; session?: SessionInfo; reloadSession: () => void };
const NavContext = createContext<Nav>({ page: "overview", params: {}, go: () => {}, reloadSession: () => {} });
export const useNav = () => useContext(NavContext);

/** What the sidebar says about the open profile. */
function profileLine(s: SessionInfo): string {
  switch (s.profile.connection.kind) {
    case "embedded": return "Embedded SQLite";
    case "postgres": return "Direct PostgreSQL";
    case "portal": return s.user ? `${s.user.name} · ${s.user.role}` : "Portal API · not signed in";
  }
}

type ThemeChoice = "system" | "light" | "dark";
const ThemeContext = createContext<{ choice: ThemeChoice; dark: boolean; set: (c: ThemeChoice) => void }>({ choice: "system", dark: false, set: () => {} });
export const useTheme = () => useContext(ThemeContext);

function useThemeState() {
  const [choice, setChoice] = useState<ThemeChoice>(() => (localStorage.getItem("theme") as ThemeChoice) || "system");
  const media = window.matchMedia("(prefers-color-scheme: dark)");
  const [systemDark, setSystemDark] = useState(media.matches);
  useEffect(() => {
    const on = (e: MediaQueryListEvent) => setSystemDark(e.matches);
    media.addEventListener("change", on);
    return () => media.removeEventListener("change", on);
  }, [media]);
  const dark = choice === "dark" || (choice === "system" && systemDark);
  useEffect(() => {
    document.documentElement.dataset.theme = dark ? "dark" : "light";
  }, [dark]);
  const set = (c: ThemeChoice) => {
    localStorage.setItem("theme", c);
    setChoice(c);
  };
  return { choice, dark, set };
}

export function App() {
  const theme = useThemeState();
  return (
    <ThemeContext.Provider value={theme}>
      <Toasts>
        <Crashed>
          <Shell />
        </Crashed>
      </Toasts>
    </ThemeContext.Provider>
  );
}

/** A rendering bug shows a message (and is logged) instead of a blank window. */
class Crashed extends Component<{ children: ReactNode }, { error?: Error }> {
  state: { error?: Error } = {};
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  componentDidCatch(error: Error, info: ErrorInfo) {
    api.uiError(`${error.message}\n${error.stack ?? ""}\n${info.componentStack ?? ""}`).catch(() => {});
  }
  render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="page" role="alert">
        <h1>Something went wrong in this window</h1>
        <p className="subtitle">The error was written to the log. Your data is safe: reload the window to continue.</p>
        <pre className="mono small">{this.state.error.message}</pre>
        <button className="primary" onClick={() => location.reload()}>Reload</button>
      </div>
    );
  }
}

function Shell() {
  const [page, setPage] = useState<PageId>("overview");
  const [params, setParams] = useState<Params>({});
  const [session, setSession] = useState<SessionInfo>();
  const [error, setError] = useState<CommandError>();
  const [paletteOpen, setPaletteOpen] = useState(false);
  const go = useCallback((p: PageId, ps: Params = {}) => {
    setPage(p);
    setParams({ ...ps, nonce: String(Date.now()) });
  }, []);
  // A new profile or user starts on its landing page.
  const who = useRef<string>(undefined);
  const adopt = useCallback((s: SessionInfo) => {
    const key = `${s.profile.id}/${s.user?.id ?? ""}`;
    if (who.current !== key) {
      who.current = key;
      setPage((p) => (p === "overview" ? landing(s) : p));
    }
    setSession(s);
  }, []);
  const reloadSession = useCallback(() => {
    setError(undefined);
    api.sessionInfo().then(adopt, setError);
  }, [adopt]);
  useEffect(reloadSession, [reloadSession]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "k") {
        e.preventDefault();
        setPaletteOpen((o) => !o);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  // Tell the shell once the first real page (or the first-run choice) is on screen.
  const reported = useRef(false);
  useEffect(() => {
    if ((session || error) && !reported.current) {
      reported.current = true;
      requestAnimationFrame(() => api.uiReady().catch(() => {}));
    }
  }, [session, error]);

  const nav: Nav = { page, params, go, session, reloadSession };
  let content;
  if (error) {
    content = (
      <main className="content"><div className="page">
        <h1>Cannot open the workspace</h1>
        <ErrorState error={error} onRetry={reloadSession} />
        <p className="muted">You can switch to another connection profile in <a href="#" onClick={(e) => { e.preventDefault(); setError(undefined); setPage("settings"); }}>Settings</a>.</p>
      </div></main>
    );
    if (page === "settings") content = <main className="content"><SettingsPage /></main>;
  } else if (!session) {
    content = <main className="content"><Loading label="Opening the workspace…" /></main>;
  } else if (session.first_run) {
    content = <main className="content"><Onboarding onDone={reloadSession} /></main>;
  } else if (session.needs_sign_in && page !== "settings") {
    content = <main className="content"><SignIn session={session} onDone={adopt} /></main>;
  } else {
    content = (
      <main className="content" key={`${session.profile.id}-${params.nonce ?? ""}`}>
        {page === "overview" && <OverviewPage />}
        {page === "incidents" && <IncidentsPage />}
        {page === "keys" && <KeysPage />}
        {page === "oidc" && <OidcPage />}
        {page === "integrations" && <IntegrationsPage />}
        {page === "clients" && <ClientsPage />}
        {page === "audit" && <AuditPage />}
        {page === "analytics" && <AnalyticsPage />}
        {page === "sync" && <SyncPage />}
        {page === "settings" && <SettingsPage />}
      </main>
    );
  }
  const syncing = !!session && !session.needs_sign_in && !session.first_run;
  return (
    <NavContext.Provider value={nav}>
      <SyncProvider active={syncing} key={session?.profile.id ?? "none"}>
      <div className="shell">
        <nav className="sidebar" aria-label="Main">
          <div className="brand"><span className="logo" aria-hidden>PA</span> Provider Admin</div>
          <NavPages session={session} page={page} go={go} />
          <div className="sidebar-foot">
            {syncing && <SyncIndicator onOpen={() => go("sync")} />}
            <button className="palette-button" onClick={() => setPaletteOpen(true)} aria-label="Open the command palette">
              <Icon name="search" /><span>Search & commands</span><kbd>Ctrl K</kbd>
            </button>
            <div className="profile-badge" title={session?.location} aria-label="Current profile">
              <span className={`dot ${session ? "on" : error ? "off" : ""}`} aria-hidden />
              <div>
                <strong>{session?.profile.name ?? "Not connected"}</strong>
                <small aria-label="Signed in as">{session ? profileLine(session) : error ? "Connection failed" : "Connecting…"}</small>
              </div>
            </div>
          </div>
        </nav>
        {content}
        {paletteOpen && <Palette onClose={() => setPaletteOpen(false)} />}
      </div>
      </SyncProvider>
    </NavContext.Provider>
  );
}

/** The navigation: the pages the role may read (Sync only where the profile has a replica). */
function NavPages({ session, page, go }: { session?: SessionInfo; page: PageId; go: (p: PageId) => void }) {
  const { status } = useSync();
  return (
    <ul>
      {visiblePages(session).filter((p) => p.id !== "sync" || status).map((p) => (
        <li key={p.id}>
          <button className={page === p.id ? "active" : ""} aria-current={page === p.id ? "page" : undefined} onClick={() => go(p.id)}>
            <Icon name={p.id} />{p.label}
          </button>
        </li>
      ))}
    </ul>
  );
}

function SignIn({ session, onDone }: { session: SessionInfo; onDone: (s: SessionInfo) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError>();
  const conn = session.profile.connection;
  const issuer = conn.kind === "portal" ? conn.issuer : "";
  const start = async () => {
    setBusy(true);
    setError(undefined);
    try {
      onDone(await api.portalSignIn());
    } catch (e) {
      setError(asCommandError(e));
      setBusy(false);
    }
  };
  return (
    <div className="page onboarding" aria-label="Sign in">
      <h1>Sign in to {session.profile.name}</h1>
      <p className="subtitle">This profile works through the portal API at <span className="mono">{session.location}</span>. Sign in with your organisation's identity provider; your session is kept in the OS keychain.</p>
      {busy ? (
        <div className="panel">
          <Loading label="Waiting for your browser… finish signing in there, then come back." />
          <button onClick={() => api.portalSignInCancel()}>Cancel</button>
        </div>
      ) : (
        <button className="primary" onClick={start} aria-label="Sign in with the identity provider">Sign in with {issuer.replace(/^https?:\/\//, "")}</button>
      )}
      {error && <ErrorState error={error} />}
    </div>
  );
}

function Onboarding({ onDone }: { onDone: () => void }) {
  const [busy, setBusy] = useState<string>();
  const [error, setError] = useState<CommandError>();
  const toast = useToast();
  const choose = async (what: "demo" | "empty") => {
    setBusy(what);
    setError(undefined);
    try {
      if (what === "demo") await api.onboardingSeedDemo();
      else await api.onboardingStartEmpty();
      toast(what === "demo" ? "Demo data loaded" : "Empty workspace ready");
      onDone();
    } catch (e) {
      setError(asCommandError(e));
      setBusy(undefined);
    }
  };
  return (
    <div className="page onboarding">
      <h1>Welcome to Provider Admin</h1>
      <p className="subtitle">This is your embedded workspace, stored on this computer. How would you like to start?</p>
      <div className="choice-grid">
        <button className="choice" disabled={!!busy} onClick={() => choose("demo")} aria-label="Load demo data">
          <strong>{busy === "demo" ? "Loading demo data…" : "Load demo data"}</strong>
          <span>50 clients, federation keys in every state, OIDC configurations, integrations and a few thousand audit events — to explore safely.</span>
        </button>
        <button className="choice" disabled={!!busy} onClick={() => choose("empty")} aria-label="Start empty">
          <strong>Start empty</strong>
          <span>An empty workspace, ready for your first federation key. You can connect to the portal's PostgreSQL in Settings.</span>
        </button>
      </div>
      {error && <ErrorState error={error} />}
    </div>
  );
}
