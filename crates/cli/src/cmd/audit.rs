//! `padmin audit`: the audit trail.

use super::common::done;
use crate::output;
use crate::session::Session;
use clap::{Args, Subcommand};
use domain::error::Error;
use domain::model::{AuditFilter, CheckpointVerdict};
use domain::Timestamp;
use std::path::PathBuf;

/// Exit code of `audit verify` when the chain is broken.
const CHAIN_BROKEN: u8 = 11;
/// Exit code of `audit verify --against` when the checkpoint was not signed by this portal.
const CHECKPOINT_NOT_AUTHENTIC: u8 = 13;

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Browse events, newest first.
    List {
        #[command(flatten)]
        filter: AuditFilterArgs,
        #[arg(long)]
        limit: Option<u32>,
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Check the hash chain and report the first broken link (admins).
    Verify {
        /// A checkpoint file from `padmin audit checkpoint`: the event it names must still
        /// have the hash it recorded, which catches a history rewritten with recomputed hashes.
        #[arg(long, value_name = "CHECKPOINT")]
        against: Option<PathBuf>,
    },
    /// Write the chain's tip, signed by the portal, to keep outside the database (admins).
    Checkpoint {
        /// Where to write it (JSON); the standard output when absent.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Export matching events as CSV.
    Export {
        #[arg(long)]
        csv: PathBuf,
        #[command(flatten)]
        filter: AuditFilterArgs,
    },
}

// The filter flags `list` and `export` share (a `//` comment: clap would show a doc comment).
#[derive(Args, Debug, Clone)]
pub struct AuditFilterArgs {
    #[arg(long)]
    entity_type: Option<String>,
    #[arg(long)]
    entity_id: Option<String>,
    /// Actor id or name.
    #[arg(long)]
    actor: Option<String>,
    #[arg(long)]
    action: Option<String>,
    /// From this time (RFC 3339 or YYYY-MM-DD), inclusive.
    #[arg(long, value_parser = parse_time)]
    from: Option<Timestamp>,
    /// Until this time, exclusive.
    #[arg(long, value_parser = parse_time)]
    to: Option<Timestamp>,
}

impl AuditFilterArgs {
    fn filter(self, limit: Option<u32>, cursor: Option<String>) -> AuditFilter {
        AuditFilter {
            entity_type: self.entity_type,
            entity_id: self.entity_id,
            actor: self.actor,
            action: self.action,
            from: self.from,
            to: self.to,
            limit,
            cursor,
        }
    }
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    Timestamp::parse(s)
        .ok_or_else(|| format!("`{s}` is not a time: use 2026-11-26 or 2026-11-26T10:00:00Z"))
}

pub async fn run(s: &Session, c: Cmd) -> Result<u8, Error> {
    let (p, a) = (&s.portal, &s.actor);
    match c {
        Cmd::List {
            filter,
            limit,
            cursor,
        } => {
            let page = p.list_audit(a, filter.filter(limit, cursor)).await?;
            done(s, &page, |p| {
                output::audit(&p.items);
                output::next_page(&p.next_cursor);
            })
        }
        Cmd::Verify { against } => {
            let against = match against {
                Some(path) => Some(read_checkpoint(&path)?),
                None => None,
            };
            let report = p.verify_audit(a, against).await?;
            done(s, &report, |r| {
                match &r.first_broken {
                    None => println!("audit chain intact: {} events verified", r.checked),
                    Some(b) => println!(
                        "audit chain BROKEN at event {} ({}): {}. {} events before it verified.",
                        b.seq, b.event_id, b.reason, r.checked
                    ),
                }
                match r.checkpoint {
                    Some(CheckpointVerdict::Holds) => {
                        println!("the checkpoint holds: the history up to it is the one it recorded")
                    }
                    Some(CheckpointVerdict::Rewritten) => {
                        println!("the checkpoint does NOT hold: the history up to it was rewritten")
                    }
                    Some(CheckpointVerdict::NotAuthentic) => println!(
                        "the checkpoint is NOT AUTHENTIC: this portal did not sign it, or it was altered; it proves nothing"
                    ),
                    None => {}
                }
            })?;
            Ok(
                if report.first_broken.is_some()
                    || report.checkpoint == Some(CheckpointVerdict::Rewritten)
                {
                    CHAIN_BROKEN
                } else if report.checkpoint == Some(CheckpointVerdict::NotAuthentic) {
                    CHECKPOINT_NOT_AUTHENTIC
                } else {
                    0
                },
            )
        }
        Cmd::Checkpoint { out } => {
            let cp = p.audit_checkpoint(a).await?;
            let text = serde_json::to_string_pretty(&cp)
                .map_err(|e| Error::internal(format!("rendering the checkpoint: {e}")))?;
            match out {
                None => println!("{text}"),
                Some(path) => {
                    std::fs::write(&path, format!("{text}\n")).map_err(|e| {
                        Error::invalid("out", format!("cannot write {}: {e}", path.display()))
                    })?;
                    done(s, &cp, |cp| {
                        println!(
                            "checkpoint of event {} written to {}: keep it where the database's users cannot write",
                            cp.seq,
                            path.display()
                        )
                    })?;
                }
            }
            Ok(0)
        }
        Cmd::Export { csv, filter } => {
            let file = std::fs::File::create(&csv).map_err(|e| {
                Error::invalid("csv", format!("cannot create {}: {e}", csv.display()))
            })?;
            let mut file = tokio::fs::File::from_std(file);
            let n = p
                .export_audit_csv(a, filter.filter(None, None), &mut file)
                .await?;
            done(s, &serde_json::json!({"exported": n, "file": csv}), |_| {
                println!("exported {n} events to {}", csv.display())
            })
        }
    }
}

/// A checkpoint file, or a clear error naming what is wrong with it.
fn read_checkpoint(path: &std::path::Path) -> Result<domain::model::AuditCheckpoint, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::invalid("against", format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| {
        Error::invalid(
            "against",
            format!(
                "{} is not a checkpoint from `padmin audit checkpoint`: {e}",
                path.display()
            ),
        )
    })
}
