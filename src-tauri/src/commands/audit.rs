//! The audit trail.

use super::portal;
use crate::error::CmdResult;
use crate::ipc::command;
use crate::state::AppState;
use domain::audit::AuditEvent;
use domain::model::{AuditFilter, ChainReport, Page};
use macro_rules_attribute::apply;
use std::path::PathBuf;
use tauri::{AppHandle, State};
use tauri_plugin_dialog::DialogExt;

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
/// `audit_export_csv`; `None` when the user cancels. With `PADMIN_E2E_EXPORT_DIR` set (the E2E
/// suite, which cannot drive a native dialog) it grants `audit.csv` in that folder instead.
#[apply(command!)]
pub async fn audit_export_choose(
    app: AppHandle,
    state: State<'_, AppState>,
) -> CmdResult<Option<String>> {
    let chosen = match std::env::var_os("PADMIN_E2E_EXPORT_DIR") {
        Some(dir) => Some(PathBuf::from(dir).join("audit.csv")),
        None => {
            let (tx, rx) = tokio::sync::oneshot::channel();
            app.dialog()
                .file()
                .set_title("Export the audit trail")
                .set_file_name("audit.csv")
                .add_filter("CSV", &["csv"])
                .save_file(move |path| {
                    let _ = tx.send(path);
                });
            match rx.await.ok().flatten() {
                None => None,
                Some(path) => Some(path.into_path().map_err(|e| {
                    domain::Error::invalid("path", format!("cannot save there: {e}"))
                })?),
            }
        }
    };
    let Some(path) = chosen else { return Ok(None) };
    let shown = path
        .to_str()
        .ok_or_else(|| {
            domain::Error::invalid(
                "path",
                "the chosen file name is not valid Unicode; choose another",
            )
        })?
        .to_string();
    state.save_grants.grant(path);
    Ok(Some(shown))
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
