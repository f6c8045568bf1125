//! Charts: a [`ChartSpec`] (categories and series of numbers) in, an SVG string out, themed for
//! light and dark. Rendered by plotters' SVG backend, so it needs no font packages and no
//! browser. Owns drawing only: the numbers come from the Portal; it depends on nothing else of
//! the product.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeriesKind {
    Line,
    Bar,
    /// Stacked with the other stacked series of its axis: positive values upwards from zero,
    /// negative ones downwards (movements: new and expansion up, churn down).
    Stacked,
}

/// One named series: one value per category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub name: String,
    pub kind: SeriesKind,
    pub values: Vec<f64>,
    /// Drawn against a second y axis on the right (for a series of another magnitude).
    #[serde(default)]
    pub secondary_axis: bool,
}

/// What to draw: categories along x (e.g. days), series along y.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartSpec {
    pub title: Option<String>,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
    pub y_label: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    #[default]
    Light,
    Dark,
}

struct Palette {
    background: RGBColor,
    text: RGBColor,
    grid: RGBColor,
    series: [RGBColor; 6],
}

impl Theme {
    fn palette(self) -> Palette {
        match self {
            Theme::Light => Palette {
                background: RGBColor(255, 255, 255),
                text: RGBColor(51, 65, 85),
                grid: RGBColor(226, 232, 240),
                series: [
                    RGBColor(43, 89, 195),
                    RGBColor(16, 163, 127),
                    RGBColor(234, 88, 12),
                    RGBColor(147, 51, 234),
                    RGBColor(220, 38, 38),
                    RGBColor(13, 148, 136),
                ],
            },
            Theme::Dark => Palette {
                background: RGBColor(24, 27, 34),
                text: RGBColor(203, 213, 225),
                grid: RGBColor(51, 58, 72),
                series: [
                    RGBColor(96, 142, 255),
                    RGBColor(52, 211, 153),
                    RGBColor(251, 146, 60),
                    RGBColor(192, 132, 252),
                    RGBColor(248, 113, 113),
                    RGBColor(45, 212, 191),
                ],
            },
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("series `{0}` has {1} values for {2} categories")]
    Length(String, usize, usize),
    #[error("the chart is too small to draw ({0}×{1})")]
    Size(u32, u32),
    #[error("drawing failed: {0}")]
    Draw(String),
}

fn draw_err<E: std::fmt::Debug>(e: E) -> ChartError {
    ChartError::Draw(format!("{e:?}"))
}

/// Renders the chart as a standalone SVG document of `width`×`height` pixels.
pub fn render_svg(
    spec: &ChartSpec,
    theme: Theme,
    width: u32,
    height: u32,
) -> Result<String, ChartError> {
    if width < 120 || height < 80 {
        return Err(ChartError::Size(width, height));
    }
    let n = spec.categories.len();
    for s in &spec.series {
        if s.values.len() != n {
            return Err(ChartError::Length(s.name.clone(), s.values.len(), n));
        }
    }
    let p = theme.palette();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&p.background).map_err(draw_err)?;
        // Each axis' extent: its plain values, and its stacks' sums either side of zero.
        let extent = |secondary: bool| {
            let on_axis = || {
                spec.series
                    .iter()
                    .filter(move |s| s.secondary_axis == secondary)
            };
            let (mut lo, mut hi) = on_axis()
                .filter(|s| s.kind != SeriesKind::Stacked)
                .flat_map(|s| s.values.iter().copied())
                .fold((0.0_f64, 0.0_f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
            for i in 0..n {
                let stack = on_axis().filter(|s| s.kind == SeriesKind::Stacked);
                let (down, up) = stack.fold((0.0, 0.0), |(d, u), s| {
                    let v = s.values[i];
                    if v < 0.0 {
                        (d + v, u)
                    } else {
                        (d, u + v)
                    }
                });
                lo = lo.min(down);
                hi = hi.max(up);
            }
            let bottom = if lo < 0.0 { -nice_ceiling(-lo) } else { 0.0 };
            (bottom, nice_ceiling(hi))
        };
        let (bottom, top) = extent(false);
        let (mut bottom2, top2) = extent(true);
        if bottom < 0.0 && bottom2 == 0.0 {
            // The right axis' zero at the height of the left one's.
            bottom2 = top2 * bottom / top;
        }
        let has_secondary = spec.series.iter().any(|s| s.secondary_axis);
        let text = |size: u32| ("sans-serif", size).into_font().color(&p.text);
        let mut builder = ChartBuilder::on(&root);
        builder
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(44);
        if has_secondary {
            builder.right_y_label_area_size(44);
        }
        if let Some(t) = &spec.title {
            builder.caption(t, text(16));
        }
        let x_max = n.max(1) as f64;
        let mut chart = builder
            .build_cartesian_2d(0.0..x_max, bottom..top)
            .map_err(draw_err)?
            .set_secondary_coord(0.0..x_max, bottom2..top2);
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(p.grid)
            .axis_style(p.grid)
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(5)
            .y_label_formatter(&|y| format_number(*y))
            .label_style(text(11))
            .y_desc(spec.y_label.clone().unwrap_or_default())
            .axis_desc_style(text(11))
            .draw()
            .map_err(draw_err)?;
        if has_secondary {
            chart
                .configure_secondary_axes()
                .axis_style(p.grid)
                .y_labels(5)
                .y_label_formatter(&|y| format_number(*y))
                .label_style(text(11))
                .draw()
                .map_err(draw_err)?;
        }
        // Each category's label under its middle, as many as fit (every `step`th).
        let longest = spec
            .categories
            .iter()
            .map(|c| c.chars().count())
            .max()
            .unwrap_or(1);
        let fit = (width as usize / (longest * 7 + 16)).max(1);
        let step = n.div_ceil(fit).max(1);
        for (i, label) in spec.categories.iter().enumerate().step_by(step) {
            let (x, y) = chart.backend_coord(&(i as f64 + 0.5, bottom));
            let style = text(11).pos(Pos::new(HPos::Center, VPos::Top));
            root.draw(&Text::new(label.clone(), (x, y + 6), style))
                .map_err(draw_err)?;
        }
        let bars: Vec<&Series> = spec
            .series
            .iter()
            .filter(|s| s.kind == SeriesKind::Bar)
            .collect();
        let width_each = 0.8 / bars.len().max(1) as f64;
        // Where each category's stack has reached, above and below zero, per axis.
        let mut stacked: [(Vec<f64>, Vec<f64>); 2] =
            [(vec![0.0; n], vec![0.0; n]), (vec![0.0; n], vec![0.0; n])];
        for (k, s) in spec.series.iter().enumerate() {
            let color = p.series[k % p.series.len()];
            match s.kind {
                SeriesKind::Stacked | SeriesKind::Bar => {
                    let rects: Vec<Rectangle<(f64, f64)>> = if s.kind == SeriesKind::Stacked {
                        // On top of (or below) what this category's stack has reached.
                        let (up, down) = &mut stacked[usize::from(s.secondary_axis)];
                        s.values
                            .iter()
                            .enumerate()
                            .map(|(i, v)| {
                                let base = if *v < 0.0 { &mut down[i] } else { &mut up[i] };
                                let from = *base;
                                *base += v;
                                let x0 = i as f64 + 0.1;
                                Rectangle::new([(x0, from), (x0 + 0.8, *base)], color.filled())
                            })
                            .collect()
                    } else {
                        // Side by side with the other bars.
                        let slot =
                            bars.iter().position(|b| std::ptr::eq(*b, s)).unwrap_or(0) as f64;
                        s.values
                            .iter()
                            .enumerate()
                            .map(|(i, v)| {
                                let x0 = i as f64 + 0.1 + slot * width_each;
                                Rectangle::new([(x0, 0.0), (x0 + width_each, *v)], color.filled())
                            })
                            .collect()
                    };
                    let drawn = if s.secondary_axis {
                        chart.draw_secondary_series(rects)
                    } else {
                        chart.draw_series(rects)
                    };
                    drawn
                        .map_err(draw_err)?
                        .label(&s.name)
                        .legend(move |(x, y)| {
                            Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
                        });
                }
                SeriesKind::Line => {
                    let line = LineSeries::new(
                        s.values
                            .iter()
                            .enumerate()
                            .map(|(i, v)| (i as f64 + 0.5, *v)),
                        color.stroke_width(2),
                    );
                    let drawn = if s.secondary_axis {
                        chart.draw_secondary_series(line)
                    } else {
                        chart.draw_series(line)
                    };
                    drawn
                        .map_err(draw_err)?
                        .label(&s.name)
                        .legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 14, y)], color.stroke_width(2))
                        });
                }
            }
        }
        if !spec.series.is_empty() {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(p.background.mix(0.85))
                .border_style(p.grid)
                .label_font(text(11))
                .draw()
                .map_err(draw_err)?;
        }
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

