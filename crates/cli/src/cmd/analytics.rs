//! `padmin analytics`: the snapshots' refresh, and each chart as a table, JSON (`--json`, the
//! endpoint's own shape) or CSV (`--csv FILE`, the same numbers).

use super::common::done;
use super::funnels::{self, percent, print_steps, to_csv, SpecArgs};
use crate::output::{table, when};
use crate::session::Session;
use clap::{Args, Subcommand};
use domain::analytics::{Day, Interval, MovementKind};
use domain::error::{Error, Result};
use portal::analytics::{
    csv, FeatureRank, FunnelQuery, MovementQuery, MrrQuery, RetentionQuery, UsageQuery,
};
use report::analytics::money;
use std::path::PathBuf;
use uuid::Uuid;

#[derive(Args, Debug, Clone, Default)]
pub struct Period {
    /// The first day (YYYY-MM-DD; by default 90 days before --to).
    #[arg(long)]
    from: Option<String>,
    /// The last day (YYYY-MM-DD; by default the snapshot's last day).
    #[arg(long)]
    to: Option<String>,
    /// day, week or month (by default day).
    #[arg(long)]
    interval: Option<String>,
}

impl Period {
    fn days(&self) -> Result<(Option<Day>, Option<Day>)> {
        let day = |f: &str, v: &Option<String>| v.as_deref().map(|t| Day::parse(f, t)).transpose();
        Ok((day("from", &self.from)?, day("to", &self.to)?))
    }
    fn interval(&self) -> Result<Option<Interval>> {
        self.interval.as_deref().map(str::parse).transpose()
    }
    fn usage(&self, org: Option<Uuid>, limit: Option<u32>) -> Result<UsageQuery> {
        let (from, to) = self.days()?;
        Ok(UsageQuery {
            org_id: org,
            from,
            to,
            interval: self.interval()?,
            limit,
            by: None,
        })
    }
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Recompute the snapshots: the days whose facts changed, or everything with --full.
    Refresh {
        #[arg(long)]
        full: bool,
    },
    /// MRR and ARR with their movements (each row: start + new + expansion + reactivation −
    /// contraction − churn = end).
    Mrr {
        #[command(flatten)]
        period: Period,
        /// ISO 4217 (by default the currency with the most MRR).
        #[arg(long)]
        currency: Option<String>,
        /// Write the rows as CSV to FILE.
        #[arg(long)]
        csv: Option<PathBuf>,
    },
    /// The organisations' movements behind MRR (the drill-down).
    Movements {
        #[command(flatten)]
        period: Period,
        #[arg(long)]
        currency: Option<String>,
        /// new, expansion, reactivation, contraction or churn.
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        csv: Option<PathBuf>,
    },
    /// Net and gross revenue retention over the period (by default the last 12 months) and by
    /// monthly cohort of the organisations that first paid in it.
    Retention {
        /// The first day (YYYY-MM-DD).
        #[arg(long)]
        from: Option<String>,
        /// The last day (YYYY-MM-DD; by default the snapshot's last day).
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        currency: Option<String>,
        #[arg(long)]
        csv: Option<PathBuf>,
    },
    /// Sign-ups, and daily, weekly and monthly active users and organisations.
    Growth {
        #[command(flatten)]
        period: Period,
        /// One organisation's.
        #[arg(long)]
        org: Option<Uuid>,
        #[arg(long)]
        csv: Option<PathBuf>,
    },
    /// The organisations paying the most (--by mrr, at --to) or using the product the most
    /// (--by usage, over the period).
    TopClients {
        #[command(flatten)]
        period: Period,
        #[arg(long, default_value = "mrr")]
        by: String,
        #[arg(long)]
        currency: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
        #[arg(long)]
        csv: Option<PathBuf>,
    },
    /// The most used features, by uses or by organisations.
    TopFeatures {
        #[command(flatten)]
        period: Period,
        #[arg(long)]
        org: Option<Uuid>,
        /// uses or orgs.
        #[arg(long, default_value = "uses")]
        by: String,
        #[arg(long)]
        limit: Option<u32>,
        #[arg(long)]
        csv: Option<PathBuf>,
    },
    /// A funnel over the events of the period: who entered it, how far they went, how fast.
    Funnel {
        #[command(flatten)]
        spec: SpecArgs,
        #[arg(long)]
        org: Option<Uuid>,
        #[command(flatten)]
        period: Period,
        #[arg(long)]
        csv: Option<PathBuf>,
    },
    /// Saved funnels: snapshotted by every refresh, read in milliseconds.
    Funnels {
        #[command(subcommand)]
        cmd: funnels::Cmd,
    },
    /// The analytics report as a PDF: a cover, revenue (figures, chart, the months' ledger),
    /// growth, the top clients and features. By default the last 12 months.
    Report {
        /// Where to write the PDF.
        #[arg(long, required = true)]
        pdf: PathBuf,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
    },
}

