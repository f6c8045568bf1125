//! The analytics report: a cover (period, snapshot, generation time), revenue (the figures, the
//! MRR chart, the ledger by month), growth (the chart and the months), and the top clients and
//! features — every number from the same Portal answers as the endpoints and the screens.

use crate::charts::spec_of;
use crate::page::{Column, ReportError, Writer};
use domain::analytics::{Day, Interval};
use domain::error::{Error, Result};
use domain::model::analytics::{
    ChartData, FeatureRank, GrowthSeries, MrrQuery, MrrSeries, TopClients, TopFeatures, UsageQuery,
};
use domain::{Actor, Timestamp};
use krilla::metadata::{DateTime, Metadata};
use portal::Analytics;

/// The template's version, written in the document: a change to the layout is a new version.
pub const TEMPLATE_VERSION: &str = "analytics-report/1";

/// Everything the report shows.
#[derive(Debug, Clone)]
pub struct Contents {
    pub mrr: MrrSeries,
    pub growth: GrowthSeries,
    pub top_clients: TopClients,
    pub top_features: TopFeatures,
    pub generated_at: Timestamp,
}

/// Reads the report's contents through the Portal (by month over the period; by default the
/// last 12 months up to the snapshot).
pub async fn gather(
    p: &dyn Analytics,
    actor: &Actor,
    from: Option<Day>,
    to: Option<Day>,
    generated_at: Timestamp,
) -> Result<Contents> {
    let from = from.or_else(|| Some(to.unwrap_or_else(|| Day::of(generated_at)).plus(-364)));
    let mrr = p
        .mrr(
            actor,
            MrrQuery {
                currency: None,
                from,
                to,
                interval: Some(Interval::Month),
            },
        )
        .await?;
    let usage = UsageQuery {
        org_id: None,
        from,
        to,
        interval: Some(Interval::Month),
        limit: Some(10),
        by: Some(FeatureRank::Uses),
    };
    let growth = p.growth(actor, usage.clone()).await?;
    let top_clients = p
        .top_clients_by_mrr(actor, mrr.currency.clone(), None, Some(10))
        .await?;
    let top_features = p.top_features(actor, usage).await?;
    Ok(Contents {
        mrr,
        growth,
        top_clients,
        top_features,
        generated_at,
    })
}

/// Minor units as an amount with grouped thousands and the currency: `12,345.67 EUR`.
pub fn money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let units = (minor.unsigned_abs() / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!(
        "{sign}{grouped}.{:02} {currency}",
        minor.unsigned_abs() % 100
    )
}

fn percent(f: Option<f64>) -> String {
    f.map_or("—".into(), |f| format!("{:.1}%", f * 100.0))
}

fn chart(w: &mut Writer, data: ChartData) -> std::result::Result<(), ReportError> {
    if let Some(spec) = spec_of(&data) {
        let svg = charts::render_svg(&spec, charts::Theme::Light, 900, 320)
            .map_err(|e| ReportError::Chart(e.to_string()))?;
        w.svg(&svg)?;
    }
    Ok(())
}

/// `2026-11-27 01:02:03 UTC`.
fn stamp(t: Timestamp) -> String {
    let text = t.to_rfc3339();
    format!("{} UTC", text.get(..19).unwrap_or(&text).replace('T', " "))
}

/// The PDF of `c`: the same contents always make the same bytes.
pub fn render(c: &Contents) -> Result<Vec<u8>> {
    render_pdf(c).map_err(|e| Error::internal(e.to_string()))
}

