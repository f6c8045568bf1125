//! `RemotePortal`: the [`portal::Portal`] over the portal API, so the desktop app and `padmin`
//! work through a server exactly as they work on a local store. Problems (problem+json) come
//! back as the same [`domain::Error`] kinds the server's Portal returned; a server that cannot be
//! reached is `Unavailable` with the address and what to do.
//!
//! Who is acting is decided by the server from the access token; the `actor` argument of each
//! call is handed to the [`TokenSource`], which picks the token (a signed-in session has one).
//! Each capability's operations are in its own module (`keys.rs`, `oidc.rs`, …), one HTTP call
//! each; this file holds the request plumbing they share. This crate must not depend on the
//! server, a store or any UI.

mod analytics;
mod audit;
mod clients;
mod incidents;
mod integrations;
mod jobs;
mod keys;
mod oidc;
#[cfg(feature = "os")]
pub mod os;
mod secrets;
pub mod signin;
mod sync;
mod workspace;

use async_trait::async_trait;
use domain::error::{Error, Result};
use domain::{Actor, Sensitive};
use portal::wire::{Problem, SignInInfo};
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

    pub(crate) async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
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

    pub(crate) async fn send<B: Serialize + ?Sized>(
        &self,
        actor: &Actor,
        method: Method,
        path: &str,
        idem: Option<&str>,
        body: Option<&B>,
        query: &[(&str, String)],
    ) -> Result<Vec<u8>> {
        let response = self.respond(actor, method, path, idem, body, query).await?;
        Ok(response
            .bytes()
            .await
            .map_err(|e| self.unreachable(&e))?
            .to_vec())
    }

    /// Sends a request; a successful answer comes back unread (its body can be streamed).
    pub(crate) async fn respond<B: Serialize + ?Sized>(
        &self,
        actor: &Actor,
        method: Method,
        path: &str,
        idem: Option<&str>,
        body: Option<&B>,
        query: &[(&str, String)],
    ) -> Result<reqwest::Response> {
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
            if status.is_success() {
                return Ok(response);
            }
            let bytes = response
                .bytes()
                .await
                .map_err(|e| self.unreachable(&e))?
                .to_vec();
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

    pub(crate) async fn get<T: DeserializeOwned>(&self, actor: &Actor, path: &str) -> Result<T> {
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
pub(crate) fn with_context(mut req: RequestBuilder, actor: &Actor) -> RequestBuilder {
    if let Some(ip) = &actor.ip {
        req = req.header("X-Forwarded-For", ip);
    }
    if let Some(ua) = &actor.ua {
        req = req.header(reqwest::header::USER_AGENT, ua);
    }
    req
}

pub(crate) fn q<T: ToString>(name: &'static str, v: &Option<T>) -> Option<(&'static str, String)> {
    v.as_ref().map(|v| (name, v.to_string()))
}

/// A path segment from an id given by the caller (never lets it change the path).
pub(crate) fn seg(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

pub(crate) const NO_BODY: Option<&()> = None;
