//! `padmin events import FILE`: product events from a CSV or NDJSON file. The whole file is
//! checked first — every bad row named by its line — and nothing is sent unless all of it is
//! good; then it is sent in batches, each idempotent by event id (an import that stops half way
//! is finished by running it again).

use super::common::{done, progress_bar};
use crate::session::Session;
use clap::Subcommand;
use domain::analytics::events::BATCH_MAX;
use domain::error::{Error, FieldError, Result};
use domain::Clock;
use portal::analytics::import::{rows, EventFormat};
use std::path::{Path, PathBuf};

/// The most bad rows one refused import lists.
const ERRORS_SHOWN: usize = 100;

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Import product events: CSV with the header id,org_id,user_id,name,feature,at (at in RFC
    /// 3339), or NDJSON (one JSON event per line).
    Import {
        file: PathBuf,
        /// csv or ndjson (by default from the file's extension).
        #[arg(long)]
        format: Option<String>,
    },
}

fn format_of(path: &Path, asked: Option<&str>) -> Result<EventFormat> {
    match asked {
        Some("csv") => Ok(EventFormat::Csv),
        Some("ndjson") | Some("jsonl") => Ok(EventFormat::Ndjson),
        Some(other) => Err(Error::invalid(
            "format",
            format!("{other:?} is not csv or ndjson"),
        )),
        None => EventFormat::of_name(&path.to_string_lossy()).ok_or_else(|| {
            Error::invalid(
                "format",
                "name the format with --format csv|ndjson (the file's extension does not say)",
            )
        }),
    }
}

fn open(path: &Path) -> Result<std::fs::File> {
    std::fs::File::open(path)
        .map_err(|e| Error::invalid("file", format!("cannot read {}: {e}", path.display())))
}

pub async fn run(s: &Session, c: Cmd) -> Result<u8> {
    let Cmd::Import { file, format } = c;
    let format = format_of(&file, format.as_deref())?;
    let now = domain::SystemClock.now();
    // First pass: check every row.
    let mut errors: Vec<FieldError> = Vec::new();
    let mut bad_rows = 0u64;
    let mut total = 0u64;
    for (_, row) in rows(open(&file)?, format, now)? {
        total += 1;
        if let Err(e) = row {
            bad_rows += 1;
            if errors.len() < ERRORS_SHOWN {
                errors.extend(e);
            }
        }
    }
    if bad_rows > 0 {
        if !s.json {
            eprintln!(
                "{bad_rows} of {total} rows are bad; nothing was imported (the first {} shown)",
                errors.len().min(ERRORS_SHOWN)
            );
        }
        return Err(Error::Invalid(errors));
    }
    if total == 0 {
        return Err(Error::invalid("file", "holds no events"));
    }
    // Second pass: send it in batches.
    let pb = progress_bar(s.json, "importing");
    pb.set_length(total);
    let (mut inserted, mut duplicates) = (0u64, 0u64);
    let mut batch = Vec::with_capacity(BATCH_MAX);
    let mut rows = rows(open(&file)?, format, now)?;
    loop {
        let next = rows.next();
        if let Some((line, row)) = next.as_ref().map(|(l, r)| (*l, r.clone())) {
            let event = row.map_err(|_| {
                Error::invalid("file", format!("line {line} changed while importing"))
            })?;
            batch.push(event);
        }
        if batch.len() == BATCH_MAX || (next.is_none() && !batch.is_empty()) {
            let n = batch.len() as u64;
            let r = s
                .portal
                .ingest_events(&s.actor, std::mem::take(&mut batch))
                .await?;
            inserted += r.inserted;
            duplicates += r.duplicates;
            pb.inc(n);
        }
        if next.is_none() {
            break;
        }
    }
    pb.finish_and_clear();
    let report = serde_json::json!({
        "received": total, "inserted": inserted, "duplicates": duplicates,
    });
    done(s, &report, |_| {
        println!(
            "imported {total} events from {}: {inserted} new, {duplicates} already there; run `padmin analytics refresh` to see them in the charts",
            file.display()
        )
    })
}