pub async fn run(s: &Session, c: Cmd) -> Result<u8> {
    let (p, a) = (&s.portal, &s.actor);
    match c {
        Cmd::Report { pdf, from, to } => {
            let period = Period {
                from,
                to,
                interval: None,
            };
            let (from, to) = period.days()?;
            let now = domain::Clock::now(&domain::SystemClock);
            let contents = report::analytics::gather(p.as_ref(), a, from, to, now).await?;
            let bytes = report::analytics::render(&contents)?;
            std::fs::write(&pdf, &bytes).map_err(|e| {
                Error::invalid("pdf", format!("cannot write {}: {e}", pdf.display()))
            })?;
            let shown = serde_json::json!({
                "file": pdf, "bytes": bytes.len(), "from": contents.mrr.from, "to": contents.mrr.to,
            });
            done(s, &shown, |_| {
                println!(
                    "wrote the analytics report ({} to {}, {} KB) to {}",
                    contents.mrr.from,
                    contents.mrr.to,
                    bytes.len().div_ceil(1024),
                    pdf.display()
                )
            })
        }
        Cmd::Refresh { full } => done(s, &p.refresh_analytics(a, full).await?, |r| {
            match r.from {
                Some(from) => println!(
                    "recomputed {} ledger days from {from} ({}) with {} movements",
                    r.days,
                    r.currencies.join(", "),
                    r.movements
                ),
                None => println!("revenue: nothing changed since the last refresh"),
            }
            match r.usage_from {
                Some(from) => println!("recomputed {} usage days from {from}", r.usage_days),
                None => println!("usage: nothing changed since the last refresh"),
            }
        }),
        Cmd::Mrr {
            period,
            currency,
            csv: file,
        } => {
            let (from, to) = period.days()?;
            let q = MrrQuery {
                currency,
                from,
                to,
                interval: period.interval()?,
            };
            let series = p.mrr(a, q).await?;
            if let Some(path) = file {
                return to_csv(&path, |f| csv::mrr(&series, f));
            }
            done(s, &series, |m| {
                let c = m.currency.clone().unwrap_or_default();
                let mut t = table(&[
                    "period",
                    "MRR start",
                    "new",
                    "expansion",
                    "reactivation",
                    "contraction",
                    "churn",
                    "MRR end",
                    "ARR",
                    "customers",
                ]);
                for d in &m.points {
                    t.add_row(vec![
                        d.day.to_string(),
                        money(d.start, &c),
                        money(d.new, &c),
                        money(d.expansion, &c),
                        money(d.reactivation, &c),
                        money(-d.contraction, &c),
                        money(-d.churn, &c),
                        money(d.end, &c),
                        money(d.arr(), &c),
                        d.customers_end.to_string(),
                    ]);
                }
                println!("{t}");
                if let Some(r) = &m.rates {
                    println!(
                        "gross MRR churn {}, net MRR churn {}, customer churn {}",
                        percent(r.gross_mrr_churn),
                        percent(r.net_mrr_churn),
                        percent(r.customer_churn)
                    );
                }
                match m.as_of {
                    Some(d) => println!("as of {d}, refreshed {}", when(m.refreshed_at)),
                    None => println!("no snapshot yet: run `padmin analytics refresh`"),
                }
            })
        }
        Cmd::Movements {
            period,
            currency,
            kind,
            csv: file,
        } => {
            let (from, to) = period.days()?;
            let kind: Option<MovementKind> = kind.as_deref().map(str::parse).transpose()?;
            let q = MovementQuery {
                currency: currency.clone(),
                from,
                to,
                kind,
            };
            let moves = p.mrr_movements(a, q).await?;
            let c = currency.unwrap_or_default();
            if let Some(path) = file {
                return to_csv(&path, |f| csv::movements(&c, &moves, f));
            }
            done(s, &moves, |moves| {
                let mut t = table(&["day", "organisation", "movement", "before", "after"]);
                for m in moves {
                    t.add_row(vec![
                        m.day.to_string(),
                        m.org_id.to_string(),
                        csv::kind_name(m.kind).to_string(),
                        money(m.before, &c),
                        money(m.after, &c),
                    ]);
                }
                println!("{t}");
            })
        }
        Cmd::Retention {
            from,
            to,
            currency,
            csv: file,
        } => {
            let period = Period {
                from,
                to,
                interval: None,
            };
            let (from, to) = period.days()?;
            let q = RetentionQuery { currency, from, to };
            let r = p.retention(a, q).await?;
            if let Some(path) = file {
                return to_csv(&path, |f| csv::retention(&r, f));
            }
            done(s, &r, |r| {
                println!(
                    "{} to {}: NRR {}, GRR {} (the organisations paying on {})",
                    r.from,
                    r.to,
                    percent(r.period.nrr),
                    percent(r.period.grr),
                    r.from.plus(-1)
                );
                let months = r.by_month.len();
                let mut head = vec!["cohort".to_string(), "orgs".into(), "base MRR".into()];
                head.extend((1..=months).map(|k| format!("M{k}")));
                let head: Vec<&str> = head.iter().map(String::as_str).collect();
                let mut t = table(&head);
                let c = r.currency.clone().unwrap_or_default();
                for cohort in &r.cohorts {
                    let mut row = vec![
                        cohort
                            .month
                            .to_string()
                            .get(..7)
                            .unwrap_or_default()
                            .to_string(),
                        cohort.organisations.to_string(),
                        money(cohort.base_mrr, &c),
                    ];
                    row.extend(cohort.months.iter().map(|m| percent(m.nrr)));
                    t.add_row(row);
                }
                println!("{t}\nNRR by month after the first payment; --json has GRR too");
            })
        }
        Cmd::Growth {
            period,
            org,
            csv: file,
        } => {
            let g = p.growth(a, period.usage(org, None)?).await?;
            if let Some(path) = file {
                return to_csv(&path, |f| csv::growth(&g, f));
            }
            done(s, &g, |g| {
                let mut t = table(&[
                    "period",
                    "sign-ups",
                    "DAU",
                    "WAU",
                    "MAU",
                    "orgs/day",
                    "orgs/week",
                    "orgs/month",
                ]);
                for d in &g.points {
                    t.add_row(vec![
                        d.day.to_string(),
                        d.signups.to_string(),
                        d.users.daily.to_string(),
                        d.users.weekly.to_string(),
                        d.users.monthly.to_string(),
                        d.orgs.daily.to_string(),
                        d.orgs.weekly.to_string(),
                        d.orgs.monthly.to_string(),
                    ]);
                }
                println!("{t}");
            })
        }
        Cmd::TopClients {
            period,
            by,
            currency,
            limit,
            csv: file,
        } => match by.as_str() {
            "mrr" => {
                let (_, at) = period.days()?;
                let top = p.top_clients_by_mrr(a, currency, at, limit).await?;
                if let Some(path) = file {
                    return to_csv(&path, |f| csv::top_clients(&top, f));
                }
                done(s, &top, |top| {
                    let c = top.currency.clone().unwrap_or_default();
                    let mut t = table(&["organisation", "MRR", "share"]);
                    for x in &top.clients {
                        t.add_row(vec![
                            x.org_id.to_string(),
                            money(x.mrr, &c),
                            percent(Some(x.share)),
                        ]);
                    }
                    println!("{t}");
                    println!("at the end of {}: MRR {}", top.at, money(top.total_mrr, &c));
                })
            }
            "usage" => {
                let top = p
                    .top_clients_by_usage(a, period.usage(None, limit)?)
                    .await?;
                if let Some(path) = file {
                    return to_csv(&path, |f| csv::top_usage(&top, f));
                }
                done(s, &top, |top| {
                    let mut t = table(&["organisation", "events", "active days", "peak users"]);
                    for x in &top.clients {
                        t.add_row(vec![
                            x.org_id.to_string(),
                            x.events.to_string(),
                            x.active_days.to_string(),
                            x.peak_users.to_string(),
                        ]);
                    }
                    println!("{t}");
                })
            }
            other => Err(Error::invalid(
                "by",
                format!("{other:?} is not mrr or usage"),
            )),
        },
        Cmd::TopFeatures {
            period,
            org,
            by,
            limit,
            csv: file,
        } => {
            let mut q = period.usage(org, limit)?;
            q.by = Some(by.parse::<FeatureRank>()?);
            let top = p.top_features(a, q).await?;
            if let Some(path) = file {
                return to_csv(&path, |f| csv::top_features(&top, f));
            }
            done(s, &top, |top| {
                let mut t = table(&["feature", "uses", "organisations"]);
                for f in &top.features {
                    t.add_row(vec![
                        f.feature.clone(),
                        f.uses.to_string(),
                        f.orgs.to_string(),
                    ]);
                }
                println!("{t}");
            })
        }
        Cmd::Funnels { cmd } => funnels::run(s, cmd).await,
        Cmd::Funnel {
            spec,
            org,
            period,
            csv: file,
        } => {
            let (spec, by) = spec.spec()?;
            let (from, to) = period.days()?;
            let q = FunnelQuery {
                spec,
                org_id: org,
                from,
                to,
                by: Some(by),
            };
            let f = p.funnel(a, q).await?;
            if let Some(path) = file {
                return to_csv(&path, |out| csv::funnel(&f, out));
            }
            done(s, &f, |f| {
                print_steps(&f.steps);
                println!(
                    "entered {} to {}; {} events read",
                    f.from, f.to, f.events_read
                );
            })
        }
    }
}