/// The smallest "nice" number (1, 2, 5 × 10^k) at or above `v`, at least 1.
fn nice_ceiling(v: f64) -> f64 {
    if v <= 1.0 {
        return 1.0;
    }
    let mag = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * mag >= v {
            return m * mag;
        }
    }
    10.0 * mag
}

fn format_number(v: f64) -> String {
    if v.abs() >= 1_000_000.0 {
        format!("{:.1}M", v / 1_000_000.0)
    } else if v.abs() >= 1000.0 {
        format!("{:.1}k", v / 1000.0)
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ChartSpec {
        ChartSpec {
            title: Some("Keys".into()),
            categories: (1..=30).map(|d| format!("11-{d:02}")).collect(),
            series: vec![
                Series {
                    name: "created".into(),
                    kind: SeriesKind::Bar,
                    values: (0..30).map(|i| (i % 4) as f64).collect(),
                    secondary_axis: false,
                },
                Series {
                    name: "verifications".into(),
                    kind: SeriesKind::Line,
                    values: (0..30).map(|i| (i * 37 % 200) as f64).collect(),
                    secondary_axis: true,
                },
            ],
            y_label: None,
        }
    }

    #[test]
    fn renders_svg_with_legend_in_both_themes() {
        let light = render_svg(&spec(), Theme::Light, 720, 280).unwrap();
        let dark = render_svg(&spec(), Theme::Dark, 720, 280).unwrap();
        for svg in [&light, &dark] {
            assert!(svg.starts_with("<svg"), "{}", &svg[..60]);
            assert!(
                svg.contains("verifications") && svg.contains("created"),
                "the legend names each series"
            );
            assert!(svg.contains("<rect"), "bars are drawn");
            assert!(
                svg.contains("<polyline") || svg.contains("<path"),
                "the line is drawn"
            );
        }
        assert!(
            dark.contains("#181B22")
                || dark.contains("rgb(24,27,34)")
                || dark.to_lowercase().contains("#181b22"),
            "the dark theme paints a dark background"
        );
    }

    #[test]
    fn rejects_mismatched_series_and_tiny_sizes() {
        let mut s = spec();
        s.series[0].values.pop();
        assert!(matches!(
            render_svg(&s, Theme::Light, 720, 280),
            Err(ChartError::Length(..))
        ));
        assert!(matches!(
            render_svg(&spec(), Theme::Light, 10, 10),
            Err(ChartError::Size(..))
        ));
    }

    #[test]
    fn stacks_go_up_and_down_from_zero() {
        let stacked = |name: &str, values: Vec<f64>| Series {
            name: name.into(),
            kind: SeriesKind::Stacked,
            values,
            secondary_axis: false,
        };
        let s = ChartSpec {
            title: None,
            categories: vec!["a".into(), "b".into()],
            series: vec![
                stacked("new", vec![300.0, 100.0]),
                stacked("expansion", vec![200.0, 0.0]),
                stacked("churn", vec![-150.0, -40.0]),
            ],
            y_label: None,
        };
        let svg = render_svg(&s, Theme::Light, 400, 240).unwrap();
        assert!(svg.contains("churn") && svg.contains("expansion"));
        // The axis reaches below zero for the churn.
        assert!(svg.contains("-200"), "the axis is labelled below zero");
        assert_eq!(format_number(-2500.0), "-2.5k");
    }

    #[test]
    fn empty_data_still_renders() {
        let s = ChartSpec {
            title: None,
            categories: vec![],
            series: vec![],
            y_label: None,
        };
        assert!(render_svg(&s, Theme::Light, 400, 200)
            .unwrap()
            .contains("<svg"));
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(180.0), 200.0);
    }
}
