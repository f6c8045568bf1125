//! OIDC configurations, and *Test connection* (a Portal operation).

use super::portal;
use crate::error::CmdResult;
use crate::ipc::command;
use crate::state::AppState;
use domain::model::OidcConfig;
use domain::oidc::OidcProbeReport;
use domain::Sensitive;
use macro_rules_attribute::apply;
use portal::{NewOidc, OidcChanges};
use serde::Deserialize;
use tauri::State;
use ts_rs::TS;

/// The OIDC form. `client_secret` is write-only: empty keeps the stored one.
#[derive(Debug, Deserialize, TS)]
pub struct OidcForm {
    pub issuer: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub client_secret: Option<String>,
    pub clear_client_secret: bool,
    pub enabled: bool,
}

fn secret(s: Option<String>) -> Option<Sensitive<String>> {
    s.filter(|s| !s.is_empty()).map(Sensitive::new)
}

#[apply(command!)]
pub async fn oidc_list(state: State<'_, AppState>) -> CmdResult<Vec<OidcConfig>> {
    Ok(portal(&state).await?.list_oidc(&state.actor).await?)
}

#[apply(command!)]
pub async fn oidc_create(state: State<'_, AppState>, form: OidcForm) -> CmdResult<OidcConfig> {
    let new = NewOidc {
        issuer: form.issuer,
        client_id: form.client_id,
        redirect_uri: form.redirect_uri,
        client_secret: secret(form.client_secret),
        enabled: form.enabled,
    };
    Ok(portal(&state)
        .await?
        .create_oidc(&state.actor, new, None)
        .await?)
}

#[apply(command!)]
pub async fn oidc_update(
    state: State<'_, AppState>,
    id: String,
    form: OidcForm,
) -> CmdResult<OidcConfig> {
    let changes = OidcChanges {
        issuer: Some(form.issuer),
        client_id: Some(form.client_id),
        redirect_uri: Some(form.redirect_uri),
        client_secret: secret(form.client_secret),
        clear_client_secret: form.clear_client_secret,
    };
    Ok(portal(&state)
        .await?
        .update_oidc(&state.actor, &id, changes)
        .await?)
}

#[apply(command!)]
pub async fn oidc_set_enabled(
    state: State<'_, AppState>,
    id: String,
    enabled: bool,
) -> CmdResult<OidcConfig> {
    Ok(portal(&state)
        .await?
        .set_oidc_enabled(&state.actor, &id, enabled)
        .await?)
}

#[apply(command!)]
pub async fn oidc_delete(state: State<'_, AppState>, id: String) -> CmdResult<()> {
    Ok(portal(&state).await?.delete_oidc(&state.actor, &id).await?)
}

/// *Test connection*: the Portal fetches the issuer's discovery document and JWKS and reports
/// what it found. Only public documents are read: the client secret is never sent or shown.
#[apply(command!)]
pub async fn oidc_test(state: State<'_, AppState>, id: String) -> CmdResult<OidcProbeReport> {
    Ok(portal(&state).await?.test_oidc(&state.actor, &id).await?)
}
