//! The Analytics page: each chart's data, the snapshots' refresh, the charts drawn by plotters
//! (themed SVG) and the CSV export of exactly what is on the screen.

use super::portal;
use crate::error::CmdResult;
use crate::ipc::command;
use crate::state::AppState;
use charts::{ChartSpec, Series, SeriesKind, Theme};
use domain::analytics::{Day, Interval, Movement};
use domain::model::analytics::{
    ChartData, FunnelQuery, FunnelReport, GrowthSeries, MovementQuery, MrrQuery, MrrSeries,
    RefreshReport, TopClients, TopFeatures, TopUsage, UsageQuery,
};
use macro_rules_attribute::apply;
use tauri::{AppHandle, State};

#[apply(command!)]
pub async fn analytics_mrr(state: State<'_, AppState>, query: MrrQuery) -> CmdResult<MrrSeries> {
    Ok(portal(&state).await?.mrr(&state.actor, query).await?)
}

#[apply(command!)]
pub async fn analytics_movements(
    state: State<'_, AppState>,
    query: MovementQuery,
) -> CmdResult<Vec<Movement>> {
    Ok(portal(&state)
        .await?
        .mrr_movements(&state.actor, query)
        .await?)
}

#[apply(command!)]
pub async fn analytics_growth(
    state: State<'_, AppState>,
    query: UsageQuery,
) -> CmdResult<GrowthSeries> {
    Ok(portal(&state).await?.growth(&state.actor, query).await?)
}

/// The organisations paying the most at the end of `at` (by default the snapshot's last day).
#[apply(command!)]
pub async fn analytics_top_clients(
    state: State<'_, AppState>,
    currency: Option<String>,
    at: Option<Day>,
    limit: Option<u32>,
) -> CmdResult<TopClients> {
    Ok(portal(&state)
        .await?
        .top_clients_by_mrr(&state.actor, currency, at, limit)
        .await?)
}

#[apply(command!)]
pub async fn analytics_top_usage(
    state: State<'_, AppState>,
    query: UsageQuery,
) -> CmdResult<TopUsage> {
    Ok(portal(&state)
        .await?
        .top_clients_by_usage(&state.actor, query)
        .await?)
}

#[apply(command!)]
pub async fn analytics_top_features(
    state: State<'_, AppState>,
    query: UsageQuery,
) -> CmdResult<TopFeatures> {
    Ok(portal(&state)
        .await?
        .top_features(&state.actor, query)
        .await?)
}

#[apply(command!)]
pub async fn analytics_funnel(
    state: State<'_, AppState>,
    query: FunnelQuery,
) -> CmdResult<FunnelReport> {
    Ok(portal(&state).await?.funnel(&state.actor, query).await?)
}

/// Recomputes the snapshots (the days whose facts changed, or everything with `full`).
#[apply(command!)]
pub async fn analytics_refresh(state: State<'_, AppState>, full: bool) -> CmdResult<RefreshReport> {
    Ok(portal(&state)
        .await?
        .refresh_analytics(&state.actor, full)
        .await?)
}

/// A period's label on the x axis.
fn label(day: Day, interval: Interval) -> String {
    let text = day.to_string();
    match interval {
        Interval::Month => text.get(..7).unwrap_or(&text).to_string(),
        _ => text.get(5..).unwrap_or(&text).to_string(),
    }
}

/// Minor units as major units, for an axis.
fn major(minor: i64) -> f64 {
    minor as f64 / 100.0
}

fn series(name: &str, kind: SeriesKind, values: Vec<f64>, secondary_axis: bool) -> Series {
    Series {
        name: name.into(),
        kind,
        values,
        secondary_axis,
    }
}

