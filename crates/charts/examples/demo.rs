//! Writes a sample chart: `cargo run -p charts --example demo -- out.svg [dark]`.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let spec = charts::ChartSpec {
        title: None,
        categories: (1..=30).map(|d| format!("Nov {d}")).collect(),
        series: vec![
            charts::Series {
                name: "keys created".into(),
                kind: charts::SeriesKind::Bar,
                values: (0..30).map(|i| ((i * 7) % 5) as f64).collect(),
                secondary_axis: false,
            },
            charts::Series {
                name: "verifications".into(),
                kind: charts::SeriesKind::Line,
                values: (0..30).map(|i| (40 + (i * 37) % 60) as f64).collect(),
                secondary_axis: true,
            },
        ],
        y_label: None,
    };
    let theme = if args.get(2).is_some_and(|a| a == "dark") {
        charts::Theme::Dark
    } else {
        charts::Theme::Light
    };
    let svg = charts::render_svg(&spec, theme, 720, 260).expect("renders");
    std::fs::write(args.get(1).map(String::as_str).unwrap_or("chart.svg"), svg).expect("writes");
}
