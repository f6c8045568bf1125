//! OIDC configurations, and "Test connection" (discovery document + JWKS over HTTPS).

use super::portal;
use crate::error::CmdResult;
use crate::state::AppState;
use domain::model::OidcConfig;
use domain::oidc::OidcProbeReport;
use domain::Sensitive;
use portal::{NewOidc, OidcChanges, Portal};
use serde::Deserialize;
use std::time::Duration;
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

#[tauri::command]
pub async fn oidc_list(state: State<'_, AppState>) -> CmdResult<Vec<OidcConfig>> {
    Ok(portal(&state).await?.list_oidc(&state.actor).await?)
}

#[tauri::command]
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

#[tauri::command]
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

#[tauri::command]
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

#[tauri::command]
pub async fn oidc_delete(state: State<'_, AppState>, id: String) -> CmdResult<()> {
    Ok(portal(&state).await?.delete_oidc(&state.actor, &id).await?)
}

/// Fetches the issuer's discovery document and JWKS and reports what was found. Reads only
/// public documents: the client secret is never sent or shown.
#[tauri::command]
pub async fn oidc_test(state: State<'_, AppState>, id: String) -> CmdResult<OidcProbeReport> {
    let config = portal(&state).await?.get_oidc(&state.actor, &id).await?;
    let issuer = domain::validate::IssuerUrl::parse(&config.issuer)
        .map_err(|m| domain::Error::invalid("issuer", m))?;
    Ok(probe(&issuer).await)
}

async fn fetch(client: &reqwest::Client, url: &str) -> Result<serde_json::Value, String> {
    let resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    if !resp.status().is_success() {
        return Err(format!("HTTP {}", resp.status()));
    }
    resp.json()
        .await
        .map_err(|e| format!("not JSON: {}", e.without_url()))
}

pub async fn probe(issuer: &domain::validate::IssuerUrl) -> OidcProbeReport {
    let url = issuer.discovery_url();
    let mut report = OidcProbeReport::new(issuer.as_str(), &url);
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .user_agent(concat!("provider-admin/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            report.fetch_failed("discovery document", &url, &e.to_string());
            return report;
        }
    };
    let jwks_uri = match fetch(&client, &url).await {
        Ok(doc) => report.read_discovery(&doc),
        Err(e) => {
            report.fetch_failed("discovery document", &url, &e);
            None
        }
    };
    if let Some(jwks_uri) = jwks_uri {
        match fetch(&client, &jwks_uri).await {
            Ok(jwks) => report.read_jwks(&jwks),
            Err(e) => report.fetch_failed("JWKS", &jwks_uri, &e),
        }
    }
    report
}
