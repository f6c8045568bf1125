//! `RemotePortal`: the [`Portal`] trait over the portal API, so the desktop app and `padmin`
//! work through a server exactly as they work on a local store. Problems (problem+json) come
//! back as the same [`domain::Error`] kinds the server's Portal returned; a server that cannot be
//! reached is `Unavailable` with the address and what to do.
//!
//! Who is acting is decided by the server from the access token; the `actor` argument of each
//! call is handed to the [`TokenSource`], which picks the token (a signed-in session has one).
//! This crate must not depend on the server, a store or any UI.

#[cfg(feature = "os")]
pub mod os;
pub mod signin;

use async_trait::async_trait;
use domain::audit::AuditEvent;
use domain::error::{Error, Result};
use domain::model::{
    AuditFilter, ChainReport, Client, ClientFilter, CreatedKey, FederationKey, Integration,
    KeyFilter, MasterKeyStatus, OidcConfig, Overview, Page, Rotation, Verified,
};
use domain::{Actor, Sensitive};
use portal::wire::*;
use portal::{
    IntegrationChanges, MasterKeyReport, MasterKeyRotation, NewClient, NewIntegration, NewKey,
    NewOidc, OidcChanges, Portal, Progress,
};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// Supplies the access token for a call.
#[async_trait]
pub trait TokenSource: Send + Sync + std::fmt::Debug {
    /// A token valid now for `actor` (a signed-in session ignores `actor`: it is its user).
    async fn access_token(&self, actor: &Actor) -> Result<Sensitive<String>>;
    /// The server refused the last token: refresh before the next call, if possible.
    async fn rejected(&self) {}
}

/// A fixed token (scripts, tests).
#[derive(Debug, Clone)]
pub struct StaticToken(pub Sensitive<String>);

#[async_trait]
impl TokenSource for StaticToken {
    async fn access_token(&self, _: &Actor) -> Result<Sensitive<String>> {
        Ok(self.0.clone())
    }
}

/// The Portal over HTTP.
#[derive(Debug, Clone)]
pub struct RemotePortal {
    base: url::Url,
    http: reqwest::Client,
    tokens: Arc<dyn TokenSource>,
}

/// Checks a portal API base URL: https, or http on loopback (a local server).
pub fn parse_base_url(text: &str) -> Result<url::Url> {
    let url = url::Url::parse(text.trim())
        .map_err(|e| Error::invalid("portal_url", format!("`{text}` is not a URL ({e})")))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => {
            return Err(Error::invalid(
                "portal_url",
                "must be an https URL (http only for a server on this machine)",
            ))
        }
    }
    let mut url = url;
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

impl RemotePortal {
    pub fn new(base_url: &str, tokens: Arc<dyn TokenSource>) -> Result<Self> {
        let base = parse_base_url(base_url)?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("provider-admin/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| Error::Internal(format!("HTTP client: {e}")))?;
        Ok(RemotePortal { base, http, tokens })
    }

    pub fn base_url(&self) -> &url::Url {
        &self.base
    }

    fn url(&self, path: &str) -> Result<url::Url> {
        self.base
            .join(path.trim_start_matches('/'))
            .map_err(|e| Error::Internal(format!("bad API path {path}: {e}")))
    }

    /// `GET /v1/sign-in` (public): how apps sign in to the portal at `base_url`.
    pub async fn sign_in_info(base_url: &str) -> Result<SignInInfo> {
        let base = parse_base_url(base_url)?;
        let url = base
            .join("v1/sign-in")
            .map_err(|e| Error::Internal(e.to_string()))?;
        let unreachable = |e: reqwest::Error| {
            Error::Unavailable(format!(
                "the portal at {base} cannot be reached ({e}); check the URL and your network"
            ))
        };
        let r = reqwest::get(url.clone()).await.map_err(unreachable)?;
        if !r.status().is_success() {
            return Err(Error::Unavailable(format!(
                "{url} answered {}: is this a Provider Portal API?",
                r.status()
            )));
        }
        r.json().await.map_err(|_| {
            Error::Unavailable(format!(
                "{url} did not describe a sign-in: is this a Provider Portal API?"
            ))
        })
    }

    /// `GET /v1/me`: who the token belongs to and what their role allows.
    pub async fn me(&self, actor: &Actor) -> Result<Me> {
        self.get(actor, "v1/me").await
    }

    async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        actor: &Actor,
        method: Method,
        path: &str,
        idem: Option<&str>,
        body: Option<&B>,
        query: &[(&str, String)],
    ) -> Result<T> {
        let bytes = self.send(actor, method, path, idem, body, query).await?;
        serde_json::from_slice(&bytes).map_err(|e| {
            Error::Internal(format!(
                "the portal at {} answered {path} with an unexpected body ({e}); is it the same version as this app?",
                self.base
            ))
        })
    }

