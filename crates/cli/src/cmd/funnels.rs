//! Funnels in `padmin analytics`: the spec's flags (shared by an ad-hoc `funnel` and `funnels
//! save`), the steps' table, and the saved funnels (`funnels list|save|show|delete`).

use super::common::done;
use crate::output::{table, when};
use crate::session::Session;
use clap::{Args, Subcommand};
use domain::analytics::{Day, Exclusion, FunnelSpec, FunnelStep};
use domain::error::{Error, Result};
use domain::model::parse_duration_secs;
use portal::analytics::{csv, FunnelSubject, NewFunnel, SavedFunnelQuery};
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// What a funnel counts: its steps, window, exclusions and subject.
#[derive(Args, Debug, Clone)]
pub struct SpecArgs {
    /// The steps' event names, in order (2 to 10), comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    steps: Vec<String>,
    /// The conversion window from the first step to the last (30m, 6h, 7d).
    #[arg(long, default_value = "7d")]
    window: String,
    /// An event that must not happen in between: EVENT (anywhere) or EVENT:FROM-TO (between
    /// those steps, numbered from 1). Repeatable.
    #[arg(long)]
    exclude: Vec<String>,
    /// user or org.
    #[arg(long, default_value = "user")]
    by: String,
}

impl SpecArgs {
    /// The spec (checked by the portal) and its subject.
    pub fn spec(self) -> Result<(FunnelSpec, FunnelSubject)> {
        let window_ms = parse_duration_secs(&self.window)
            .and_then(|s| s.checked_mul(1000))
            .ok_or_else(|| {
                Error::invalid(
                    "window",
                    format!("{:?} is not a duration (7d, 6h, 30m)", self.window),
                )
            })?;
        let exclusions = self
            .exclude
            .iter()
            .map(|x| exclusion(x, self.steps.len()))
            .collect::<Result<Vec<_>>>()?;
        let by = match self.by.as_str() {
            "user" => FunnelSubject::User,
            "org" => FunnelSubject::Org,
            other => {
                return Err(Error::invalid(
                    "by",
                    format!("{other:?} is not user or org"),
                ))
            }
        };
        let spec = FunnelSpec {
            steps: self.steps,
            window_ms,
            step_windows_ms: Vec::new(),
            exclusions,
        };
        Ok((spec, by))
    }
}

fn exclusion(text: &str, steps: usize) -> Result<Exclusion> {
    let bad = || {
        Error::invalid(
            "exclude",
            format!("{text:?} is not EVENT or EVENT:FROM-TO (steps numbered from 1)"),
        )
    };
    let (event, from_step, to_step) = match text.rsplit_once(':') {
        None => (text.to_string(), 1, steps),
        Some((event, range)) => {
            let (a, b) = range.split_once('-').ok_or_else(bad)?;
            let n = |s: &str| s.trim().parse::<usize>().map_err(|_| bad());
            (event.to_string(), n(a)?, n(b)?)
        }
    };
    Ok(Exclusion {
        event,
        from_step,
        to_step,
    })
}

pub fn percent(f: Option<f64>) -> String {
    f.map_or("—".into(), |f| format!("{:.1}%", f * 100.0))
}

fn hours(ms: Option<i64>) -> String {
    ms.map_or("—".into(), |ms| {
        format!("{:.1} h", ms as f64 / 3_600_000.0)
    })
}

/// Prints a funnel's steps as a table.
pub fn print_steps(steps: &[FunnelStep]) {
    let mut t = table(&[
        "step",
        "event",
        "reached",
        "from previous",
        "from start",
        "dropped",
        "median time",
        "mean time",
    ]);
    for (i, st) in steps.iter().enumerate() {
        t.add_row(vec![
            (i + 1).to_string(),
            st.name.clone(),
            st.count.to_string(),
            percent(st.conversion_from_previous),
            percent(st.conversion_from_start),
            st.drop_off.to_string(),
            hours(st.median_ms),
            hours(st.mean_ms),
        ]);
    }
    println!("{t}");
}

/// Writes a chart's CSV to `path` and says so.
pub fn to_csv(path: &Path, write: impl FnOnce(std::fs::File) -> Result<u64>) -> Result<u8> {
    let file = std::fs::File::create(path)
        .map_err(|e| Error::invalid("csv", format!("cannot create {}: {e}", path.display())))?;
    let n = write(file)?;
    eprintln!("wrote {n} rows to {}", path.display());
    Ok(0)
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// The saved funnels.
    List,
    /// Save a funnel: every refresh snapshots it (a year back the first time).
    Save {
        /// Its name (unique).
        #[arg(long, required = true)]
        name: String,
        #[command(flatten)]
        spec: SpecArgs,
    },
    /// A saved funnel over a period (by default the 30 days up to its snapshot's last day).
    Show {
        id: String,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        /// One organisation's subjects.
        #[arg(long)]
        org: Option<Uuid>,
        #[arg(long)]
        csv: Option<PathBuf>,
    },
    /// Forget a saved funnel and its snapshot.
    Delete { id: String },
}

pub async fn run(s: &Session, c: Cmd) -> Result<u8> {
    let (p, a) = (&s.portal, &s.actor);
    match c {
        Cmd::List => done(s, &p.saved_funnels(a).await?, |all| {
            let mut t = table(&["id", "name", "steps", "by", "snapshot to", "saved"]);
            for f in all {
                t.add_row(vec![
                    f.id.to_string(),
                    f.name.clone(),
                    f.spec.steps.join(" → "),
                    format!("{:?}", f.by).to_lowercase(),
                    f.snapshot_to
                        .map_or("not yet: run a refresh".into(), |d| d.to_string()),
                    when(Some(f.created_at)),
                ]);
            }
            println!("{t}");
        }),
        Cmd::Save { name, spec } => {
            let (spec, by) = spec.spec()?;
            let f = p
                .save_funnel(
                    a,
                    NewFunnel {
                        name,
                        spec,
                        by: Some(by),
                    },
                )
                .await?;
            done(s, &f, |f| {
                println!(
                    "saved funnel {:?} ({}); `padmin analytics refresh` snapshots it",
                    f.name, f.id
                )
            })
        }
        Cmd::Show {
            id,
            from,
            to,
            org,
            csv: file,
        } => {
            let day =
                |f: &str, v: &Option<String>| v.as_deref().map(|t| Day::parse(f, t)).transpose();
            let q = SavedFunnelQuery {
                org_id: org,
                from: day("from", &from)?,
                to: day("to", &to)?,
            };
            let r = p.saved_funnel(a, &id, q).await?;
            if let Some(path) = file {
                return to_csv(&path, |out| csv::steps(&r.steps, out));
            }
            done(s, &r, |r| {
                println!("{} — entered {} to {}", r.funnel.name, r.from, r.to);
                print_steps(&r.steps);
                match r.as_of {
                    Some(d) => println!("snapshot as of {d}, refreshed {}", when(r.refreshed_at)),
                    None => println!("not snapshotted yet: run `padmin analytics refresh`"),
                }
            })
        }
        Cmd::Delete { id } => {
            p.delete_funnel(a, &id).await?;
            done(s, &serde_json::json!({ "deleted": id }), |_| {
                println!("deleted the saved funnel {id}")
            })
        }
    }
}
