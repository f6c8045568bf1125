import { useEffect, useState } from "react";
import { api, asCommandError, type ChainReport, type CommandError, type DayActivity } from "../api";
import { useNav, useTheme } from "../App";
import { Badge, ErrorState, Loading, PageHeader, SvgChart, useAsync } from "../ui";
import { useCan } from "../access";
import { SEVERITIES, fmtSpan } from "./incidents/common";

export function OverviewPage() {
  const can = useCan();
  // The overview's keys, OIDC and integration counts need read_keys; a role without it (support)
  // sees the incident cards only.
  if (!can("read_keys")) {
    return (
      <div className="page">
        <PageHeader title="Overview" />
        {can("read_incidents") && <IncidentCards />}
      </div>
    );
  }
  return <KeyOverview incidents={can("read_incidents")} />;
}

function KeyOverview({ incidents }: { incidents: boolean }) {
  const can = useCan();
  const { go } = useNav();
  const { data, error, loading, reload } = useAsync(() => api.overviewGet(), []);
  if (loading && !data) return <div className="page"><PageHeader title="Overview" /><Loading /></div>;
  if (error) return <div className="page"><PageHeader title="Overview" /><ErrorState error={error} onRetry={reload} /></div>;
  if (!data) return null;
  const k = data.keys;
  const cards: { label: string; value: number; tone?: "warn" | "bad"; onClick: () => void; hint: string }[] = [
    { label: "Active keys", value: k.active, onClick: () => go("keys", { status: "active" }), hint: "federation keys that verify today" },
    { label: "Expiring within 7 days", value: k.expiring_within_7_days, tone: k.expiring_within_7_days ? "warn" : undefined, onClick: () => go("keys", { expiring: "7" }), hint: "rotate them before partners break" },
    { label: "Unused for 30 days", value: k.unused_for_30_days, tone: k.unused_for_30_days ? "warn" : undefined, onClick: () => go("keys", { unused: "30" }), hint: "candidates for revocation" },
    { label: "Enabled OIDC configurations", value: data.enabled_oidc_configs, onClick: () => go("oidc"), hint: "sign-in providers in use" },
    { label: "Integrations in error", value: data.integrations_in_error, tone: data.integrations_in_error ? "bad" : undefined, onClick: () => go("integrations"), hint: `of ${data.integrations_total} integrations` },
  ];
  return (
    <div className="page">
      <PageHeader title="Overview" subtitle={`${data.clients} clients · ${data.audit_events} audit events`} actions={<button onClick={reload}>Refresh</button>} />
      {incidents && <IncidentCards />}
      <div className="cards">
        {cards.map((c) => (
          <button key={c.label} className={`card stat ${c.tone ?? ""}`} onClick={c.onClick} aria-label={`${c.label}: ${c.value}`}>
            <span className="value">{c.value}</span>
            <span className="label">{c.label}</span>
            <small>{c.hint}</small>
          </button>
        ))}
        {/* Walking the whole chain is an admin's read: other roles see no card rather than an error. */}
        {can("verify_audit") && <ChainCard />}
      </div>
      <section className="panel">
        <h2>Key activity, last 30 days</h2>
        <Chart activity={data.activity} />
      </section>
    </div>
  );
}

