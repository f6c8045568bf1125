//! The audit trail.

use super::portal;
use crate::error::CmdResult;
use crate::ipc::command;
use crate::state::AppState;
use domain::audit::AuditEvent;
use domain::model::{AuditFilter, ChainReport, Page};
use macro_rules_attribute::apply;
use tauri::{AppHandle, State};

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
    Ok(portal(&state)
        .await?
        .verify_audit(&state.actor, None)
        .await?)
}

/// Asks where to save an export in the native save dialog and grants that one path to
/// `audit_export_csv`; `None` when the user cancels (see [`super::choose_save_path`]).
#[apply(command!)]
pub async fn audit_export_choose(
    app: AppHandle,
    state: State<'_, AppState>,
) -> CmdResult<Option<String>> {
    super::choose_save_path(
        &app,
        &state,
        "Export the audit trail",
        "audit.csv",
        "CSV",
        "csv",
    )
    .await
}

/// Writes the matching events to `path`, which must be what `audit_export_choose` returned in
/// this run (any other path is refused and nothing is written); returns how many.
#[apply(command!)]
pub async fn audit_export_csv(
    state: State<'_, AppState>,
    filter: AuditFilter,
    path: String,
) -> CmdResult<u64> {
    let portal = portal(&state).await?;
    let mut file = tokio::fs::File::from_std(state.save_grants.create(&path)?);
    Ok(portal
        .export_audit_csv(&state.actor, filter, &mut file)
        .await?)
}
