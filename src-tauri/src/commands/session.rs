//! The session, connection profiles, first run, and "about".

use crate::error::CmdResult;
use crate::ipc::command;
use crate::profiles::{self, PortalForm, PostgresForm, ProfileBook, EMBEDDED_ID};
use crate::state::{AppState, SessionInfo};
use client::signin::SessionStore;
use domain::Error;
use macro_rules_attribute::apply;
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

#[apply(command!)]
pub fn app_info(state: State<'_, AppState>) -> CmdResult<AppInfo> {
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION").into(),
        data_dir: state.data_dir.display().to_string(),
        log_dir: state.log_dir.display().to_string(),
        e2e_export_dir: std::env::var("PADMIN_E2E_EXPORT_DIR").ok(),
    })
}

/// Opens the active profile if needed, and says what is open.
#[apply(command!)]
pub async fn session_info(state: State<'_, AppState>) -> CmdResult<SessionInfo> {
    Ok(state.info().await?)
}

#[apply(command!)]
pub fn profiles_get(state: State<'_, AppState>) -> CmdResult<ProfileBook> {
    Ok(state.book()?)
}

/// Connects with the form's settings and reports the server version; changes nothing.
#[apply(command!)]
pub async fn profile_test_postgres(form: PostgresForm) -> CmdResult<String> {
    let profile = form.to_profile()?;
    let url = profiles::database_url(&profile, form.password.as_deref().or(Some("")))?
        .ok_or_else(|| Error::Internal("not a database profile".into()))?;
    Ok(portal::session::probe_postgres(&url).await?)
}

/// Saves a direct-PostgreSQL profile; the password goes to the OS keychain.
#[apply(command!)]
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

/// What a portal says about signing in to it (to prefill the profile form).
#[derive(Debug, Serialize, TS)]
pub struct PortalDiscovery {
    pub issuer: String,
    pub client_id: String,
    pub scopes: Vec<String>,
}

/// Asks the portal at `url` how apps sign in to it; changes nothing.
#[apply(command!)]
pub async fn profile_discover_portal(url: String) -> CmdResult<PortalDiscovery> {
    let info = client::RemotePortal::sign_in_info(&url).await?;
    Ok(PortalDiscovery {
        issuer: info.issuer,
        client_id: info.client_id,
        scopes: info.scopes,
    })
}

/// Saves a portal-API profile. Issuer and client id left empty come from the portal itself.
#[apply(command!)]
pub async fn profile_save_portal(
    state: State<'_, AppState>,
    form: PortalForm,
) -> CmdResult<ProfileBook> {
    let blank = |s: &Option<String>| s.as_deref().is_none_or(|v| v.trim().is_empty());
    let advertised = match client::RemotePortal::sign_in_info(&form.url).await {
        Ok(info) => Some(info),
        Err(e) if blank(&form.issuer) || blank(&form.client_id) => {
            // Without the portal's description the form must say it all.
            form.to_profile(None)?;
            return Err(e.into());
        }
        Err(_) => None,
    };
    let profile = form.to_profile(advertised.as_ref())?;
    Ok(state.update_book(|b| {
        b.upsert(profile);
        Ok(())
    })?)
}

/// Signs in to the active portal profile: opens the identity provider in the system browser
/// and waits (up to 5 minutes, or until cancelled) for it to come back to this app.
#[apply(command!)]
pub async fn portal_sign_in(state: State<'_, AppState>) -> CmdResult<SessionInfo> {
    let s = state.session().await?;
    let Some(config) = &s.sign_in else {
        return Err(Error::invalid("profile", "sign-in is for portal profiles").into());
    };
    let pending = client::signin::begin(config).await?;
    let link = pending.authorize_url.to_string();
    if !client::os::open_in_browser(&link) {
        return Err(Error::Unavailable(format!(
            "no browser could be opened; open this address yourself: {link}"
        ))
        .into());
    }
    tracing::info!(issuer = %config.issuer, "sign-in started in the browser");
    let session = tokio::select! {
        r = pending.finish(std::time::Duration::from_secs(300)) => r?,
        _ = state.sign_in_cancel.notified() => {
            return Err(Error::Unauthenticated("sign-in cancelled".into()).into())
        }
    };
    client::os::KeychainSessions::new(&s.profile.id).save(&session)?;
    tracing::info!(subject = %session.subject, "signed in");
    state.reopen().await?;
    Ok(state.info().await?)
}

/// Cancels a sign-in waiting for the browser.
#[apply(command!)]
pub fn portal_sign_in_cancel(state: State<'_, AppState>) {
    state.sign_in_cancel.notify_waiters();
}

/// Signs out of the active portal profile: revokes the session at the identity provider when
/// it can, and deletes it from the OS keychain.
#[apply(command!)]
pub async fn portal_sign_out(state: State<'_, AppState>) -> CmdResult<SessionInfo> {
    let s = state.session().await?;
    let Some(config) = &s.sign_in else {
        return Err(Error::invalid("profile", "sign-out is for portal profiles").into());
    };
    if let Some(r) = &s.replica {
        // Signing out deletes this device's copy: edits not yet on the portal would be lost.
        if let Err(e) = r.sync_now().await {
            tracing::info!(error = %e, "sync before sign-out failed");
        }
        let st = r.status().await?;
        let waiting = st.pending + st.rejected + st.conflicts;
        if waiting > 0 {
            return Err(Error::conflict(format!(
                "{waiting} incident edit(s) on this device have not reached the portal or wait for your choice (see Sync): settle them before signing out, which deletes this device's copy"
            ))
            .into());
        }
        r.wipe().await?;
    }
    let store = client::os::KeychainSessions::new(&s.profile.id);
    let report = client::signin::sign_out(Some(config), &store).await?;
    tracing::info!(revoked = report.revoked, "signed out");
    state.reopen().await?;
    Ok(state.info().await?)
}

/// Switches to a profile without restarting.
#[apply(command!)]
pub async fn profile_activate(state: State<'_, AppState>, id: String) -> CmdResult<SessionInfo> {
    state.switch(&id).await?;
    Ok(state.info().await?)
}

#[apply(command!)]
pub async fn profile_delete(state: State<'_, AppState>, id: String) -> CmdResult<ProfileBook> {
    if id == EMBEDDED_ID {
        return Err(Error::invalid("id", "the embedded workspace cannot be removed").into());
    }
    let book = state.update_book(|b| {
        if b.active == id {
            return Err(Error::conflict(
                "this profile is in use: switch to another one first",
            ));
        }
        b.profiles.retain(|p| p.id != id);
        Ok(())
    })?;
    profiles::delete_password(&id);
    let _ = client::os::KeychainSessions::new(&id).delete();
    Ok(book)
}

/// First run: loads the demo data into the embedded workspace.
#[apply(command!)]
pub async fn onboarding_seed_demo(state: State<'_, AppState>) -> CmdResult<()> {
    let portal = state.portal().await?;
    let report = portal.seed_demo(&state.actor, &|_, _| {}).await?;
    tracing::info!(?report, "demo data loaded");
    state.mark_onboarded()?;
    Ok(())
}

/// First run: starts with an empty workspace.
#[apply(command!)]
pub fn onboarding_start_empty(state: State<'_, AppState>) -> CmdResult<()> {
    Ok(state.mark_onboarded()?)
}

/// The UI calls this once its first page has rendered. Logged (and printed with
/// `PADMIN_BENCH=1`, for scripts/bench-desktop.sh) as the time since the process started.
#[apply(command!)]
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
#[apply(command!)]
pub fn ui_error(message: String) {
    tracing::error!(message = %message.chars().take(4000).collect::<String>(), "the UI crashed");
}
