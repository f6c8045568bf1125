// What the incident screens share: severity and status chips, the live SLA badge, the
// organisation names, durations. Nothing here decides anything: the SLA clocks come computed from
// the portal, and the badge only counts their remaining time down between two reads.
import { createContext, useContext, useEffect, useState } from "react";
import { api, type Client, type ClockState, type IncidentStatus, type Severity } from "../../api";
import { useCan } from "../../access";
import { Badge, type Tone } from "../../ui";

export const SEVERITIES: Severity[] = ["sev1", "sev2", "sev3", "sev4"];

export function SeverityChip({ severity }: { severity: Severity }) {
  return <span className={`sev-chip ${severity}`} title={SEVERITY_HINT[severity]}>{severity.toUpperCase()}</span>;
}

export const SEVERITY_HINT: Record<Severity, string> = {
  sev1: "sev1 — critical: the service is down for many",
  sev2: "sev2 — major: a key feature is broken",
  sev3: "sev3 — minor: degraded, a workaround exists",
  sev4: "sev4 — low: cosmetic or a question",
};

const STATUS_TONE: Record<IncidentStatus, Tone> = { open: "bad", acknowledged: "info", waiting: "warn", resolved: "good", closed: "muted" };
export const STATUS_LABEL: Record<IncidentStatus, string> = { open: "open", acknowledged: "acknowledged", waiting: "waiting on customer", resolved: "resolved", closed: "closed" };

/** An incident's status; `short` says "waiting" for "waiting on customer" (in tables). */
export function StatusBadge({ status, short }: { status: IncidentStatus; short?: boolean }) {
  return <span title={STATUS_LABEL[status]}><Badge tone={STATUS_TONE[status]}>{short ? status : STATUS_LABEL[status]}</Badge></span>;
}

/** The current time, re-rendering every `everyMs` (for countdowns). */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

