// Analytics: MRR and ARR with their movements (each period reconciles), growth, the top clients
// and features, and a funnel builder — all from the portal's daily snapshots, drawn by the app.
import { useEffect, useMemo, useRef, useState } from "react";
import { api, asCommandError } from "../api";
import type { Interval } from "../generated/Interval";
import type { MrrSeries } from "../generated/MrrSeries";
import type { GrowthSeries } from "../generated/GrowthSeries";
import { useNav } from "../App";
import { useCan } from "../access";
import { Empty, ErrorState, Field, Loading, PageHeader, relTime, useAsync, useToast } from "../ui";
import { Chart, ExportCsv, count, money, percent } from "./analytics/common";
import { FunnelPanel } from "./analytics/Funnel";
import { RetentionPanel } from "./analytics/Retention";

const RANGES: [string, number][] = [["Last 30 days", 30], ["Last 90 days", 90], ["Last 6 months", 182], ["Last 12 months", 365], ["Last 2 years", 730]];

/** The UTC day `days` before today, as YYYY-MM-DD. */
function daysAgo(days: number): string {
  return new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);
}

export function AnalyticsPage() {
  const can = useCan();
  const toast = useToast();
  const { params } = useNav();
  const [range, setRange] = useState(Number(params.range ?? 182));
  const [interval, setInterval] = useState<Interval>((params.interval as Interval) ?? "week");
  const [refreshing, setRefreshing] = useState(false);
  const [version, setVersion] = useState(0);
  const from = daysAgo(range - 1);
  const revenue = can("read_revenue");
  const usage = can("read_usage");
  const mrr = useAsync(() => (revenue ? api.analyticsMrr({ currency: null, from, to: null, interval }) : Promise.resolve(undefined)), [from, interval, revenue, version]);
  const growth = useAsync(() => (usage ? api.analyticsGrowth({ org_id: null, from, to: null, interval, limit: null, by: null }) : Promise.resolve(undefined)), [from, interval, usage, version]);
  const refresh = async (full: boolean) => {
    setRefreshing(true);
    try {
      const r = await api.analyticsRefresh(full);
      toast(r.from || r.usage_from ? `Recomputed ${r.days} ledger days and ${r.usage_days} usage days` : "Already up to date");
      setVersion((v) => v + 1);
    } catch (e) {
      toast(asCommandError(e).message, "bad");
    } finally {
      setRefreshing(false);
    }
  };
  const exportPdf = async () => {
    try {
      const path = await api.analyticsReportChoose();
      if (!path) return;
      toast("Writing the report…");
      const bytes = await api.analyticsExportPdf(from, null, path);
      toast(`Saved the report (${Math.ceil(bytes / 1024)} KB) to ${path}`);
    } catch (e) {
      toast(asCommandError(e).message, "bad");
    }
  };
  // The palette's "Export analytics PDF" arrives as ?action=pdf: once per arrival.
  const asked = useRef<string | undefined>(undefined);
  useEffect(() => {
    if (params.action === "pdf" && asked.current !== params.action && revenue) {
      asked.current = params.action;
      exportPdf();
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [params.action]);
  const fresh = mrr.data?.refreshed_at ?? growth.data?.refreshed_at;
  const asOf = mrr.data?.as_of ?? growth.data?.as_of;
  return (
    <div className="page analytics-page">
      <PageHeader title="Analytics" subtitle={asOf ? `As of ${asOf} · refreshed ${relTime(fresh)}` : "No snapshot yet"} actions={<>
        {revenue && <button onClick={exportPdf} aria-label="Export analytics PDF">Export PDF</button>}
        {can("operate_jobs") && <button onClick={() => refresh(false)} disabled={refreshing} title="Recompute the days whose facts changed">{refreshing ? "Refreshing…" : "Refresh"}</button>}
      </>} />
      <div className="filters" role="search">
        <Field label="Period">
          <select aria-label="Period" value={range} onChange={(e) => setRange(Number(e.target.value))}>
            {RANGES.map(([l, d]) => <option key={d} value={d}>{l}</option>)}
          </select>
        </Field>
        <Field label="Interval">
          <select aria-label="Interval" value={interval} onChange={(e) => setInterval(e.target.value as Interval)}>
            <option value="day">Day</option><option value="week">Week</option><option value="month">Month</option>
          </select>
        </Field>
      </div>
      {revenue && <Revenue state={mrr} />}
      {revenue && <RetentionPanel from={from} version={version} />}
      {usage && <Growth state={growth} />}
      <div className="two-columns">
        {revenue && <TopPaying />}
        {usage && <TopUsage from={from} />}
      </div>
      {usage && <TopFeatures from={from} />}
      {usage && <FunnelPanel from={from} to={null} version={version} />}
      {!revenue && !usage && <Empty title="Analytics are not for your role" hint="Ask a provider admin for the read_usage or read_revenue permission." />}
    </div>
  );
}

type State<T> = { data?: T; error?: ReturnType<typeof asCommandError>; loading: boolean; reload: () => void };

function Revenue({ state }: { state: State<MrrSeries | undefined> }) {
  const { data, error, loading, reload } = state;
  const chart = useMemo(() => (data ? { chart: "mrr" as const, data } : undefined), [data]);
  if (error) return <section className="panel"><h2>Revenue</h2><ErrorState error={error} onRetry={reload} /></section>;
  if (!data) return <section className="panel"><h2>Revenue</h2><Loading /></section>;
  const t = data.total;
  const c = data.currency;
  if (!t || data.points.length === 0) {
    return <section className="panel"><h2>Revenue</h2><Empty title="No revenue in this period" hint="Subscription changes come from billing. Try padmin seed analytics, then Refresh." /></section>;
  }
  const netNew = t.new + t.expansion + t.reactivation - t.contraction - t.churn;
  const cards = [
    { label: "MRR", value: money(t.end, c), hint: `ARR ${money(t.end * 12, c, true)}` },
    { label: "Net new MRR", value: money(netNew, c), hint: `from ${money(t.start, c, true)}`, tone: netNew < 0 ? "bad" : "" },
    { label: "Paying organisations", value: count(t.customers_end), hint: `+${t.new_customers + t.reactivated_customers} · −${t.churned_customers}` },
    { label: "Net MRR churn", value: percent(data.rates?.net_mrr_churn), hint: `gross ${percent(data.rates?.gross_mrr_churn)}` },
    { label: "Customer churn", value: percent(data.rates?.customer_churn), hint: "of those paying at the start" },
  ];
  const rows: [string, number][] = [["New", t.new], ["Expansion", t.expansion], ["Reactivation", t.reactivation], ["Contraction", -t.contraction], ["Churn", -t.churn]];
  return (
    <section className="panel" aria-label="Revenue">
      <div className="panel-head"><h2>Revenue <small className="muted">{c}{loading ? " · updating…" : ""}</small></h2><ExportCsv data={chart} /></div>
      <div className="cards">
        {cards.map((k) => (
          <div key={k.label} className={`card stat ${k.tone ?? ""}`} aria-label={`${k.label}: ${k.value}`}>
            <span className="value metric">{k.value}</span><span className="label">{k.label}</span><small>{k.hint}</small>
          </div>
        ))}
      </div>
      {chart && <Chart data={chart} label="MRR movements per period (bars) and MRR (line)" />}
      <table className="table ledger" aria-label="MRR movements of the period">
        <tbody>
          <tr><td>MRR at the start</td><td className="num">{money(t.start, c)}</td></tr>
          {rows.map(([l, v]) => <tr key={l}><td>{l}</td><td className={`num ${v < 0 ? "neg" : v > 0 ? "pos" : ""}`}>{v > 0 ? "+" : ""}{money(v, c)}</td></tr>)}
          <tr className="total"><td>MRR at the end</td><td className="num">{money(t.end, c)}</td></tr>
        </tbody>
      </table>
    </section>
  );
}

function Growth({ state }: { state: State<GrowthSeries | undefined> }) {
  const { data, error, reload } = state;
  const chart = useMemo(() => (data ? { chart: "growth" as const, data } : undefined), [data]);
  if (error) return <section className="panel"><h2>Growth</h2><ErrorState error={error} onRetry={reload} /></section>;
  if (!data) return <section className="panel"><h2>Growth</h2><Loading /></section>;
  if (data.points.length === 0) return <section className="panel"><h2>Growth</h2><Empty title="No product events in this period" hint="Events arrive through POST /v1/events or padmin events import." /></section>;
  const last = data.points[data.points.length - 1];
  const signups = data.points.reduce((n, p) => n + p.signups, 0);
  const sticky = last.users.monthly ? last.users.daily / last.users.monthly : null;
  return (
    <section className="panel" aria-label="Growth">
      <div className="panel-head"><h2>Growth</h2><ExportCsv data={chart} /></div>
      <div className="cards">
        <div className="card stat"><span className="value metric">{count(last.users.monthly)}</span><span className="label">Monthly active users</span><small>WAU {count(last.users.weekly)} · DAU {count(last.users.daily)}</small></div>
        <div className="card stat"><span className="value metric">{count(last.orgs.monthly)}</span><span className="label">Active organisations</span><small>in the last 30 days</small></div>
        <div className="card stat"><span className="value metric">{count(signups)}</span><span className="label">Sign-ups</span><small>in the period</small></div>
        <div className="card stat"><span className="value metric">{percent(sticky)}</span><span className="label">Stickiness</span><small>DAU ÷ MAU</small></div>
      </div>
      {chart && <Chart data={chart} label="Daily, weekly and monthly active users (lines) and sign-ups (bars)" />}
    </section>
  );
}

function TopPaying() {
  const { go } = useNav();
  const { data, error, reload } = useAsync(() => api.analyticsTopClients(null, null, 10), []);
  return (
    <section className="panel" aria-label="Top clients by MRR">
      <div className="panel-head"><h2>Top clients by MRR</h2><ExportCsv data={data && { chart: "top_clients", data }} /></div>
      {error ? <ErrorState error={error} onRetry={reload} /> : !data ? <Loading /> : data.clients.length === 0 ? <Empty title="Nobody pays yet" /> : (
        <table className="table" aria-label="Top clients by MRR">
          <thead><tr><th>Organisation</th><th className="num">MRR</th><th>Share</th></tr></thead>
          <tbody>{data.clients.map((c) => (
            <tr key={c.org_id} className="clickable" onClick={() => go("clients", { open: c.org_id })}>
              <td className="mono">{c.org_id.slice(0, 8)}</td><td className="num">{money(c.mrr, data.currency)}</td>
              <td><span className="share"><span style={{ width: `${Math.round(c.share * 100 * 4)}%` }} />{percent(c.share)}</span></td>
            </tr>
          ))}</tbody>
        </table>
      )}
    </section>
  );
}

function TopUsage({ from }: { from: string }) {
  const { data, error, reload } = useAsync(() => api.analyticsTopUsage({ org_id: null, from, to: null, interval: null, limit: 10, by: null }), [from]);
  return (
    <section className="panel" aria-label="Top clients by usage">
      <div className="panel-head"><h2>Top clients by usage</h2><ExportCsv data={data && { chart: "top_usage", data }} /></div>
      {error ? <ErrorState error={error} onRetry={reload} /> : !data ? <Loading /> : data.clients.length === 0 ? <Empty title="No usage in this period" /> : (
        <table className="table" aria-label="Top clients by usage">
          <thead><tr><th>Organisation</th><th className="num">Events</th><th className="num">Active days</th><th className="num">Peak users</th></tr></thead>
          <tbody>{data.clients.map((c) => (
            <tr key={c.org_id}><td className="mono">{c.org_id.slice(0, 8)}</td><td className="num">{count(c.events)}</td><td className="num">{c.active_days}</td><td className="num">{c.peak_users}</td></tr>
          ))}</tbody>
        </table>
      )}
    </section>
  );
}

function TopFeatures({ from }: { from: string }) {
  const { data, error, reload } = useAsync(() => api.analyticsTopFeatures({ org_id: null, from, to: null, interval: null, limit: 10, by: "uses" }), [from]);
  const most = data?.features[0]?.uses ?? 1;
  return (
    <section className="panel" aria-label="Top features">
      <div className="panel-head"><h2>Top features</h2><ExportCsv data={data && { chart: "top_features", data }} /></div>
      {error ? <ErrorState error={error} onRetry={reload} /> : !data ? <Loading /> : data.features.length === 0 ? <Empty title="No feature used in this period" /> : (
        <table className="table" aria-label="Top features">
          <thead><tr><th>Feature</th><th>Uses</th><th className="num">Organisations</th></tr></thead>
          <tbody>{data.features.map((f) => (
            <tr key={f.feature}><td>{f.feature}</td><td><span className="share"><span style={{ width: `${Math.round((f.uses / most) * 100)}%` }} />{count(f.uses)}</span></td><td className="num">{count(f.orgs)}</td></tr>
          ))}</tbody>
        </table>
      )}
    </section>
  );
}
