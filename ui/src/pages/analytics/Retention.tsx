// Revenue retention: NRR and GRR over the page's period (the organisations paying at its start)
// and the cohort table — each month's organisations that first paid, and how much of their first
// month's MRR they still pay k months later.
import { useMemo } from "react";
import { api } from "../../api";
import { Empty, ErrorState, Loading, useAsync } from "../../ui";
import { Chart, ExportCsv, count, money, percent } from "./common";

/** A cohort cell's shade: stronger the more of its base a cohort kept (capped at 150 %). */
function shade(v: number | null | undefined): React.CSSProperties {
  if (v == null) return {};
  const strength = Math.max(0, Math.min(v, 1.5)) / 1.5;
  return { background: `color-mix(in srgb, var(--accent) ${Math.round(strength * 70)}%, transparent)` };
}

export function RetentionPanel({ from, version }: { from: string; version: number }) {
  const { data, error, reload } = useAsync(() => api.analyticsRetention({ currency: null, from, to: null }), [from, version]);
  const chart = useMemo(() => (data ? { chart: "retention" as const, data } : undefined), [data]);
  const head = <div className="panel-head"><h2>Revenue retention</h2><ExportCsv data={chart} /></div>;
  if (error) return <section className="panel" aria-label="Revenue retention">{head}<ErrorState error={error} onRetry={reload} /></section>;
  if (!data) return <section className="panel" aria-label="Revenue retention">{head}<Loading /></section>;
  if (data.period.nrr == null && data.cohorts.length === 0) {
    return <section className="panel" aria-label="Revenue retention">{head}<Empty title="Nobody was paying at the start of this period" hint="Retention needs organisations paying on the day before the period: choose a later or longer one." /></section>;
  }
  const c = data.currency;
  const months = data.by_month.length;
  return (
    <section className="panel" aria-label="Revenue retention">
      {head}
      <div className="cards">
        <div className="card stat" aria-label={`Net revenue retention: ${percent(data.period.nrr)}`}><span className="value metric">{percent(data.period.nrr)}</span><span className="label">Net revenue retention</span><small>of those paying on {data.from}</small></div>
        <div className="card stat" aria-label={`Gross revenue retention: ${percent(data.period.grr)}`}><span className="value metric">{percent(data.period.grr)}</span><span className="label">Gross revenue retention</span><small>expansion left out</small></div>
        <div className="card stat"><span className="value metric">{count(data.cohorts.length)}</span><span className="label">Cohorts</span><small>months with first payments</small></div>
      </div>
      {months > 0 && chart && <Chart data={chart} label="NRR and GRR by month after the first payment, across cohorts" height={240} />}
      {data.cohorts.length > 0 && (
        <div className="scroll-x">
          <table className="table cohorts" aria-label="Retention by cohort">
            <thead><tr><th>Cohort</th><th className="num">Orgs</th><th className="num">Base MRR</th>{Array.from({ length: months }, (_, k) => <th key={k} className="num">M{k + 1}</th>)}</tr></thead>
            <tbody>{data.cohorts.map((row) => (
              <tr key={row.month}>
                <td>{row.month.slice(0, 7)}</td><td className="num">{row.organisations}</td><td className="num">{money(row.base_mrr, c, true)}</td>
                {Array.from({ length: months }, (_, k) => {
                  const m = row.months[k];
                  return <td key={k} className="num cell" style={shade(m?.nrr)} title={m ? `NRR ${percent(m.nrr)} · GRR ${percent(m.grr)}` : ""}>{m ? percent(m.nrr) : ""}</td>;
                })}
              </tr>
            ))}</tbody>
          </table>
        </div>
      )}
      <p className="muted small">NRR: what a cohort pays k months after its first month, over what it paid then (expansion counts). GRR: the same with each organisation capped at what it paid then.</p>
    </section>
  );
}
