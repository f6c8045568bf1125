//! The audit trail.

use super::portal;
use crate::error::CmdResult;
use crate::ipc::command;
use crate::state::AppState;
use domain::audit::AuditEvent;
use domain::model::{AuditFilter, ChainReport, Page};
use macro_rules_attribute::apply;
use tauri::State;

#[apply(command!)]
pub async fn audit_list(
    state: State<'_, AppState>,
    filter: AuditFilter,
) -> CmdResult<Page<AuditEvent>> {
    Ok(portal(&state)
        .await?
        .list_audit(&state.actor, filter)
        .await?)
}

#[apply(command!)]
pub async fn audit_verify(state: State<'_, AppState>) -> CmdResult<ChainReport> {
    Ok(portal(&state).await?.verify_audit(&state.actor).await?)
}

/// Writes the matching events to `path` (chosen in the native save dialog); returns how many.
#[apply(command!)]
pub async fn audit_export_csv(
    state: State<'_, AppState>,
    filter: AuditFilter,
    path: String,
) -> CmdResult<u64> {
    let mut file = std::fs::File::create(&path)
        .map_err(|e| domain::Error::invalid("path", format!("cannot create {path}: {e}")))?;
    Ok(portal(&state)
        .await?
        .export_audit_csv(&state.actor, filter, &mut file)
        .await?)
}
