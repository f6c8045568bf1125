//! What each analytics chart draws of its data: the desktop's charts and the PDF report's are
//! the same specs.

use charts::{ChartSpec, Series, SeriesKind};
use domain::analytics::{Day, Interval};
use domain::model::analytics::{ChartData, FunnelSubject};

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

/// A funnel's steps: how many subjects reached each.
fn steps_chart(steps: &[domain::analytics::FunnelStep], by: FunnelSubject) -> ChartSpec {
    ChartSpec {
        title: None,
        categories: steps.iter().map(|s| s.name.clone()).collect(),
        series: vec![series(
            "reached",
            SeriesKind::Bar,
            steps.iter().map(|s| s.count as f64).collect(),
            false,
        )],
        y_label: Some(match by {
            FunnelSubject::User => "users".into(),
            FunnelSubject::Org => "organisations".into(),
        }),
    }
}

/// What a chart draws of its data (`None` for a table).
pub fn spec_of(data: &ChartData) -> Option<ChartSpec> {
    Some(match data {
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
        ChartData::Funnel(f) => steps_chart(&f.steps, f.by),
        ChartData::SavedFunnel(f) => steps_chart(&f.steps, f.funnel.by),
        ChartData::Retention(r) => {
            // A month no cohort had paying organisations in (no base) draws as 0.
            let percent = |v: Option<f64>| v.map_or(0.0, |v| v * 100.0);
            ChartSpec {
                title: None,
                categories: (1..=r.by_month.len()).map(|k| format!("M{k}")).collect(),
                series: vec![
                    series(
                        "NRR",
                        SeriesKind::Line,
                        r.by_month.iter().map(|m| percent(m.nrr)).collect(),
                        false,
                    ),
                    series(
                        "GRR",
                        SeriesKind::Line,
                        r.by_month.iter().map(|m| percent(m.grr)).collect(),
                        false,
                    ),
                ],
                y_label: Some("% of the cohorts' first-month MRR".into()),
            }
        }
        _ => return None,
    })
}