    async fn send<B: Serialize + ?Sized>(
        &self,
        actor: &Actor,
        method: Method,
        path: &str,
        idem: Option<&str>,
        body: Option<&B>,
        query: &[(&str, String)],
    ) -> Result<Vec<u8>> {
        let url = self.url(path)?;
        let mut retried = false;
        loop {
            let token = self.tokens.access_token(actor).await?;
            let mut req: RequestBuilder = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(token.expose())
                .query(query);
            if let Some(k) = idem {
                req = req.header("Idempotency-Key", k);
            }
            req = with_context(req, actor);
            if let Some(b) = body {
                req = req.json(b);
            }
            let response = req.send().await.map_err(|e| self.unreachable(&e))?;
            let status = response.status();
            let bytes = response
                .bytes()
                .await
                .map_err(|e| self.unreachable(&e))?
                .to_vec();
            if status.is_success() {
                return Ok(bytes);
            }
            if status == StatusCode::UNAUTHORIZED && !retried {
                // The token may have expired a moment ago: refresh once and retry.
                self.tokens.rejected().await;
                retried = true;
                continue;
            }
            return Err(self.problem(status, &bytes));
        }
    }

    /// The error a failed answer reports (problem+json), or what to do when it says nothing.
    fn problem(&self, status: StatusCode, bytes: &[u8]) -> Error {
        match serde_json::from_slice::<Problem>(bytes) {
            Ok(p) => p.into_error(),
            Err(_) => Error::Unavailable(format!(
                "the portal at {} answered {status} without an explanation; try again, or ask its operator",
                self.base
            )),
        }
    }

    async fn get<T: DeserializeOwned>(&self, actor: &Actor, path: &str) -> Result<T> {
        self.call(actor, Method::GET, path, None, NO_BODY, &[])
            .await
    }

    fn unreachable(&self, e: &reqwest::Error) -> Error {
        let what = if e.is_timeout() {
            "did not answer in time"
        } else if e.is_connect() {
            "cannot be reached"
        } else {
            "failed mid-request"
        };
        Error::Unavailable(format!(
            "the portal at {} {what}; check your network and the profile's URL, then retry",
            self.base
        ))
    }
}

/// Context for the audit trail, honoured by the server only from a trusted proxy (a front end
/// calling on a person's behalf).
fn with_context(mut req: RequestBuilder, actor: &Actor) -> RequestBuilder {
    if let Some(ip) = &actor.ip {
        req = req.header("X-Forwarded-For", ip);
    }
    if let Some(ua) = &actor.ua {
        req = req.header(reqwest::header::USER_AGENT, ua);
    }
    req
}

fn q<T: ToString>(name: &'static str, v: &Option<T>) -> Option<(&'static str, String)> {
    v.as_ref().map(|v| (name, v.to_string()))
}