fn render_pdf(c: &Contents) -> std::result::Result<Vec<u8>, ReportError> {
    let mut w = Writer::new()?;
    let m = &c.mrr;
    let currency = m.currency.clone().unwrap_or_default();
    w.space(120.0);
    w.heading("Provider Admin — Analytics report", 22.0);
    w.line(&format!("Period: {} to {}", m.from, m.to));
    match (m.as_of, m.refreshed_at) {
        (Some(d), Some(r)) => w.line(&format!("Snapshot: as of {d}, refreshed {}", stamp(r))),
        _ => w.line("Snapshot: none yet (nothing billed, or never refreshed)"),
    }
    w.line(&format!("Generated: {}", stamp(c.generated_at)));
    if !currency.is_empty() {
        w.line(&format!("Currency: {currency} (amounts in its units)"));
    }
    w.note(&format!("Template {TEMPLATE_VERSION}. MRR and its movements follow ChartMogul's definitions: every period reconciles, start + new + expansion + reactivation − contraction − churn = end."));

    w.new_page();
    w.heading("Revenue", 16.0);
    match &m.total {
        None => w.line("No revenue in this period."),
        Some(t) => {
            w.line(&format!("MRR at the end: {}", money(t.end, &currency)));
            w.line(&format!("ARR at the end: {}", money(t.arr(), &currency)));
            w.line(&format!("MRR at the start: {}", money(t.start, &currency)));
            let net = t.new + t.expansion + t.reactivation - t.contraction - t.churn;
            w.line(&format!("Net new MRR: {}", money(net, &currency)));
            w.line(&format!(
                "Paying organisations: {} (+{} new, +{} reactivated, −{} churned)",
                t.customers_end, t.new_customers, t.reactivated_customers, t.churned_customers
            ));
            if let Some(r) = &m.rates {
                w.line(&format!(
                    "Gross MRR churn {}, net MRR churn {}, customer churn {}",
                    percent(r.gross_mrr_churn),
                    percent(r.net_mrr_churn),
                    percent(r.customer_churn)
                ));
            }
            w.space(6.0);
            chart(&mut w, ChartData::Mrr(m.clone()))?;
            let col = |title, width, numeric| Column {
                title,
                width,
                numeric,
            };
            let rows: Vec<Vec<String>> = m
                .points
                .iter()
                .map(|d| {
                    [
                        d.start,
                        d.new,
                        d.expansion,
                        d.reactivation,
                        -d.contraction,
                        -d.churn,
                        d.end,
                    ]
                    .iter()
                    .fold(vec![d.day.to_string()], |mut r, v| {
                        r.push(money(*v, "").trim().to_string());
                        r
                    })
                })
                .collect();
            w.table(
                &[
                    col("Month", 62.0, false),
                    col("Start", 68.0, true),
                    col("New", 62.0, true),
                    col("Expansion", 62.0, true),
                    col("Reactiv.", 56.0, true),
                    col("Contraction", 60.0, true),
                    col("Churn", 60.0, true),
                    col("End", 69.0, true),
                ],
                &rows,
            );
        }
    }

    w.heading("Growth", 16.0);
    let g = &c.growth;
    if g.points.is_empty() {
        w.line("No product events in this period.");
    } else {
        chart(&mut w, ChartData::Growth(g.clone()))?;
        let rows: Vec<Vec<String>> = g
            .points
            .iter()
            .map(|d| {
                vec![
                    d.day.to_string(),
                    d.signups.to_string(),
                    d.users.daily.to_string(),
                    d.users.weekly.to_string(),
                    d.users.monthly.to_string(),
                    d.orgs.monthly.to_string(),
                ]
            })
            .collect();
        let col = |title, width, numeric| Column {
            title,
            width,
            numeric,
        };
        w.table(
            &[
                col("Month", 90.0, false),
                col("Sign-ups", 80.0, true),
                col("DAU", 80.0, true),
                col("WAU", 80.0, true),
                col("MAU", 80.0, true),
                col("Active orgs", 89.0, true),
            ],
            &rows,
        );
    }

    w.heading("Top clients by MRR", 16.0);
    let t = &c.top_clients;
    if t.clients.is_empty() {
        w.line("Nobody pays yet.");
    } else {
        let rows: Vec<Vec<String>> = t
            .clients
            .iter()
            .map(|x| {
                vec![
                    x.org_id.to_string(),
                    money(x.mrr, &currency),
                    percent(Some(x.share)),
                ]
            })
            .collect();
        w.table(
            &[
                Column {
                    title: "Organisation",
                    width: 260.0,
                    numeric: false,
                },
                Column {
                    title: "MRR",
                    width: 130.0,
                    numeric: true,
                },
                Column {
                    title: "Share",
                    width: 100.0,
                    numeric: true,
                },
            ],
            &rows,
        );
    }

    w.heading("Top features", 16.0);
    let f = &c.top_features;
    if f.features.is_empty() {
        w.line("No feature used in this period.");
    } else {
        let rows: Vec<Vec<String>> = f
            .features
            .iter()
            .map(|x| vec![x.feature.clone(), x.uses.to_string(), x.orgs.to_string()])
            .collect();
        w.table(
            &[
                Column {
                    title: "Feature",
                    width: 260.0,
                    numeric: false,
                },
                Column {
                    title: "Uses",
                    width: 130.0,
                    numeric: true,
                },
                Column {
                    title: "Organisations",
                    width: 100.0,
                    numeric: true,
                },
            ],
            &rows,
        );
    }

    w.finish(metadata(c))
}

/// Fixed metadata: the title, the template, and the generation time as the creation date (so the
/// same contents give the same document id and bytes).
fn metadata(c: &Contents) -> Metadata {
    let day = Day::of(c.generated_at).to_string();
    let part = |i: usize, n: usize| day.get(i..i + n).and_then(|s| s.parse::<u16>().ok());
    let secs = c.generated_at.millis().rem_euclid(86_400_000) / 1000;
    let mut date = DateTime::new(part(0, 4).unwrap_or(1970));
    if let (Some(month), Some(dom)) = (part(5, 2), part(8, 2)) {
        date = date
            .month(month as u8)
            .day(dom as u8)
            .hour((secs / 3600) as u8)
            .minute((secs / 60 % 60) as u8)
            .second((secs % 60) as u8)
            .utc_offset_hour(0);
    }
    Metadata::new()
        .title(format!("Analytics report {} to {}", c.mrr.from, c.mrr.to))
        .creator(format!("Provider Admin ({TEMPLATE_VERSION})"))
        .producer("Provider Admin".into())
        .creation_date(date)
        .document_id(format!(
            "{TEMPLATE_VERSION} {} {} {}",
            c.mrr.from,
            c.mrr.to,
            c.generated_at.millis()
        ))
}
