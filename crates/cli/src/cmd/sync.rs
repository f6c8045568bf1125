//! `padmin sync`: this machine's offline replica of a portal's incidents (with `--portal`):
//! where its edits stand, sync now, rebuild it, and settle a rejected or conflicting edit.

use super::common::done;
use crate::output;
use crate::session::Session;
use clap::Subcommand;
use domain::error::Error;
use domain::model::{OutboxState, SyncStatus};

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// The sync state: last sync, pending edits, rejections and conflicts.
    Status,
    /// Send every pending edit and fetch what changed, now.
    Now,
    /// Empty this machine's copy and fetch it all again (pending edits are kept).
    Rebuild,
    /// Queue a rejected or conflicting edit again ("keep mine").
    Keep { entry: i64 },
    /// Drop a rejected or conflicting edit ("take theirs").
    Dismiss { entry: i64 },
}

pub async fn run(s: &Session, c: Cmd) -> Result<u8, Error> {
    let Some(r) = s.replica().await? else {
        return Err(Error::invalid(
            "portal",
            "sync is for a portal's incidents: give --portal URL (a database is worked on directly)",
        ));
    };
    let failed = match c {
        Cmd::Status => None,
        Cmd::Now => r.sync_now().await.err(),
        Cmd::Rebuild => r.rebuild().await.err(),
        Cmd::Keep { entry } => {
            r.settle(entry, true).await?;
            r.sync_now().await.err()
        }
        Cmd::Dismiss { entry } => {
            r.settle(entry, false).await?;
            None
        }
    };
    let status = r.status().await?;
    done(s, &status, show)?;
    match failed {
        Some(e) => Err(e),
        None => Ok(0),
    }
}

fn show(st: &SyncStatus) {
    let when =
        |t: Option<domain::Timestamp>| t.map_or("never".to_string(), |t| output::when(Some(t)));
    println!("state:        {:?}", st.health);
    println!("last synced:  {}", when(st.last_synced_at));
    println!("next attempt: {}", when(st.next_attempt_at));
    if let Some(e) = &st.last_error {
        println!("last error:   {e}");
    }
    println!(
        "pending {} · rejected {} · conflicts {}",
        st.pending, st.rejected, st.conflicts
    );
    let rows: Vec<Vec<String>> = st
        .entries
        .iter()
        .map(|e| {
            let detail = match e.state {
                OutboxState::Rejected => e.reason.clone().unwrap_or_default(),
                OutboxState::Conflict => e
                    .conflicts
                    .iter()
                    .map(|c| {
                        format!(
                            "{}: yours {} / theirs {}",
                            c.field,
                            c.mine.as_deref().unwrap_or("none"),
                            c.theirs.as_deref().unwrap_or("none")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                _ => String::new(),
            };
            vec![
                e.mutation.mutation_id.to_string(),
                e.state.as_str().to_string(),
                e.incident_title
                    .clone()
                    .unwrap_or_else(|| e.mutation.incident_id.to_string()),
                e.summary.clone(),
                output::when(Some(e.mutation.occurred_at)),
                detail,
            ]
        })
        .collect();
    if !rows.is_empty() {
        let mut t = output::table(&["entry", "state", "incident", "edit", "made", "detail"]);
        for r in rows {
            t.add_row(r);
        }
        println!("{t}");
    }
}
