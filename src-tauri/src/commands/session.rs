//! The session, connection profiles, first run, and "about".

use crate::error::CmdResult;
use crate::profiles::{self, PostgresForm, ProfileBook, EMBEDDED_ID};
use crate::state::{AppState, SessionInfo};
use domain::{Clock, Error, SystemClock};
use serde::Serialize;
use tauri::State;
use ts_rs::TS;

#[derive(Debug, Serialize, TS)]
pub struct AppInfo {
    pub version: String,
    pub data_dir: String,
    pub log_dir: String,
    /// Set only in end-to-end tests: exports go here instead of through the native dialog.
    pub e2e_export_dir: Option<String>,
}

#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> AppInfo {
    AppInfo {
        version: env!("CARGO_PKG_VERSION").into(),
        data_dir: state.data_dir.display().to_string(),
        log_dir: state.log_dir.display().to_string(),
        e2e_export_dir: std::env::var("PADMIN_E2E_EXPORT_DIR").ok(),
    }
}

/// Opens the active profile if needed, and says what is open.
#[tauri::command]
pub async fn session_info(state: State<'_, AppState>) -> CmdResult<SessionInfo> {
    Ok(state.info().await?)
}

#[tauri::command]
pub fn profiles_get(state: State<'_, AppState>) -> CmdResult<ProfileBook> {
    Ok(state.book()?)
}

/// Connects with the form's settings and reports the server version; changes nothing.
#[tauri::command]
pub async fn profile_test_postgres(form: PostgresForm) -> CmdResult<String> {
    let profile = form.to_profile()?;
    let url = profiles::database_url(&profile, form.password.as_deref().or(Some("")))?
        .ok_or_else(|| Error::Internal("not a database profile".into()))?;
    Ok(store::SqlStore::probe_postgres(url.expose())
        .await
        .map_err(|e| Error::Unavailable(e.to_string()))?)
}

/// Saves a direct-PostgreSQL profile; the password goes to the OS keychain.
#[tauri::command]
pub async fn profile_save_postgres(
    state: State<'_, AppState>,
    form: PostgresForm,
) -> CmdResult<ProfileBook> {
    let profile = form.to_profile()?;
    if let Some(pw) = form.password.as_deref().filter(|p| !p.is_empty()) {
        profiles::save_password(&profile.id, pw)?;
    }
    Ok(state.update_book(|b| {
        b.upsert(profile);
        Ok(())
    })?)
}

/// Switches to a profile without restarting.
#[tauri::command]
pub async fn profile_activate(state: State<'_, AppState>, id: String) -> CmdResult<SessionInfo> {
    state.switch(&id).await?;
    Ok(state.info().await?)
}

#[tauri::command]
pub async fn profile_delete(state: State<'_, AppState>, id: String) -> CmdResult<ProfileBook> {
    if id == EMBEDDED_ID {
        return Err(Error::invalid("id", "the embedded workspace cannot be removed").into());
    }
    let book = state.update_book(|b| {
        if b.active == id {
            return Err(Error::Conflict(
                "this profile is in use: switch to another one first".into(),
            ));
        }
        b.profiles.retain(|p| p.id != id);
        Ok(())
    })?;
    profiles::delete_password(&id);
    Ok(book)
}

/// First run: loads the demo data into the embedded workspace.
#[tauri::command]
pub async fn onboarding_seed_demo(
    state: State<'_, AppState>,
) -> CmdResult<portal::seed::SeedReport> {
    let s = state.session().await?;
    let keys = s.portal.master_key_set()?;
    let report = portal::seed::demo(s.store.clone(), keys, SystemClock.now(), &|_, _| {}).await?;
    state.mark_onboarded()?;
    Ok(report)
}

/// First run: starts with an empty workspace.
#[tauri::command]
pub fn onboarding_start_empty(state: State<'_, AppState>) -> CmdResult<()> {
    Ok(state.mark_onboarded()?)
}

/// The UI calls this once its first page has rendered. Logged (and printed with
/// `PADMIN_BENCH=1`, for scripts/bench-desktop.sh) as the time since the process started.
#[tauri::command]
pub fn ui_ready() {
    let ms = crate::STARTED
        .get()
        .map(|t| t.elapsed().as_millis())
        .unwrap_or(0);
    tracing::info!(ms, "first page rendered");
    if std::env::var_os("PADMIN_BENCH").is_some() {
        println!("first-page-ms {ms}");
    }
}

/// A rendering error in the UI, for the log (the UI shows its own message).
#[tauri::command]
pub fn ui_error(message: String) {
    tracing::error!(message = %message.chars().take(4000).collect::<String>(), "the UI crashed");
}