/** A duration for people: `2d 3h`, `3h 05m`, `14:32` (minutes and seconds under an hour). */
export function fmtDuration(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, "0")}m`;
  return `${m}:${String(s % 60).padStart(2, "0")}`;
}

/** A target in minutes for people: `15 min`, `4 h`, `3 d`, `1 h 30 min`. */
export function fmtMinutes(mins: number): string {
  if (mins % 1440 === 0) return `${mins / 1440} d`;
  if (mins >= 60) return mins % 60 ? `${Math.floor(mins / 60)} h ${mins % 60} min` : `${mins / 60} h`;
  return `${mins} min`;
}

/** Whether the portal says the clock is counting (its remaining time goes down until the next read). */
const counting = (c: ClockState) => c.status === "running" || c.status === "at_risk";

/** What a clock shows `now`, given when the portal computed it (`readAt`). */
export function clockView(c: ClockState, readAt: number, now: number): { tone: Tone; state: string; text: string; remaining: number } {
  const remaining = counting(c) ? c.remaining_ms - (now - readAt) : c.remaining_ms;
  switch (c.status) {
    case "met": return { tone: "good", state: "met", text: `met in ${fmtSpan(c.elapsed_ms)}`, remaining };
    case "paused": return { tone: "muted", state: "paused", text: `paused · ${fmtDuration(remaining)} left`, remaining };
    case "breached": return { tone: "bad", state: "breached", text: c.breached_at ? `breached ${fmtSpan(now - new Date(c.breached_at).getTime())} ago` : "breached", remaining };
    case "running":
    case "at_risk":
      // The time the portal gave ran out since it was read: over by the difference, until the next read.
      if (remaining <= 0) return { tone: "bad", state: "breached", text: `breached ${fmtSpan(-remaining)} ago`, remaining };
      return c.status === "at_risk"
        ? { tone: "warn", state: "at risk", text: `${fmtDuration(remaining)} left`, remaining }
        : { tone: "info", state: "running", text: `${fmtDuration(remaining)} left`, remaining };
  }
}

/** One SLA clock as a badge that counts down. */
export function SlaBadge({ label, clock, readAt, now }: { label: string; clock: ClockState; readAt: number; now: number }) {
  const v = clockView(clock, readAt, now);
  return <span className={`badge sla ${v.tone}`} title={`${label} SLA ${v.state}`} aria-label={`${label} SLA ${v.state}: ${v.text}`}>{label} · {v.text}</span>;
}

/** Organisation names by id, for the roles that may read clients (others see short ids). */
export type Orgs = { list: Client[]; name: (id: string | null) => string };
const OrgContext = createContext<Orgs>({ list: [], name: (id) => (id ? id.slice(0, 8) : "—") });
export const useOrgs = () => useContext(OrgContext);

export function OrgProvider({ children }: { children: React.ReactNode }) {
  const canRead = useCan()("read_clients");
  const [list, setList] = useState<Client[]>([]);
  useEffect(() => {
    if (!canRead) return;
    let live = true;
    (async () => {
      const all: Client[] = [];
      let cursor: string | null = null;
      // Up to 2,000 organisations: enough for the filter and the names; others show their id.
      for (let i = 0; i < 4; i++) {
        const page = await api.clientsList({ search: null, limit: 500, cursor });
        all.push(...page.items);
        cursor = page.next_cursor;
        if (!cursor) break;
      }
      if (live) setList(all.sort((a, b) => a.name.localeCompare(b.name)));
    })().catch(() => {});
    return () => { live = false; };
  }, [canRead]);
  const byId = new Map(list.map((c) => [c.id, c.name]));
  const name = (id: string | null) => (id ? byId.get(id) ?? id.slice(0, 8) : "—");
  return <OrgContext.Provider value={{ list, name }}>{children}</OrgContext.Provider>;
}

/**
 * A new id for an incident or a change, so a retry is recognised rather than applied twice: a
 * UUIDv7 (the portal's recommendation), i.e. 48 bits of Unix milliseconds, then random bits.
 */
export function newId(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  let ms = Date.now();
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  b[6] = (b[6] & 0x0f) | 0x70; // version 7
  b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A status change a person can ask for, and its button's label. */
export type Transition = { command: "acknowledge" | "wait" | "resume" | "resolve" | "close" | "reopen"; label: string; done: string };

const T: Record<Transition["command"], Transition> = {
  acknowledge: { command: "acknowledge", label: "Acknowledge", done: "Acknowledged" },
  wait: { command: "wait", label: "Wait on customer", done: "Waiting on the customer: the resolve clock is paused" },
  resume: { command: "resume", label: "Resume", done: "Resumed: the resolve clock runs again" },
  resolve: { command: "resolve", label: "Resolve", done: "Resolved" },
  close: { command: "close", label: "Close", done: "Closed" },
  reopen: { command: "reopen", label: "Reopen", done: "Reopened" },
};

/**
 * The status changes to offer for an incident in `status` (the portal's state machine, as
 * documented in `domain::incident::transitions`). Only which buttons to show: the portal decides,
 * and a change it refuses comes back as a conflict shown as it is.
 */
export function transitionsFor(status: IncidentStatus): Transition[] {
  switch (status) {
    case "open": return [T.acknowledge, T.resolve];
    case "acknowledged": return [T.resolve, T.wait];
    case "waiting": return [T.resume, T.resolve];
    case "resolved": return [T.close, T.reopen];
    case "closed": return [T.reopen];
  }
}

/** A measured duration for people, rounded to what matters: `45 s`, `12 min`, `3 h 05 min`, `2 d 3 h`. */
export function fmtSpan(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${String(m % 60).padStart(2, "0")} min` : `${h} h`;
  return h % 24 ? `${Math.floor(h / 24)} d ${h % 24} h` : `${Math.floor(h / 24)} d`;
}

/** When, briefly: `14:05` today, `Nov 30, 14:05` before. */
export function fmtWhen(ts: string): string {
  const d = new Date(ts);
  const time = d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  if (d.toDateString() === new Date().toDateString()) return time;
  return `${d.toLocaleDateString(undefined, { month: "short", day: "numeric" })}, ${time}`;
}
