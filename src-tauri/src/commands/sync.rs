//! Offline sync of incidents: the status the sidebar and the Sync panel show, *Sync now*,
//! *Rebuild replica*, and the person's choice on a rejected or conflicting edit.

use crate::error::CmdResult;
use crate::ipc::command;
use crate::state::AppState;
use domain::model::SyncStatus;
use domain::Error;
use macro_rules_attribute::apply;
use portal::Replica;
use std::sync::Arc;
use tauri::State;

async fn replica(state: &AppState) -> CmdResult<Arc<Replica>> {
    state.session().await?.replica.clone().ok_or_else(|| {
        Error::invalid(
            "profile",
            "this profile has no offline replica: the embedded workspace is local already",
        )
        .into()
    })
}

/// The sync state, or nothing for a profile without a replica (the embedded workspace).
#[apply(command!)]
pub async fn sync_status(state: State<'_, AppState>) -> CmdResult<Option<SyncStatus>> {
    match state.session().await?.replica.clone() {
        Some(r) => Ok(Some(r.status().await?)),
        None => Ok(None),
    }
}

/// Pushes every pending edit and pulls what changed, now. A failure (offline) is recorded in
/// the status, which is returned either way.
#[apply(command!)]
pub async fn sync_now(state: State<'_, AppState>) -> CmdResult<SyncStatus> {
    let r = replica(&state).await?;
    if let Err(e) = r.sync_now().await {
        tracing::info!(error = %e, "sync now failed");
    }
    Ok(r.status().await?)
}

/// Empties the device's copy of incidents and pulls it all again, keeping pending edits.
#[apply(command!)]
pub async fn sync_rebuild(state: State<'_, AppState>) -> CmdResult<SyncStatus> {
    let r = replica(&state).await?;
    r.rebuild().await?;
    Ok(r.status().await?)
}

/// The choice on a rejected or conflicting edit: `keep_mine` queues it again ("retry as new",
/// "keep mine"), otherwise it is dropped ("dismiss", "take theirs").
#[apply(command!)]
pub async fn sync_settle(
    state: State<'_, AppState>,
    mutation_id: i64,
    keep_mine: bool,
) -> CmdResult<SyncStatus> {
    let r = replica(&state).await?;
    r.settle(mutation_id, keep_mine).await?;
    r.nudge();
    Ok(r.status().await?)
}