/// What a chart draws of its data.
fn spec_of(data: &ChartData) -> CmdResult<ChartSpec> {
    Ok(match data {
        ChartData::Mrr(m) => {
            let of = |f: fn(&domain::analytics::MrrDay) -> i64| -> Vec<f64> {
                m.points.iter().map(|d| major(f(d))).collect()
            };
            let currency = m.currency.clone().unwrap_or_default();
            ChartSpec {
                title: None,
                categories: m.points.iter().map(|d| label(d.day, m.interval)).collect(),
                series: vec![
                    series("MRR (right)", SeriesKind::Line, of(|d| d.end), true),
                    series("new", SeriesKind::Stacked, of(|d| d.new), false),
                    series(
                        "contraction",
                        SeriesKind::Stacked,
                        of(|d| -d.contraction),
                        false,
                    ),
                    series(
                        "reactivation",
                        SeriesKind::Stacked,
                        of(|d| d.reactivation),
                        false,
                    ),
                    series("churn", SeriesKind::Stacked, of(|d| -d.churn), false),
                    series("expansion", SeriesKind::Stacked, of(|d| d.expansion), false),
                ],
                y_label: Some(format!("movements, {currency}")),
            }
        }
        ChartData::Growth(g) => {
            let of = |f: fn(&domain::analytics::GrowthDay) -> u32| -> Vec<f64> {
                g.points.iter().map(|d| f64::from(f(d))).collect()
            };
            ChartSpec {
                title: None,
                categories: g.points.iter().map(|d| label(d.day, g.interval)).collect(),
                series: vec![
                    series("MAU", SeriesKind::Line, of(|d| d.users.monthly), false),
                    series("WAU", SeriesKind::Line, of(|d| d.users.weekly), false),
                    series("DAU", SeriesKind::Line, of(|d| d.users.daily), false),
                    series("sign-ups (right)", SeriesKind::Bar, of(|d| d.signups), true),
                ],
                y_label: Some("active users".into()),
            }
        }
        ChartData::Funnel(f) => ChartSpec {
            title: None,
            categories: f.steps.iter().map(|s| s.name.clone()).collect(),
            series: vec![series(
                "reached",
                SeriesKind::Bar,
                f.steps.iter().map(|s| s.count as f64).collect(),
                false,
            )],
            y_label: Some(match f.by {
                domain::model::analytics::FunnelSubject::User => "users".into(),
                domain::model::analytics::FunnelSubject::Org => "organisations".into(),
            }),
        },
        other => {
            return Err(domain::Error::invalid(
                "chart",
                format!("{} is a table, not a chart", other.slug()),
            )
            .into())
        }
    })
}

/// Draws a chart of the data the page shows, as an SVG document in the theme.
#[apply(command!)]
pub async fn analytics_chart(
    data: ChartData,
    dark: bool,
    width: u32,
    height: u32,
) -> CmdResult<String> {
    let theme = if dark { Theme::Dark } else { Theme::Light };
    charts::render_svg(
        &spec_of(&data)?,
        theme,
        width.clamp(320, 2400),
        height.clamp(160, 1200),
    )
    .map_err(|e| domain::Error::Internal(e.to_string()).into())
}

/// Asks where to save a chart's CSV (the native save dialog) and grants that path to
/// `analytics_export_csv`; `None` when the user cancels.
#[apply(command!)]
pub async fn analytics_export_choose(
    app: AppHandle,
    state: State<'_, AppState>,
    chart: String,
) -> CmdResult<Option<String>> {
    let name = format!("analytics-{}.csv", chart.replace(['/', '\\', '.'], "-"));
    super::choose_save_path(&app, &state, "Export the chart as CSV", &name, "CSV", "csv").await
}

/// Writes the chart's data — what the page shows — as CSV to `path`, which must be what
/// `analytics_export_choose` returned in this run; returns how many rows.
#[apply(command!)]
pub async fn analytics_export_csv(
    state: State<'_, AppState>,
    data: ChartData,
    path: String,
) -> CmdResult<u64> {
    let file = state.save_grants.create(&path)?;
    Ok(::portal::analytics::csv::chart(&data, file)?)
}
