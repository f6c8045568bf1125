//! The Analytics page: each chart's data, the snapshots' refresh, the charts drawn by plotters
//! (themed SVG) and the CSV export of exactly what is on the screen.

use super::portal;
use crate::error::CmdResult;
use crate::ipc::command;
use crate::state::AppState;
use charts::Theme;
use domain::analytics::{Day, Movement};
use domain::model::analytics::{
    ChartData, FunnelQuery, FunnelReport, GrowthSeries, MovementQuery, MrrQuery, MrrSeries,
    NewFunnel, RefreshReport, RetentionQuery, RetentionReport, SavedFunnel, SavedFunnelQuery,
    SavedFunnelReport, TopClients, TopFeatures, TopUsage, UsageQuery,
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
pub async fn analytics_retention(
    state: State<'_, AppState>,
    query: RetentionQuery,
) -> CmdResult<RetentionReport> {
    Ok(portal(&state).await?.retention(&state.actor, query).await?)
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

#[apply(command!)]
pub async fn analytics_save_funnel(
    state: State<'_, AppState>,
    funnel: NewFunnel,
) -> CmdResult<SavedFunnel> {
    Ok(portal(&state)
        .await?
        .save_funnel(&state.actor, funnel)
        .await?)
}

#[apply(command!)]
pub async fn analytics_saved_funnels(state: State<'_, AppState>) -> CmdResult<Vec<SavedFunnel>> {
    Ok(portal(&state).await?.saved_funnels(&state.actor).await?)
}

#[apply(command!)]
pub async fn analytics_saved_funnel(
    state: State<'_, AppState>,
    id: String,
    query: SavedFunnelQuery,
) -> CmdResult<SavedFunnelReport> {
    Ok(portal(&state)
        .await?
        .saved_funnel(&state.actor, &id, query)
        .await?)
}

#[apply(command!)]
pub async fn analytics_delete_funnel(state: State<'_, AppState>, id: String) -> CmdResult<()> {
    Ok(portal(&state)
        .await?
        .delete_funnel(&state.actor, &id)
        .await?)
}

/// Recomputes the snapshots (the days whose facts changed, or everything with `full`).
#[apply(command!)]
pub async fn analytics_refresh(state: State<'_, AppState>, full: bool) -> CmdResult<RefreshReport> {
    Ok(portal(&state)
        .await?
        .refresh_analytics(&state.actor, full)
        .await?)
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
    let spec = report::charts::spec_of(&data).ok_or_else(|| {
        domain::Error::invalid("chart", format!("{} is a table, not a chart", data.slug()))
    })?;
    charts::render_svg(
        &spec,
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

/// Asks where to save the analytics report (the native save dialog) and grants that path to
/// `analytics_export_pdf`; `None` when the user cancels.
#[apply(command!)]
pub async fn analytics_report_choose(
    app: AppHandle,
    state: State<'_, AppState>,
) -> CmdResult<Option<String>> {
    let name = "analytics-report.pdf";
    super::choose_save_path(
        &app,
        &state,
        "Export the analytics report",
        name,
        "PDF",
        "pdf",
    )
    .await
}

/// Writes the analytics report of the period (by default the last 12 months) as a PDF to
/// `path`, which must be what `analytics_report_choose` returned in this run; returns its size.
#[apply(command!)]
pub async fn analytics_export_pdf(
    state: State<'_, AppState>,
    from: Option<Day>,
    to: Option<Day>,
    path: String,
) -> CmdResult<u64> {
    let portal = portal(&state).await?;
    let now = domain::Clock::now(&domain::SystemClock);
    let contents = report::analytics::gather(portal.as_ref(), &state.actor, from, to, now).await?;
    let bytes = report::analytics::render(&contents)?;
    let mut file = state.save_grants.create(&path)?;
    std::io::Write::write_all(&mut file, &bytes)
        .map_err(|e| domain::Error::invalid("path", format!("cannot write there: {e}")))?;
    Ok(bytes.len() as u64)
}
