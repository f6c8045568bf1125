// Shared building blocks: async state, loading/empty/error states, modals, toasts, tables.
import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from "react";
import { asCommandError, type CommandError, type ErrorCode, type Page } from "./api";

/**
 * The stale-response guard: `const current = latest()` before a request, and apply its answer
 * only while `current()` holds, i.e. no later request was started since. A slow answer to an old
 * filter can then never overwrite the answer to the new one.
 */
function useLatest() {
  const counter = useRef(0);
  return useCallback(() => {
    const n = ++counter.current;
    return () => n === counter.current;
  }, []);
}

export function useAsync<T>(load: () => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ data?: T; error?: CommandError; loading: boolean }>({ loading: true });
  const latest = useLatest();
  const reload = useCallback(() => {
    const current = latest();
    setState((s) => ({ ...s, loading: true, error: undefined }));
    load().then(
      (data) => current() && setState({ data, loading: false }),
      (e) => current() && setState({ error: asCommandError(e), loading: false }),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(reload, [reload]);
  return { ...state, reload };
}

type Paged<T> = { items: T[]; cursor: string | null; loading: boolean; error?: CommandError };

/**
 * A keyset-paginated list: the first page whenever `deps` change (after `delayMs`, so typing in
 * a search box sends one request), `more()` for the next one, `reload()` after a change. Guarded
 * like `useAsync`: only the answer to the latest request is shown.
 */
export function usePaged<T>(fetchPage: (cursor: string | null) => Promise<Page<T>>, deps: unknown[], delayMs = 0) {
  const [state, setState] = useState<Paged<T>>({ items: [], cursor: null, loading: true });
  const latest = useLatest();
  const busy = useRef(false);
  const load = useCallback((after: string | null) => {
    const current = latest();
    busy.current = true;
    setState((s) => ({ ...s, loading: true, error: undefined }));
    fetchPage(after).then(
      (page) => {
        if (!current()) return;
        busy.current = false;
        setState((s) => ({ items: after ? [...s.items, ...page.items] : page.items, cursor: page.next_cursor, loading: false }));
      },
      (e) => {
        if (!current()) return;
        busy.current = false;
        setState((s) => ({ ...s, error: asCommandError(e), loading: false }));
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(() => {
    const t = setTimeout(() => load(null), delayMs);
    return () => clearTimeout(t);
  }, [load, delayMs]);
  const reload = useCallback(() => load(null), [load]);
  const { cursor } = state;
  /** The next page; nothing while a request is in flight or at the end. */
  const more = useCallback(() => {
    if (cursor && !busy.current) load(cursor);
  }, [cursor, load]);
  const setItems = useCallback((f: (items: T[]) => T[]) => setState((s) => ({ ...s, items: f(s.items) })), []);
  return { ...state, reload, more, setItems };
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="state" role="status" aria-live="polite">
      <span className="spinner" aria-hidden /> {label}
    </div>
  );
}

export function ErrorState({ error, onRetry }: { error: CommandError; onRetry?: () => void }) {
  return (
    <div className="state error" role="alert">
      <strong>{errorTitle(error)}</strong>
      <p>{error.message}</p>
      {onRetry && <button onClick={onRetry}>Try again</button>}
    </div>
  );
}

/** The heading of an error. Exhaustive over the generated `ErrorCode`: a new code fails the build here. */
export function errorTitle(e: CommandError): string {
  const code: ErrorCode = e.code;
  switch (code) {
    case "invalid": return "Please check the highlighted fields";
    case "not_found": return "Not found";
    case "conflict": return "That conflicts with the current state";
    case "forbidden": return "Not allowed";
    case "unauthenticated": return "Not accepted";
    case "unavailable": return "Cannot reach the data";
    case "rate_limited": return "Too many requests";
    case "internal": return "Something went wrong";
    default: {
      // Only a value of type `never` fits here: a code added in Rust and not handled above
      // stops the build. (At run time, an unknown code still gets a heading.)
      const unhandled: never = code;
      return `Something went wrong (${String(unhandled)})`;
    }
  }
}

export function Empty({ title, hint, action }: { title: string; hint?: string; action?: ReactNode }) {
  return (
    <div className="state empty">
      <strong>{title}</strong>
      {hint && <p>{hint}</p>}
      {action}
    </div>
  );
}

export type Tone = "good" | "bad" | "warn" | "muted" | "info";
export function Badge({ tone, children }: { tone: Tone; children: ReactNode }) {
  return <span className={`badge ${tone}`}>{children}</span>;
}

export function Modal({ title, onClose, children, footer, wide }: { title: string; onClose: () => void; children: ReactNode; footer?: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    const first = ref.current?.querySelector<HTMLElement>("input, select, textarea, button:not(.close)");
    first?.focus();
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => {
      window.removeEventListener("keydown", onKey);
      previous?.focus?.();
    };
  }, [onClose]);
  return (
    <div className="backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className={`modal ${wide ? "wide" : ""}`} role="dialog" aria-modal="true" aria-label={title} ref={ref}>
        <header>
          <h2>{title}</h2>
          <button className="close ghost" aria-label="Close" onClick={onClose}>×</button>
        </header>
        <div className="body">{children}</div>
        {footer && <footer>{footer}</footer>}
      </div>
    </div>
  );
}

export function Confirm({ title, message, confirmLabel, danger, onConfirm, onClose }: {
  title: string; message: ReactNode; confirmLabel: string; danger?: boolean; onConfirm: () => Promise<void>; onClose: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError>();
  const go = async () => {
    setBusy(true);
    try {
      await onConfirm();
      onClose();
    } catch (e) {
      setError(asCommandError(e));
      setBusy(false);
    }
  };
  return (
    <Modal title={title} onClose={onClose} footer={<>
      <button className="ghost" onClick={onClose}>Cancel</button>
      <button className={danger ? "danger" : "primary"} disabled={busy} onClick={go}>{busy ? "Working…" : confirmLabel}</button>
    </>}>
      <div>{message}</div>
      {error && <ErrorState error={error} />}
    </Modal>
  );
}

type Toast = { id: number; text: string; tone: Tone };
const ToastContext = createContext<(text: string, tone?: Tone) => void>(() => {});
export const useToast = () => useContext(ToastContext);

export function Toasts({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const push = useCallback((text: string, tone: Tone = "good") => {
    const id = Date.now() + Math.random();
    setToasts((t) => [...t, { id, text, tone }]);
    setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), 4500);
  }, []);
  return (
    <ToastContext.Provider value={push}>
      {children}
      <div className="toasts" role="status" aria-live="polite">
        {toasts.map((t) => <div key={t.id} className={`toast ${t.tone}`}>{t.text}</div>)}
      </div>
    </ToastContext.Provider>
  );
}

export function Field({ label, error, hint, children }: { label: string; error?: string; hint?: string; children: ReactNode }) {
  return (
    <label className={`field ${error ? "has-error" : ""}`}>
      <span>{label}</span>
      {children}
      {hint && !error && <small>{hint}</small>}
      {error && <small className="field-error">{error}</small>}
    </label>
  );
}

/** The message of the field `name` in a command error, if it names it. */
export function fieldError(e: CommandError | undefined, name: string): string | undefined {
  return e?.fields.find((f) => f.field === name)?.message;
}

export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button onClick={async () => {
      try {
        await navigator.clipboard.writeText(text);
      } catch {
        const area = document.createElement("textarea");
        area.value = text;
        document.body.appendChild(area);
        area.select();
        document.execCommand("copy");
        area.remove();
      }
      setDone(true);
      setTimeout(() => setDone(false), 2000);
    }}>{done ? "Copied" : label}</button>
  );
}

export function fmtTime(ts: string | null | undefined): string {
  if (!ts) return "—";
  const d = new Date(ts);
  return d.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

export function fmtDate(ts: string | null | undefined): string {
  if (!ts) return "—";
  return new Date(ts).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

export function relTime(ts: string | null | undefined): string {
  if (!ts) return "never";
  const diff = (new Date(ts).getTime() - Date.now()) / 1000;
  const abs = Math.abs(diff);
  const [v, u] = abs < 90 ? [abs, "s"] : abs < 5400 ? [abs / 60, "min"] : abs < 129600 ? [abs / 3600, "h"] : [abs / 86400, "d"];
  const n = Math.round(v);
  return diff < 0 ? `${n} ${u} ago` : `in ${n} ${u}`;
}

/** Arrow keys move between rows of a table; Enter opens the focused row. */
export function onRowKey(e: React.KeyboardEvent<HTMLElement>, open?: () => void) {
  const row = e.currentTarget;
  if (e.key === "ArrowDown") {
    (row.nextElementSibling as HTMLElement | null)?.focus();
    e.preventDefault();
  } else if (e.key === "ArrowUp") {
    (row.previousElementSibling as HTMLElement | null)?.focus();
    e.preventDefault();
  } else if (e.key === "Enter" && open && e.target === row) {
    open();
    e.preventDefault();
  }
}

export function PageHeader({ title, subtitle, actions }: { title: string; subtitle?: string; actions?: ReactNode }) {
  return (
    <div className="page-header">
      <div>
        <h1>{title}</h1>
        {subtitle && <p className="subtitle">{subtitle}</p>}
      </div>
      <div className="actions">{actions}</div>
    </div>
  );
}

/**
 * A chart the app draws (plotters SVG in the theme): `draw(dark, width)` asks for it whenever the
 * theme (`dark`) or `deps` change; the page shows the SVG, a spinner meanwhile, or the error.
 */
export function SvgChart({ draw, dark, deps, label }: { draw: (dark: boolean, width: number) => Promise<string>; dark: boolean; deps: unknown[]; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [svg, setSvg] = useState<string>();
  const [error, setError] = useState<CommandError>();
  useEffect(() => {
    let live = true;
    const width = Math.max(480, Math.round(box.current?.clientWidth ?? 900));
    setError(undefined);
    draw(dark, width).then((s) => live && setSvg(s), (e) => live && setError(asCommandError(e)));
    return () => { live = false; };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [dark, ...deps]);
  return (
    <div ref={box} className="chart" role="img" aria-label={label}>
      {error ? <ErrorState error={error} /> : svg ? <div dangerouslySetInnerHTML={{ __html: svg }} /> : <Loading label="Drawing…" />}
    </div>
  );
}
