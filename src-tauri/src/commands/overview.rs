//! The overview page and its chart (plotters SVG, themed).

use super::portal;
use crate::error::CmdResult;
use crate::state::AppState;
use charts::{ChartSpec, Series, SeriesKind, Theme};
use domain::model::Overview;
use tauri::State;

#[tauri::command]
pub async fn overview_get(state: State<'_, AppState>) -> CmdResult<Overview> {
    Ok(portal(&state).await?.overview(&state.actor).await?)
}

/// Keys created and verifications per day over 30 days, as an SVG document.
#[tauri::command]
pub async fn overview_chart(
    state: State<'_, AppState>,
    dark: bool,
    width: u32,
    height: u32,
) -> CmdResult<String> {
    let o = portal(&state).await?.overview(&state.actor).await?;
    let spec = ChartSpec {
        title: None,
        categories: o.activity.iter().map(|d| d.day[5..].to_string()).collect(),
        series: vec![
            Series {
                name: "keys created".into(),
                kind: SeriesKind::Bar,
                values: o.activity.iter().map(|d| d.keys_created as f64).collect(),
                secondary_axis: false,
            },
            Series {
                name: "verifications".into(),
                kind: SeriesKind::Line,
                values: o.activity.iter().map(|d| d.verifications as f64).collect(),
                secondary_axis: true,
            },
        ],
        y_label: None,
    };
    let theme = if dark { Theme::Dark } else { Theme::Light };
    charts::render_svg(
        &spec,
        theme,
        width.clamp(320, 2400),
        height.clamp(160, 1200),
    )
    .map_err(|e| domain::Error::Internal(e.to_string()).into())
}