function ChainCard() {
  const { go } = useNav();
  const [report, setReport] = useState<ChainReport>();
  const [error, setError] = useState<CommandError>();
  useEffect(() => {
    let live = true;
    api.auditVerify().then((r) => live && setReport(r), (e) => live && setError(asCommandError(e)));
    return () => { live = false; };
  }, []);
  return (
    <button className={`card stat ${report?.first_broken ? "bad" : ""}`} onClick={() => go("audit")} aria-label="Audit chain status">
      <span className="value small">
        {!report && !error && "Checking…"}
        {report && !report.first_broken && <Badge tone="good">Intact</Badge>}
        {report?.first_broken && <Badge tone="bad">Broken at #{report.first_broken.seq}</Badge>}
        {error && <Badge tone="bad">Unknown</Badge>}
      </span>
      <span className="label">Audit chain</span>
      <small>{report ? `${report.checked} events verified` : error ? error.message : "verifying every hash"}</small>
    </button>
  );
}

/** Draws the activity the page already has: the overview is fetched once, not again for the chart. */
function Chart({ activity }: { activity: DayActivity[] }) {
  const { dark } = useTheme();
  return <SvgChart draw={(d, width) => api.overviewChart(activity, d, width, 280)} dark={dark} deps={[activity]} label="Keys created and verifications per day over the last 30 days" />;
}

/** Monday 00:00 of this week, local time. */
function startOfWeek(): Date {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  d.setDate(d.getDate() - ((d.getDay() + 6) % 7));
  return d;
}

/** Active incidents by severity, at risk, breached, and this week's MTTA / MTTR (all from the portal). */
function IncidentCards() {
  const { go } = useNav();
  const counts = useAsync(() => api.incidentCounts(), []);
  const metrics = useAsync(() => api.incidentMetrics({ from: startOfWeek().toISOString(), to: null, org_id: null }), []);
  if (counts.error) return <section className="overview-incidents" aria-label="Incidents"><ErrorState error={counts.error} onRetry={counts.reload} /></section>;
  const c = counts.data;
  const m = metrics.data?.overall;
  const active = c ? c.active_by_severity.reduce((n, s) => n + s.count, 0) : null;
  const bySeverity = (sev: string) => c?.active_by_severity.find((s) => s.severity === sev)?.count ?? 0;
  const span = (ms: number | null | undefined) => (ms == null ? "—" : fmtSpan(ms));
  return (
    <section className="overview-incidents" aria-label="Incidents">
      <div className="cards incident-cards">
        <button className={`card stat ${bySeverity("sev1") ? "bad" : ""}`} onClick={() => go("incidents")} aria-label={`Active incidents: ${active ?? "loading"}`}>
          <span className="value">{active ?? "…"}</span>
          <span className="label">Active incidents</span>
          <span className="sev-counts">{SEVERITIES.map((s) => <span key={s} className={`sev-chip ${s} ${bySeverity(s) ? "" : "zero"}`}>{s.toUpperCase()} {bySeverity(s)}</span>)}</span>
        </button>
        <button className={`card stat ${c?.at_risk ? "warn" : ""}`} onClick={() => go("incidents", { sla: "at_risk" })} aria-label={`SLA at risk: ${c?.at_risk ?? "loading"}`}>
          <span className="value">{c?.at_risk ?? "…"}</span>
          <span className="label">SLA at risk</span>
          <small>past the at-risk share of a target</small>
        </button>
        <button className={`card stat ${c?.breached ? "bad" : ""}`} onClick={() => go("incidents", { sla: "breached" })} aria-label={`SLA breached: ${c?.breached ?? "loading"}`}>
          <span className="value">{c?.breached ?? "…"}</span>
          <span className="label">SLA breached</span>
          <small>active incidents past a target</small>
        </button>
        <button className="card stat" onClick={() => go("incidents", { status: "any" })} aria-label={`Mean time to acknowledge this week: ${span(m?.mtta_mean_ms)}`}>
          <span className="value metric">{metrics.error ? "?" : span(m?.mtta_mean_ms)}</span>
          <span className="label">MTTA this week</span>
          <small>{metrics.error ? metrics.error.message : m ? `median ${span(m.mtta_median_ms)} · ${m.acknowledged} of ${m.count} acknowledged` : "…"}</small>
        </button>
        <button className="card stat" onClick={() => go("incidents", { status: "done" })} aria-label={`Mean time to resolve this week: ${span(m?.mttr_mean_ms)}`}>
          <span className="value metric">{metrics.error ? "?" : span(m?.mttr_mean_ms)}</span>
          <span className="label">MTTR this week</span>
          <small>{metrics.error ? metrics.error.message : m ? `median ${span(m.mttr_median_ms)} · ${m.resolved} of ${m.count} resolved` : "…"}</small>
        </button>
      </div>
    </section>
  );
}
