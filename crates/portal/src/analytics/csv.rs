//! CSV of every chart: the same numbers as its endpoint (money in minor units, rates as
//! fractions), one row per point, a header naming each column. Every front end exports through
//! these, so a CSV never differs from the screen it came from.

use super::{
    FunnelReport, GrowthSeries, MrrSeries, RetentionReport, TopClients, TopFeatures, TopUsage,
};
use crate::csv_out::CsvWriter;
use domain::analytics::{FunnelStep, Movement, MovementKind};
use domain::error::{Error, Result};
use std::io::Write;

fn fail(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("cannot write the CSV: {e}"))
}

/// Writes `rows` under `header`; returns how many rows were written.
fn write<W: Write>(out: W, header: &[&str], rows: Vec<Vec<String>>) -> Result<u64> {
    let mut w = CsvWriter::from_writer(out);
    w.write_record(header).map_err(fail)?;
    let n = rows.len() as u64;
    for r in rows {
        w.write_record(r).map_err(fail)?;
    }
    w.flush().map_err(fail)?;
    Ok(n)
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

pub fn kind_name(k: MovementKind) -> &'static str {
    match k {
        MovementKind::New => "new",
        MovementKind::Expansion => "expansion",
        MovementKind::Reactivation => "reactivation",
        MovementKind::Contraction => "contraction",
        MovementKind::Churn => "churn",
    }
}

pub fn mrr<W: Write>(s: &MrrSeries, out: W) -> Result<u64> {
    let currency = s.currency.clone().unwrap_or_default();
    let rows = s
        .points
        .iter()
        .map(|d| {
            vec![
                d.day.to_string(),
                currency.clone(),
                d.start.to_string(),
                d.new.to_string(),
                d.expansion.to_string(),
                d.reactivation.to_string(),
                d.contraction.to_string(),
                d.churn.to_string(),
                d.end.to_string(),
                d.arr().to_string(),
                d.customers_start.to_string(),
                d.new_customers.to_string(),
                d.reactivated_customers.to_string(),
                d.churned_customers.to_string(),
                d.customers_end.to_string(),
            ]
        })
        .collect();
    let header = [
        "period",
        "currency",
        "mrr_start",
        "new",
        "expansion",
        "reactivation",
        "contraction",
        "churn",
        "mrr_end",
        "arr_end",
        "customers_start",
        "new_customers",
        "reactivated_customers",
        "churned_customers",
        "customers_end",
    ];
    write(out, &header, rows)
}

pub fn movements<W: Write>(currency: &str, m: &[Movement], out: W) -> Result<u64> {
    let rows = m
        .iter()
        .map(|m| {
            vec![
                m.day.to_string(),
                currency.to_string(),
                m.org_id.to_string(),
                kind_name(m.kind).to_string(),
                m.before.to_string(),
                m.after.to_string(),
            ]
        })
        .collect();
    let header = [
        "day",
        "currency",
        "org_id",
        "kind",
        "mrr_before",
        "mrr_after",
    ];
    write(out, &header, rows)
}

pub fn growth<W: Write>(g: &GrowthSeries, out: W) -> Result<u64> {
    let rows = g
        .points
        .iter()
        .map(|d| {
            [
                d.signups,
                d.users.daily,
                d.users.weekly,
                d.users.monthly,
                d.orgs.daily,
                d.orgs.weekly,
                d.orgs.monthly,
            ]
            .iter()
            .fold(vec![d.day.to_string()], |mut r, n| {
                r.push(n.to_string());
                r
            })
        })
        .collect();
    let header = [
        "period",
        "signups",
        "users_daily",
        "users_weekly",
        "users_monthly",
        "orgs_daily",
        "orgs_weekly",
        "orgs_monthly",
    ];
    write(out, &header, rows)
}

pub fn top_clients<W: Write>(t: &TopClients, out: W) -> Result<u64> {
    let currency = t.currency.clone().unwrap_or_default();
    let rows = t
        .clients
        .iter()
        .map(|c| {
            vec![
                c.org_id.to_string(),
                currency.clone(),
                c.mrr.to_string(),
                c.share.to_string(),
            ]
        })
        .collect();
    write(out, &["org_id", "currency", "mrr", "share"], rows)
}

pub fn top_usage<W: Write>(t: &TopUsage, out: W) -> Result<u64> {
    let rows = t
        .clients
        .iter()
        .map(|c| {
            vec![
                c.org_id.to_string(),
                c.events.to_string(),
                c.active_days.to_string(),
                c.peak_users.to_string(),
            ]
        })
        .collect();
    let header = ["org_id", "events", "active_days", "peak_users"];
    write(out, &header, rows)
}

pub fn top_features<W: Write>(t: &TopFeatures, out: W) -> Result<u64> {
    let rows = t
        .features
        .iter()
        .map(|f| vec![f.feature.clone(), f.uses.to_string(), f.orgs.to_string()])
        .collect();
    write(out, &["feature", "uses", "orgs"], rows)
}

pub fn funnel<W: Write>(f: &FunnelReport, out: W) -> Result<u64> {
    steps(&f.steps, out)
}

/// A funnel's steps (an ad-hoc run's, or a saved funnel's over a period).
pub fn steps<W: Write>(steps: &[FunnelStep], out: W) -> Result<u64> {
    let rows = steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            vec![
                (i + 1).to_string(),
                s.name.clone(),
                s.count.to_string(),
                opt(s.conversion_from_previous),
                opt(s.conversion_from_start),
                s.drop_off.to_string(),
                opt(s.median_ms),
                opt(s.mean_ms),
            ]
        })
        .collect();
    let header = [
        "step",
        "event",
        "count",
        "conversion_from_previous",
        "conversion_from_start",
        "drop_off",
        "median_ms",
        "mean_ms",
    ];
    write(out, &header, rows)
}

/// Retention in long form: the period's row (`scope` = `period`, `months_after` empty), then
/// one row per cohort and month after its first payment.
pub fn retention<W: Write>(r: &RetentionReport, out: W) -> Result<u64> {
    let currency = r.currency.clone().unwrap_or_default();
    let mut rows = vec![vec![
        "period".to_string(),
        currency.clone(),
        String::new(),
        String::new(),
        String::new(),
        opt(r.period.nrr),
        opt(r.period.grr),
    ]];
    for c in &r.cohorts {
        for (k, m) in c.months.iter().enumerate() {
            rows.push(vec![
                c.month.to_string(),
                currency.clone(),
                c.organisations.to_string(),
                c.base_mrr.to_string(),
                (k + 1).to_string(),
                opt(m.nrr),
                opt(m.grr),
            ]);
        }
    }
    let header = [
        "scope",
        "currency",
        "organisations",
        "base_mrr",
        "months_after",
        "nrr",
        "grr",
    ];
    write(out, &header, rows)
}

/// The CSV of any chart's data.
pub fn chart<W: Write>(data: &domain::model::analytics::ChartData, out: W) -> Result<u64> {
    use domain::model::analytics::ChartData;
    match data {
        ChartData::Mrr(s) => mrr(s, out),
        ChartData::Growth(g) => growth(g, out),
        ChartData::TopClients(t) => top_clients(t, out),
        ChartData::TopUsage(t) => top_usage(t, out),
        ChartData::TopFeatures(t) => top_features(t, out),
        ChartData::Funnel(f) => funnel(f, out),
        ChartData::Retention(r) => retention(r, out),
        ChartData::SavedFunnel(f) => steps(&f.steps, out),
    }
}
