// The funnel builder: pick the steps (2 to 10), the conversion window, who goes through it and
// what must not happen in between; the portal runs it over the period's events.
import { useState } from "react";
import { api, asCommandError, type CommandError } from "../../api";
import type { FunnelReport } from "../../generated/FunnelReport";
import type { FunnelSubject } from "../../generated/FunnelSubject";
import { ErrorState, Field, Loading, fieldError } from "../../ui";
import { Chart, ExportCsv, count, percent, span } from "./common";

const WINDOWS: [string, number][] = [["1 day", 1], ["7 days", 7], ["14 days", 14], ["30 days", 30], ["90 days", 90]];
const DEFAULT_STEPS = ["visited_pricing", "started_trial", "invited_teammate", "subscribed"];

export function FunnelPanel({ from, to }: { from: string | null; to: string | null }) {
  const [steps, setSteps] = useState<string[]>(DEFAULT_STEPS);
  const [days, setDays] = useState(14);
  const [by, setBy] = useState<FunnelSubject>("user");
  const [exclude, setExclude] = useState("");
  const [report, setReport] = useState<FunnelReport>();
  const [error, setError] = useState<CommandError>();
  const [running, setRunning] = useState(false);
  const setStep = (i: number, v: string) => setSteps(steps.map((s, k) => (k === i ? v : s)));
  const run = async () => {
    setRunning(true);
    setError(undefined);
    try {
      const chosen = steps.map((s) => s.trim()).filter(Boolean);
      const exclusions = exclude.trim() ? [{ event: exclude.trim(), from_step: 1, to_step: chosen.length }] : [];
      setReport(await api.analyticsFunnel({ steps: chosen, window_ms: days * 86_400_000, step_windows_ms: [], exclusions, org_id: null, from, to, by }));
    } catch (e) {
      setError(asCommandError(e));
    } finally {
      setRunning(false);
    }
  };
  return (
    <section className="panel" aria-label="Funnel">
      <div className="panel-head"><h2>Funnel</h2><ExportCsv data={report && { chart: "funnel", data: report }} /></div>
      <div className="funnel-builder">
        <ol className="funnel-steps">
          {steps.map((s, i) => (
            <li key={i}>
              <input aria-label={`Step ${i + 1}`} value={s} onChange={(e) => setStep(i, e.target.value)} placeholder="event name" />
              {steps.length > 2 && <button className="small ghost" aria-label={`Remove step ${i + 1}`} onClick={() => setSteps(steps.filter((_, k) => k !== i))}>✕</button>}
            </li>
          ))}
        </ol>
        <div className="filters">
          {steps.length < 10 && <button className="small" onClick={() => setSteps([...steps, ""])}>Add step</button>}
          <Field label="Conversion window">
            <select aria-label="Conversion window" value={days} onChange={(e) => setDays(Number(e.target.value))}>
              {WINDOWS.map(([l, d]) => <option key={d} value={d}>{l}</option>)}
            </select>
          </Field>
          <Field label="Counted by">
            <select aria-label="Counted by" value={by} onChange={(e) => setBy(e.target.value as FunnelSubject)}>
              <option value="user">users</option><option value="org">organisations</option>
            </select>
          </Field>
          <Field label="Excluding" hint="an event that ends the path" error={fieldError(error, "exclusions")}>
            <input aria-label="Excluded event" value={exclude} onChange={(e) => setExclude(e.target.value)} placeholder="e.g. cancelled" />
          </Field>
          <button className="primary" onClick={run} disabled={running}>{running ? "Running…" : "Run funnel"}</button>
        </div>
      </div>
      {running && <Loading label="Reading the period's events…" />}
      {error && <ErrorState error={error} />}
      {report && !running && (
        report.steps[0]?.count ? <>
          <Chart data={{ chart: "funnel", data: report }} label="Subjects reaching each step of the funnel" height={260} />
          <table className="table" aria-label="Funnel steps">
            <thead><tr><th>Step</th><th>Reached</th><th>From previous</th><th>From start</th><th>Dropped</th><th>Median time</th><th>Mean time</th></tr></thead>
            <tbody>
              {report.steps.map((s, i) => (
                <tr key={i}><td>{i + 1}. {s.name}</td><td>{count(s.count)}</td><td>{percent(s.conversion_from_previous)}</td><td>{percent(s.conversion_from_start)}</td>
                  <td>{count(s.drop_off)}</td><td>{i === 0 ? "—" : span(s.median_ms)}</td><td>{i === 0 ? "—" : span(s.mean_ms)}</td></tr>
              ))}
            </tbody>
          </table>
          <p className="muted">Entered {report.from} to {report.to} · {count(report.events_read)} events read</p>
        </> : <p className="muted">Nobody entered this funnel in the period: check the first step's event name.</p>
      )}
    </section>
  );
}
