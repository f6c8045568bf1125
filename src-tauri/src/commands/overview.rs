//! The overview page and its chart (plotters SVG, themed).

use super::portal;
use crate::error::CmdResult;
use crate::ipc::command;
use crate::state::AppState;
use charts::{ChartSpec, Series, SeriesKind, Theme};
use domain::model::{DayActivity, Overview};
use macro_rules_attribute::apply;
use tauri::State;

#[apply(command!)]
pub async fn overview_get(state: State<'_, AppState>) -> CmdResult<Overview> {
    Ok(portal(&state).await?.overview(&state.actor).await?)
}

/// Draws the overview's key activity (keys created and verifications per day) as an SVG
/// document. The UI passes the activity it already has, so the overview is fetched once.
#[apply(command!)]
pub async fn overview_chart(
    activity: Vec<DayActivity>,
    dark: bool,
    width: u32,
    height: u32,
) -> CmdResult<String> {
    let spec = ChartSpec {
        title: None,
        categories: activity
            .iter()
            .map(|d| d.day.get(5..).unwrap_or(&d.day).to_string())
            .collect(),
        series: vec![
            Series {
                name: "keys created".into(),
                kind: SeriesKind::Bar,
                values: activity.iter().map(|d| d.keys_created as f64).collect(),
                secondary_axis: false,
            },
            Series {
                name: "verifications".into(),
                kind: SeriesKind::Line,
                values: activity.iter().map(|d| d.verifications as f64).collect(),
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
