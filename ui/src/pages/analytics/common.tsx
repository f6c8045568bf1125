// Shared by the Analytics page's panels: money and percent formatting, a chart drawn by the
// app (plotters SVG in the theme) from the data on screen, and the CSV export of that data.
import { api, asCommandError } from "../../api";
import type { ChartData } from "../../generated/ChartData";
import { useTheme } from "../../App";
import { SvgChart, useToast } from "../../ui";

/** Minor units as money in the currency (e.g. 12 345,67 €). */
export function money(minor: number, currency: string | null | undefined, compact = false): string {
  const c = currency || "EUR";
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: c, notation: compact ? "compact" : "standard", maximumFractionDigits: compact ? 1 : 2 }).format(minor / 100);
  } catch {
    return `${(minor / 100).toFixed(2)} ${c}`;
  }
}

export function percent(f: number | null | undefined): string {
  return f == null ? "—" : `${(f * 100).toFixed(1)}%`;
}

export function count(n: number): string {
  return new Intl.NumberFormat().format(n);
}

/** A time span in milliseconds, read by people (3.2 h, 2.5 d). */
export function span(ms: number | null | undefined): string {
  if (ms == null) return "—";
  const h = ms / 3_600_000;
  if (h < 1) return `${Math.round(ms / 60_000)} min`;
  if (h < 48) return `${h.toFixed(1)} h`;
  return `${(h / 24).toFixed(1)} d`;
}

/** Draws `data` with plotters (the app renders it; the page shows the SVG). */
export function Chart({ data, label, height = 300 }: { data: ChartData; label: string; height?: number }) {
  const { dark } = useTheme();
  return <SvgChart draw={(d, width) => api.analyticsChart(data, d, width, height)} dark={dark} deps={[data, height]} label={label} />;
}

/** Saves the chart's data — exactly what the page shows — as CSV where the user chooses. */
export function ExportCsv({ data }: { data: ChartData | undefined }) {
  const toast = useToast();
  const run = async () => {
    if (!data) return;
    try {
      const path = await api.analyticsExportChoose(slug(data));
      if (!path) return;
      const n = await api.analyticsExportCsv(data, path);
      toast(`Exported ${n} rows to ${path}`);
    } catch (e) {
      toast(asCommandError(e).message, "bad");
    }
  };
  return <button className="small" disabled={!data} onClick={run} aria-label={`Export ${data ? slug(data) : "chart"} as CSV`}>Export CSV</button>;
}

function slug(d: ChartData): string {
  return d.chart.replace(/_/g, "-");
}
