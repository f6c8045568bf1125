//! Tauri commands: thin adapters. Each parses its arguments, calls one Portal (or profile)
//! operation, and returns the result or a `CommandError`. No SQL, no business rule.

pub mod analytics;
pub mod audit;
pub mod clients;
pub mod incidents;
pub mod integrations;
pub mod keys;
pub mod oidc;
pub mod overview;
pub mod session;
pub mod sync;

use crate::error::CmdResult;
use crate::state::AppState;
use portal::Portal;
use std::path::PathBuf;
use std::sync::Arc;
use tauri::AppHandle;
use tauri_plugin_dialog::DialogExt;

/// The Portal of the open session.
pub(crate) async fn portal(state: &AppState) -> CmdResult<Arc<dyn Portal>> {
    Ok(state.portal().await?)
}

/// Asks where to save a file in the native save dialog and grants that one path to the command
/// that writes it; `None` when the user cancels. With `PADMIN_E2E_EXPORT_DIR` set (the E2E suite,
/// which cannot drive a native dialog) it grants `file_name` in that folder instead.
pub(crate) async fn choose_save_path(
    app: &AppHandle,
    state: &AppState,
    title: &str,
    file_name: &str,
    kind: &str,
    extension: &str,
) -> CmdResult<Option<String>> {
    let chosen = match std::env::var_os("PADMIN_E2E_EXPORT_DIR") {
        Some(dir) => Some(PathBuf::from(dir).join(file_name)),
        None => {
            let (tx, rx) = tokio::sync::oneshot::channel();
            app.dialog()
                .file()
                .set_title(title)
                .set_file_name(file_name)
                .add_filter(kind, &[extension])
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
