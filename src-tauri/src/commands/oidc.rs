//! OIDC configurations, and "Test connection" (discovery document + JWKS over HTTPS).

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

/// Fetches the issuer's discovery document and JWKS and reports what was found. Reads only
/// public documents: the client secret is never sent or shown.
#[apply(command!)]
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

#[cfg(test)]
mod tests {
    use super::probe;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    /// A loopback OIDC provider serving a discovery document (announcing `issuer`) and a JWKS.
    fn provider(announce: impl Fn(u16) -> String + Send + 'static) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                reader.read_line(&mut request).unwrap();
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 2 {
                    line.clear();
                }
                let body = if request.contains("/.well-known/openid-configuration") {
                    format!(
                        r#"{{"issuer":"{}","authorization_endpoint":"http://127.0.0.1:{port}/auth","token_endpoint":"http://127.0.0.1:{port}/token","jwks_uri":"http://127.0.0.1:{port}/jwks","id_token_signing_alg_values_supported":["RS256","ES256"]}}"#,
                        announce(port)
                    )
                } else {
                    r#"{"keys":[{"kid":"k1","kty":"RSA","alg":"RS256","use":"sig","n":"x","e":"AQAB"}]}"#.to_string()
                };
                let mut s = stream;
                let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            }
        });
        port
    }

    #[tokio::test]
    async fn a_matching_provider_passes_with_its_keys() {
        let port = provider(|p| format!("http://127.0.0.1:{p}/realm"));
        let issuer =
            domain::validate::IssuerUrl::parse(&format!("http://127.0.0.1:{port}/realm")).unwrap();
        let r = probe(&issuer).await;
        assert!(r.ok(), "{:?}", r.problems);
        assert_eq!(r.signing_keys, vec!["k1 (RSA, RS256)"]);
        assert_eq!(r.id_token_algorithms, vec!["RS256", "ES256"]);
    }

    #[tokio::test]
    async fn an_issuer_mismatch_names_both_values() {
        let port = provider(|p| format!("http://127.0.0.1:{p}/other"));
        let issuer =
            domain::validate::IssuerUrl::parse(&format!("http://127.0.0.1:{port}/realm")).unwrap();
        let r = probe(&issuer).await;
        assert!(
            r.problems
                .iter()
                .any(|p| p.contains("/realm`") && p.contains("/other`")),
            "{:?}",
            r.problems
        );
    }

    #[tokio::test]
    async fn an_unreachable_provider_is_reported_not_raised() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let issuer =
            domain::validate::IssuerUrl::parse(&format!("http://127.0.0.1:{port}")).unwrap();
        let r = probe(&issuer).await;
        assert!(
            r.problems[0].contains("fetching the discovery document"),
            "{:?}",
            r.problems
        );
    }
}