fn key_query(f: &KeyFilter) -> Vec<(&'static str, String)> {
    [
        q("status", &f.status.map(|s| s.as_str())),
        q("expiring_within_days", &f.expiring_within_days),
        q("unused_for_days", &f.unused_for_days),
        q("search", &f.search),
        q("limit", &f.limit),
        q("cursor", &f.cursor),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn audit_query(f: &AuditFilter) -> Vec<(&'static str, String)> {
    [
        q("entity_type", &f.entity_type),
        q("entity_id", &f.entity_id),
        q("actor", &f.actor),
        q("action", &f.action),
        q("from", &f.from.map(|t| t.to_rfc3339())),
        q("to", &f.to.map(|t| t.to_rfc3339())),
        q("limit", &f.limit),
        q("cursor", &f.cursor),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// A path segment from an id given by the caller (never lets it change the path).
fn seg(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

fn csv_records(bytes: &[u8]) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes)
}

const NO_BODY: Option<&()> = None;

#[async_trait]
impl Portal for RemotePortal {
    async fn create_key(
        &self,
        actor: &Actor,
        new: NewKey,
        idem: Option<&str>,
    ) -> Result<CreatedKey> {
        let body: CreatedKeyBody = self
            .call(actor, Method::POST, "v1/keys", idem, Some(&new), &[])
            .await?;
        Ok(body.into())
    }
    async fn list_keys(&self, actor: &Actor, filter: KeyFilter) -> Result<Page<FederationKey>> {
        self.call(
            actor,
            Method::GET,
            "v1/keys",
            None,
            NO_BODY,
            &key_query(&filter),
        )
        .await
    }
    async fn get_key(&self, actor: &Actor, id: &str) -> Result<FederationKey> {
        self.get(actor, &format!("v1/keys/{}", seg(id))).await
    }
    async fn revoke_key(
        &self,
        actor: &Actor,
        id: &str,
        idem: Option<&str>,
    ) -> Result<FederationKey> {
        let path = format!("v1/keys/{}/revoke", seg(id));
        self.call(actor, Method::POST, &path, idem, NO_BODY, &[])
            .await
    }
    async fn revoke_keys(
        &self,
        actor: &Actor,
        ids: &[String],
        idem: Option<&str>,
    ) -> Result<Vec<FederationKey>> {
        let body = RevokeKeysBody { ids: ids.to_vec() };
        self.call(
            actor,
            Method::POST,
            "v1/keys/revoke",
            idem,
            Some(&body),
            &[],
        )
        .await
    }
    async fn rotate_key(
        &self,
        actor: &Actor,
        id: &str,
        overlap: &str,
        idem: Option<&str>,
    ) -> Result<Rotation> {
        let body = RotateBody {
            overlap: overlap.to_string(),
        };
        let path = format!("v1/keys/{}/rotate", seg(id));
        let r: RotationBody = self
            .call(actor, Method::POST, &path, idem, Some(&body), &[])
            .await?;
        Ok(r.into())
    }
    async fn end_overlap(&self, actor: &Actor, id: &str) -> Result<FederationKey> {
        let path = format!("v1/keys/{}/end-overlap", seg(id));
        self.call(actor, Method::POST, &path, None, NO_BODY, &[])
            .await
    }
    /// Verifies `presented` as a partner would: the key itself is the credential, so the
    /// session's token is not sent.
    async fn verify_key(&self, actor: &Actor, presented: &str) -> Result<Verified> {
        let url = self.url("v1/federation/verify")?;
        let req = with_context(self.http.post(url).bearer_auth(presented), actor);
        let response = req.send().await.map_err(|e| self.unreachable(&e))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| self.unreachable(&e))?;
        if !status.is_success() {
            return Err(self.problem(status, &bytes));
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::Internal(format!("unexpected verify answer: {e}")))
    }

    async fn list_oidc(&self, actor: &Actor) -> Result<Vec<OidcConfig>> {
        self.get(actor, "v1/oidc").await
    }
    async fn get_oidc(&self, actor: &Actor, id: &str) -> Result<OidcConfig> {
        self.get(actor, &format!("v1/oidc/{}", seg(id))).await
    }
    async fn create_oidc(
        &self,
        actor: &Actor,
        new: NewOidc,
        idem: Option<&str>,
    ) -> Result<OidcConfig> {
        let body = NewOidcBody::from(&new);
        self.call(actor, Method::POST, "v1/oidc", idem, Some(&body), &[])
            .await
    }
    async fn update_oidc(
        &self,
        actor: &Actor,
        id: &str,
        changes: OidcChanges,
    ) -> Result<OidcConfig> {
        let body = OidcChangesBody::from(&changes);
        let path = format!("v1/oidc/{}", seg(id));
        self.call(actor, Method::PATCH, &path, None, Some(&body), &[])
            .await
    }
    async fn set_oidc_enabled(&self, actor: &Actor, id: &str, enabled: bool) -> Result<OidcConfig> {
        let path = format!("v1/oidc/{}/enabled", seg(id));
        self.call(
            actor,
            Method::PUT,
            &path,
            None,
            Some(&EnabledBody { enabled }),
            &[],
        )
        .await
    }
    async fn delete_oidc(&self, actor: &Actor, id: &str) -> Result<()> {
        let path = format!("v1/oidc/{}", seg(id));
        self.send(actor, Method::DELETE, &path, None, NO_BODY, &[])
            .await
            .map(|_| ())
    }

    async fn list_integrations(&self, actor: &Actor) -> Result<Vec<Integration>> {
        self.get(actor, "v1/integrations").await
    }
    async fn get_integration(&self, actor: &Actor, id: &str) -> Result<Integration> {
        let path = format!("v1/integrations/{}", seg(id));
        self.get(actor, &path).await
    }
    async fn create_integration(
        &self,
        actor: &Actor,
        new: NewIntegration,
        idem: Option<&str>,
    ) -> Result<Integration> {
        let body = NewIntegrationBody::from(&new);
        self.call(
            actor,
            Method::POST,
            "v1/integrations",
            idem,
            Some(&body),
            &[],
        )
        .await
    }
    async fn update_integration(
        &self,
        actor: &Actor,
        id: &str,
        changes: IntegrationChanges,
    ) -> Result<Integration> {
        let body = IntegrationChangesBody::from(&changes);
        let path = format!("v1/integrations/{}", seg(id));
        self.call(actor, Method::PATCH, &path, None, Some(&body), &[])
            .await
    }
    async fn set_integration_paused(
        &self,
        actor: &Actor,
        id: &str,
        paused: bool,
    ) -> Result<Integration> {
        let path = format!("v1/integrations/{}/paused", seg(id));
        self.call(
            actor,
            Method::PUT,
            &path,
            None,
            Some(&PausedBody { paused }),
            &[],
        )
        .await
    }
    async fn delete_integration(&self, actor: &Actor, id: &str) -> Result<()> {
        let path = format!("v1/integrations/{}", seg(id));
        self.send(actor, Method::DELETE, &path, None, NO_BODY, &[])
            .await
            .map(|_| ())
    }
    async fn record_integration_sync(
        &self,
        actor: &Actor,
        id: &str,
        error: Option<String>,
        idem: Option<&str>,
    ) -> Result<Integration> {
        let path = format!("v1/integrations/{}/syncs", seg(id));
        self.call(
            actor,
            Method::POST,
            &path,
            idem,
            Some(&SyncBody { error }),
            &[],
        )
        .await
    }

    async fn list_clients(&self, actor: &Actor, filter: ClientFilter) -> Result<Page<Client>> {
        let query: Vec<(&str, String)> = [
            q("search", &filter.search),
            q("limit", &filter.limit),
            q("cursor", &filter.cursor),
        ]
        .into_iter()
        .flatten()
        .collect();
        self.call(actor, Method::GET, "v1/clients", None, NO_BODY, &query)
            .await
    }
    async fn get_client(&self, actor: &Actor, id: &str) -> Result<Client> {
        let path = format!("v1/clients/{}", seg(id));
        self.get(actor, &path).await
    }
    async fn create_client(
        &self,
        actor: &Actor,
        new: NewClient,
        idem: Option<&str>,
    ) -> Result<Client> {
        self.call(actor, Method::POST, "v1/clients", idem, Some(&new), &[])
            .await
    }
    async fn rename_client(&self, actor: &Actor, id: &str, name: &str) -> Result<Client> {
        let body = RenameBody {
            name: name.to_string(),
        };
        let path = format!("v1/clients/{}", seg(id));
        self.call(actor, Method::PATCH, &path, None, Some(&body), &[])
            .await
    }

    async fn list_audit(&self, actor: &Actor, filter: AuditFilter) -> Result<Page<AuditEvent>> {
        self.call(
            actor,
            Method::GET,
            "v1/audit",
            None,
            NO_BODY,
            &audit_query(&filter),
        )
        .await
    }
    async fn verify_audit(&self, actor: &Actor) -> Result<ChainReport> {
        self.get(actor, "v1/audit/verification").await
    }
    async fn export_audit_csv(
        &self,
        actor: &Actor,
        filter: AuditFilter,
        out: &mut (dyn std::io::Write + Send),
    ) -> Result<u64> {
        let csv = self
            .send(
                actor,
                Method::GET,
                "v1/audit/export",
                None,
                NO_BODY,
                &audit_query(&filter),
            )
            .await?;
        out.write_all(&csv)
            .map_err(|e| Error::Unavailable(format!("cannot write the export: {e}")))?;
        // Count records, not lines: a field may hold a line break.
        let mut reader = csv_records(&csv);
        Ok(reader.records().filter(|r| r.is_ok()).count() as u64)
    }

    async fn overview(&self, actor: &Actor) -> Result<Overview> {
        self.get(actor, "v1/overview").await
    }
    async fn master_key_status(&self, actor: &Actor) -> Result<MasterKeyStatus> {
        self.get(actor, "v1/secrets/master-key").await
    }
    async fn rotate_master_key(
        &self,
        actor: &Actor,
        options: MasterKeyRotation,
        _progress: Progress<'_>,
    ) -> Result<MasterKeyReport> {
        let body = MasterKeyRotationBody::from(options);
        self.call(
            actor,
            Method::POST,
            "v1/secrets/rotations",
            None,
            Some(&body),
            &[],
        )
        .await
    }
}
