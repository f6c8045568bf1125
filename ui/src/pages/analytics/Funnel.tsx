// The funnel builder: pick the steps (2 to 10), the conversion window, who goes through it and
// what must not happen in between; the portal runs it over the period's events. A funnel can be
// saved: every refresh snapshots it, and picking it shows the period from that snapshot.
import { useState } from "react";
import { api, asCommandError, type CommandError } from "../../api";
import type { FunnelReport } from "../../generated/FunnelReport";
import type { FunnelStep } from "../../generated/FunnelStep";
import type { FunnelSubject } from "../../generated/FunnelSubject";
import type { SavedFunnelReport } from "../../generated/SavedFunnelReport";
import { useCan } from "../../access";
import { ErrorState, Field, Loading, fieldError, useAsync, useToast } from "../../ui";
import { Chart, ExportCsv, count, percent, span } from "./common";

const WINDOWS: [string, number][] = [["1 day", 1], ["7 days", 7], ["14 days", 14], ["30 days", 30], ["90 days", 90]];
const DEFAULT_STEPS = ["visited_pricing", "started_trial", "invited_teammate", "subscribed"];

/** A funnel's steps: reached, conversion, drop-off and time to convert. */
function Steps({ steps }: { steps: FunnelStep[] }) {
  return (
    <table className="table" aria-label="Funnel steps">
      <thead><tr><th>Step</th><th>Reached</th><th>From previous</th><th>From start</th><th>Dropped</th><th>Median time</th><th>Mean time</th></tr></thead>
      <tbody>
        {steps.map((s, i) => (
          <tr key={i}><td>{i + 1}. {s.name}</td><td>{count(s.count)}</td><td>{percent(s.conversion_from_previous)}</td><td>{percent(s.conversion_from_start)}</td>
            <td>{count(s.drop_off)}</td><td>{i === 0 ? "—" : span(s.median_ms)}</td><td>{i === 0 ? "—" : span(s.mean_ms)}</td></tr>
        ))}
      </tbody>
    </table>
  );
}

/** The saved funnels: pick one to read its snapshot over the period, or delete it. */
function SavedFunnels({ from, version, onChanged }: { from: string | null; version: number; onChanged: () => void }) {
  const can = useCan();
  const toast = useToast();
  const list = useAsync(() => api.analyticsSavedFunnels(), [version]);
  const [picked, setPicked] = useState("");
  const report = useAsync<SavedFunnelReport | undefined>(() => (picked ? api.analyticsSavedFunnel(picked, { org_id: null, from, to: null }) : Promise.resolve(undefined)), [picked, from, version]);
  const remove = async () => {
    const f = list.data?.find((x) => x.id === picked);
    if (!f || !window.confirm(`Delete the saved funnel "${f.name}" and its snapshot?`)) return;
    try {
      await api.analyticsDeleteFunnel(f.id);
      setPicked("");
      toast(`Deleted "${f.name}"`);
      onChanged();
    } catch (e) {
      toast(asCommandError(e).message, "bad");
    }
  };
  if (list.error) return <ErrorState error={list.error} onRetry={list.reload} />;
  if (!list.data) return null;
  if (list.data.length === 0) return <p className="muted">No saved funnel yet: build one below and save it to have it snapshotted every day.</p>;
  const r = report.data;
  return (
    <div className="saved-funnels">
      <div className="filters">
        <Field label="Saved funnel">
          <select aria-label="Saved funnel" value={picked} onChange={(e) => setPicked(e.target.value)}>
            <option value="">Choose…</option>
            {list.data.map((f) => <option key={f.id} value={f.id}>{f.name}</option>)}
          </select>
        </Field>
        {picked && can("manage_funnels") && <button className="small ghost" onClick={remove}>Delete</button>}
        {r && <ExportCsv data={{ chart: "saved_funnel", data: r }} />}
      </div>
      {report.error && <ErrorState error={report.error} onRetry={report.reload} />}
      {picked && !r && !report.error && <Loading />}
      {r && (r.as_of == null ? <p className="muted">Not snapshotted yet: Refresh computes its snapshot.</p> : r.steps[0]?.count ? <>
        <Chart data={{ chart: "saved_funnel", data: r }} label={`Subjects reaching each step of ${r.funnel.name}`} height={240} />
        <Steps steps={r.steps} />
        <p className="muted">{r.funnel.steps.join(" → ")} · entered {r.from} to {r.to} · snapshot as of {r.as_of} · {count(r.daily.reduce((n, d) => n + d.converted, 0))} of {count(r.daily.reduce((n, d) => n + d.entered, 0))} entries converted</p>
      </> : <p className="muted">Nobody entered "{r.funnel.name}" between {r.from} and {r.to}.</p>)}
    </div>
  );
}

export function FunnelPanel({ from, to, version = 0 }: { from: string | null; to: string | null; version?: number }) {
  const can = useCan();
  const toast = useToast();
  const [saved, setSaved] = useState(0);
  const [steps, setSteps] = useState<string[]>(DEFAULT_STEPS);
  const [days, setDays] = useState(14);
  const [by, setBy] = useState<FunnelSubject>("user");
  const [exclude, setExclude] = useState("");
  const [report, setReport] = useState<FunnelReport>();
  const [error, setError] = useState<CommandError>();
  const [running, setRunning] = useState(false);
  const setStep = (i: number, v: string) => setSteps(steps.map((s, k) => (k === i ? v : s)));
  const spec = () => {
    const chosen = steps.map((s) => s.trim()).filter(Boolean);
    const exclusions = exclude.trim() ? [{ event: exclude.trim(), from_step: 1, to_step: chosen.length }] : [];
    return { steps: chosen, window_ms: days * 86_400_000, step_windows_ms: [], exclusions };
  };
  const save = async () => {
    const name = window.prompt("Save this funnel as", steps.filter(Boolean).join(" → "));
    if (!name) return;
    try {
      const f = await api.analyticsSaveFunnel({ name, ...spec(), by });
      toast(`Saved "${f.name}": Refresh snapshots it`);
      setSaved((n) => n + 1);
    } catch (e) {
      setError(asCommandError(e));
    }
  };
  const run = async () => {
    setRunning(true);
    setError(undefined);
    try {
      setReport(await api.analyticsFunnel({ ...spec(), org_id: null, from, to, by }));
    } catch (e) {
      setError(asCommandError(e));
    } finally {
      setRunning(false);
    }
  };
  return (
    <section className="panel" aria-label="Funnel">
      <div className="panel-head"><h2>Funnels</h2></div>
      <SavedFunnels from={from} version={version + saved} onChanged={() => setSaved((n) => n + 1)} />
      <div className="panel-head"><h3>Build a funnel</h3><ExportCsv data={report && { chart: "funnel", data: report }} /></div>
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
          {can("manage_funnels") && <button onClick={save} disabled={running}>Save…</button>}
        </div>
      </div>
      {running && <Loading label="Reading the period's events…" />}
      {error && <ErrorState error={error} />}
      {report && !running && (
        report.steps[0]?.count ? <>
          <Chart data={{ chart: "funnel", data: report }} label="Subjects reaching each step of the funnel" height={260} />
          <Steps steps={report.steps} />
          <p className="muted">Entered {report.from} to {report.to} · {count(report.events_read)} events read</p>
        </> : <p className="muted">Nobody entered this funnel in the period: check the first step's event name.</p>
      )}
    </section>
  );
}
