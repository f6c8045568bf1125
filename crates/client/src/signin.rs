//! Signing in to a portal with OpenID Connect, as a native app should (RFC 8252): the
//! authorization code flow with PKCE (S256) in the system browser, redirected back to a
//! loopback listener on an ephemeral port; `state`, `iss` and the ID token's `nonce` checked.
//!
//! The resulting [`Session`] (access and refresh tokens) is kept by a [`SessionStore`] — the OS
//! keychain in the desktop app and `padmin` — and nowhere else. [`SignedIn`] hands out the access
//! token and refreshes it silently shortly before it expires. [`sign_out`] revokes the refresh
//! token at the provider when it supports revocation (RFC 7009) and deletes the stored session.

use crate::TokenSource;
use async_trait::async_trait;
use domain::error::{Error, Result};
use domain::{Actor, Clock, Sensitive, SystemClock};
use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod, CoreGrantType,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
    CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthenticationFlow, AuthorizationCode, ClientId, CsrfToken,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, ProviderMetadata,
    RedirectUrl, RefreshToken, Scope,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Refresh the access token when it has less than this left.
pub const REFRESH_MARGIN_SECS: i64 = 60;

/// Where and as whom to sign in: the portal profile's identity settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInConfig {
    /// The identity provider's issuer URL.
    pub issuer: String,
    /// This app's (public) client id at the provider.
    pub client_id: String,
    /// Scopes to ask for; `openid` and `offline_access` (for silent refresh) are always asked.
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// A signed-in session. Only ever stored in a [`SessionStore`] (the OS keychain).
#[derive(Clone, Serialize, Deserialize)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// Unix seconds.
    pub expires_at: i64,
    pub id_token: Option<String>,
    pub subject: String,
    pub name: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("subject", &self.subject)
            .field("name", &self.name)
            .field("expires_at", &self.expires_at)
            .field("tokens", &"<redacted>")
            .finish()
    }
}

/// Where a profile's session lives.
pub trait SessionStore: Send + Sync + std::fmt::Debug {
    fn load(&self) -> Result<Option<Session>>;
    fn save(&self, session: &Session) -> Result<()>;
    fn delete(&self) -> Result<()>;
}

/// A session kept in memory only (tests, one-shot scripts).
#[derive(Debug, Default)]
pub struct MemorySessions(std::sync::Mutex<Option<Session>>);

impl SessionStore for MemorySessions {
    fn load(&self) -> Result<Option<Session>> {
        Ok(self.0.lock().map_err(|_| poisoned())?.clone())
    }
    fn save(&self, session: &Session) -> Result<()> {
        *self.0.lock().map_err(|_| poisoned())? = Some(session.clone());
        Ok(())
    }
    fn delete(&self) -> Result<()> {
        *self.0.lock().map_err(|_| poisoned())? = None;
        Ok(())
    }
}

fn poisoned() -> Error {
    Error::Internal("the session store is unusable after a crash; restart the app".into())
}

#[derive(Clone, Debug, Deserialize, Serialize)]
struct OtherMetadata(HashMap<String, serde_json::Value>);
impl AdditionalProviderMetadata for OtherMetadata {}

type Metadata = ProviderMetadata<
    OtherMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

fn http_client() -> Result<openidconnect::reqwest::Client> {
    openidconnect::reqwest::ClientBuilder::new()
        // Following redirects would open the token exchange to SSRF.
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(15))
        .build()
        .map_err(|e| Error::Internal(format!("HTTP client: {e}")))
}

fn idp_unavailable(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!(
        "the identity provider could not {what} ({e}); check the profile's issuer URL and your network"
    ))
}

/// Discovers the provider. The discovery document's `issuer` must equal the URL asked with,
/// byte for byte, and some providers' identifiers end in `/` (Auth0's) while others do not: the
/// issuer is tried as given, then with its trailing slash added or taken off.
async fn discover(config: &SignInConfig) -> Result<(Metadata, openidconnect::reqwest::Client)> {
    let http = http_client()?;
    let given = config.issuer.trim().to_string();
    let other = match given.strip_suffix('/') {
        Some(bare) => bare.to_string(),
        None => format!("{given}/"),
    };
    let url = |u: String| {
        IssuerUrl::new(u).map_err(|e| Error::invalid("issuer", format!("not a URL ({e})")))
    };
    let first = match Metadata::discover_async(url(given)?, &http).await {
        Ok(metadata) => return Ok((metadata, http)),
        Err(e) => e,
    };
    match Metadata::discover_async(url(other)?, &http).await {
        Ok(metadata) => Ok((metadata, http)),
        Err(_) => Err(idp_unavailable("be discovered", first)),
    }
}

fn scopes(config: &SignInConfig) -> Vec<String> {
    let mut s: Vec<String> = vec!["offline_access".into(), "profile".into()];
    for extra in &config.scopes {
        for part in extra.split_whitespace() {
            if part != "openid" && !s.iter().any(|x| x == part) {
                s.push(part.to_string());
            }
        }
    }
    s
}

/// A sign-in waiting for the browser to come back.
#[derive(Debug)]
pub struct PendingSignIn {
    /// Open this in the system browser.
    pub authorize_url: url::Url,
    listener: TcpListener,
    redirect: String,
    state: CsrfToken,
    nonce: Nonce,
    verifier: PkceCodeVerifier,
    config: SignInConfig,
    metadata: Metadata,
    http: openidconnect::reqwest::Client,
}

/// Starts a sign-in: discovers the provider, opens a loopback listener on a free port and
/// builds the authorization URL (PKCE S256, fresh `state` and `nonce`).
pub async fn begin(config: &SignInConfig) -> Result<PendingSignIn> {
    let (metadata, http) = discover(config).await?;
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| Error::Unavailable(format!("cannot listen for the sign-in redirect: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::Internal(e.to_string()))?
        .port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let client = CoreClient::from_provider_metadata(
        metadata.clone(),
        ClientId::new(config.client_id.clone()),
        None,
    )
    .set_redirect_uri(
        RedirectUrl::new(redirect.clone()).map_err(|e| Error::Internal(e.to_string()))?,
    );
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for s in scopes(config) {
        request = request.add_scope(Scope::new(s));
    }
    let (authorize_url, state, nonce) = request.url();
    Ok(PendingSignIn {
        authorize_url,
        listener,
        redirect,
        state,
        nonce,
        verifier,
        config: config.clone(),
        metadata,
        http,
    })
}

const DONE_PAGE: &str = "<!doctype html><meta charset=utf-8><title>Provider Admin</title>\
<body style=\"font-family:system-ui;margin:4rem;color:#1f2937\"><h1>Signed in</h1>\
<p>You can close this tab and return to Provider Admin.</p>";
const FAILED_PAGE: &str = "<!doctype html><meta charset=utf-8><title>Provider Admin</title>\
<body style=\"font-family:system-ui;margin:4rem;color:#1f2937\"><h1>Sign-in did not complete</h1>\
<p>Return to Provider Admin for details, and try again.</p>";
const STRAY_PAGE: &str = "<!doctype html><meta charset=utf-8><title>Provider Admin</title>\
<body style=\"font-family:system-ui;margin:4rem;color:#1f2937\"><h1>Not this sign-in</h1>\
<p>This answer does not belong to the sign-in Provider Admin is waiting for.</p>";

impl PendingSignIn {
    /// The redirect URI registered for this attempt (`http://127.0.0.1:<port>/callback`).
    pub fn redirect_uri(&self) -> &str {
        &self.redirect
    }

    /// Waits (at most `timeout`) for the browser's redirect, checks it, exchanges the code and
    /// verifies the ID token. The session is returned, not stored: the caller stores it.
    pub async fn finish(self, timeout: Duration) -> Result<Session> {
        let params = tokio::time::timeout(timeout, self.wait_for_callback())
            .await
            .map_err(|_| {
                Error::Unauthenticated(
                    "sign-in timed out: the browser did not come back; try again".into(),
                )
            })??;
        if let Some(err) = params.get("error") {
            let detail = params.get("error_description").cloned().unwrap_or_default();
            return Err(Error::Unauthenticated(format!(
                "the identity provider refused the sign-in ({err}{}{detail})",
                if detail.is_empty() { "" } else { ": " }
            )));
        }
        let state = params.get("state").map(String::as_str).unwrap_or_default();
        if state != self.state.secret() {
            return Err(Error::Unauthenticated(
                "the sign-in answer does not belong to this attempt (state mismatch); try again"
                    .into(),
            ));
        }
        if let Some(iss) = params.get("iss") {
            if iss.trim_end_matches('/') != self.metadata.issuer().as_str().trim_end_matches('/') {
                return Err(Error::Unauthenticated(format!(
                    "the sign-in answer came from another issuer ({iss}); try again"
                )));
            }
        }
        let code = params
            .get("code")
            .ok_or_else(|| Error::Unauthenticated("the sign-in answer has no code".into()))?;
        let client = CoreClient::from_provider_metadata(
            self.metadata.clone(),
            ClientId::new(self.config.client_id.clone()),
            None,
        )
        .set_redirect_uri(
            RedirectUrl::new(self.redirect.clone()).map_err(|e| Error::Internal(e.to_string()))?,
        );
        let response = client
            .exchange_code(AuthorizationCode::new(code.clone()))
            .map_err(|e| Error::Internal(e.to_string()))?
            .set_pkce_verifier(self.verifier)
            .request_async(&self.http)
            .await
            .map_err(|e| {
                Error::Unauthenticated(format!(
                    "the identity provider did not accept the sign-in code ({e}); try again"
                ))
            })?;
        let id_token = openidconnect::TokenResponse::id_token(&response).ok_or_else(|| {
            Error::Unauthenticated("the identity provider sent no ID token".into())
        })?;
        let claims = id_token
            .claims(&client.id_token_verifier(), &self.nonce)
            .map_err(|e| Error::Unauthenticated(format!("the ID token is not valid ({e})")))?;
        let name = claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.to_string())
            .or_else(|| claims.preferred_username().map(|u| u.to_string()))
            .or_else(|| claims.email().map(|e| e.to_string()))
            .unwrap_or_else(|| claims.subject().to_string());
        Ok(Session {
            access_token: response.access_token().secret().clone(),
            refresh_token: response.refresh_token().map(|r| r.secret().clone()),
            expires_at: expiry(response.expires_in()),
            id_token: Some(id_token.to_string()),
            subject: claims.subject().to_string(),
            name,
        })
    }

    /// Serves the loopback listener until the browser comes to `/callback` with this
    /// attempt's `state`.
    async fn wait_for_callback(&self) -> Result<HashMap<String, String>> {
        serve_callback(&self.listener, self.state.secret(), CONNECTION_READ_TIMEOUT).await
    }
}

/// How long one connection to the loopback listener may take to send its request line.
const CONNECTION_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest request line the loopback listener reads (the browser's redirect is far shorter).
const MAX_REQUEST_LINE: u64 = 16 * 1024;

/// Serves `listener` until a request to `/callback` carries `state`, and returns its query.
///
/// Any local process can connect to the loopback port, so nothing it sends may end the wait:
/// connections are served concurrently (a silent one does not hold up the browser's), each has
/// `read_timeout` to send its request line, and a `/callback` without this attempt's `state` is
/// answered 400 and ignored. Only the overall timeout in [`PendingSignIn::finish`] ends the wait.
async fn serve_callback(
    listener: &TcpListener,
    expected_state: &str,
    read_timeout: Duration,
) -> Result<HashMap<String, String>> {
    let (found_tx, mut found_rx) = tokio::sync::mpsc::channel::<HashMap<String, String>>(1);
    // Dropped on return, which aborts the connections still being served.
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            found = found_rx.recv() => {
                if let Some(params) = found {
                    return Ok(params);
                }
            }
            accepted = listener.accept() => {
                let (stream, _) = accepted
                    .map_err(|e| Error::Unavailable(format!("sign-in listener failed: {e}")))?;
                let expected = expected_state.to_string();
                let found = found_tx.clone();
                connections.spawn(async move {
                    if let Some(params) = serve_connection(stream, &expected, read_timeout).await {
                        let _ = found.send(params).await;
                    }
                });
            }
            // Reap finished connections so the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Answers one loopback connection; returns the query of the redirect meant for this attempt.
async fn serve_connection(
    mut stream: tokio::net::TcpStream,
    expected_state: &str,
    read_timeout: Duration,
) -> Option<HashMap<String, String>> {
    let mut line = String::new();
    {
        let mut reader = BufReader::new(&mut stream).take(MAX_REQUEST_LINE);
        match tokio::time::timeout(read_timeout, reader.read_line(&mut line)).await {
            Ok(Ok(n)) if n > 0 => {}
            // Silent, closed, unreadable or too slow: drop it.
            _ => return None,
        }
    }
    let target = line.split_whitespace().nth(1).unwrap_or_default();
    let url = url::Url::parse(&format!("http://127.0.0.1{target}")).ok();
    let Some(url) = url.filter(|u| u.path() == "/callback") else {
        respond(&mut stream, "404 Not Found", "").await;
        return None;
    };
    let params: HashMap<String, String> = url.query_pairs().into_owned().collect();
    if params.get("state").map(String::as_str) != Some(expected_state) {
        tracing::warn!("ignored a sign-in redirect that does not belong to this attempt");
        respond(&mut stream, "400 Bad Request", STRAY_PAGE).await;
        return None;
    }
    let ok = params.contains_key("code") && !params.contains_key("error");
    respond(
        &mut stream,
        "200 OK",
        if ok { DONE_PAGE } else { FAILED_PAGE },
    )
    .await;
    Some(params)
}

async fn respond(stream: &mut tokio::net::TcpStream, status: &str, page: &str) {
    let reply = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n{page}",
        page.len()
    );
    let _ = stream.write_all(reply.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn now_secs() -> i64 {
    SystemClock.now().millis() / 1000
}

fn expiry(expires_in: Option<Duration>) -> i64 {
    now_secs() + expires_in.map(|d| d.as_secs() as i64).unwrap_or(300)
}

/// The signed-in user's tokens, refreshed silently before they expire.
#[derive(Debug)]
pub struct SignedIn {
    config: SignInConfig,
    store: Arc<dyn SessionStore>,
    session: tokio::sync::Mutex<Option<Session>>,
}

impl SignedIn {
    /// The session in `store`, if any. `Unauthenticated` when nobody is signed in.
    pub fn load(config: SignInConfig, store: Arc<dyn SessionStore>) -> Result<Self> {
        let session = store.load()?.ok_or_else(|| {
            Error::Unauthenticated("not signed in to this portal: sign in first".into())
        })?;
        Ok(SignedIn {
            config,
            store,
            session: tokio::sync::Mutex::new(Some(session)),
        })
    }

    /// Who is signed in.
    pub async fn who(&self) -> Option<(String, String)> {
        self.session
            .lock()
            .await
            .as_ref()
            .map(|s| (s.subject.clone(), s.name.clone()))
    }

    /// Gets a new access token with the refresh token and stores the new session.
    pub async fn refresh(&self) -> Result<()> {
        let mut guard = self.session.lock().await;
        self.refresh_locked(&mut guard).await
    }

    async fn refresh_locked(&self, guard: &mut Option<Session>) -> Result<()> {
        let current = guard
            .clone()
            .ok_or_else(|| Error::Unauthenticated("signed out: sign in again".into()))?;
        let Some(refresh) = current.refresh_token.clone() else {
            return Err(Error::Unauthenticated(
                "your session has expired and cannot be renewed: sign in again".into(),
            ));
        };
        let (metadata, http) = discover(&self.config).await?;
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            None,
        );
        let token = RefreshToken::new(refresh.clone());
        let response = client
            .exchange_refresh_token(&token)
            .map_err(|e| Error::Internal(e.to_string()))?
            .request_async(&http)
            .await
            .map_err(|e| {
                Error::Unauthenticated(format!(
                    "your session could not be renewed ({e}); sign in again"
                ))
            })?;
        let next = Session {
            access_token: response.access_token().secret().clone(),
            // Providers that rotate refresh tokens send a new one; others keep the old.
            refresh_token: response
                .refresh_token()
                .map(|r| r.secret().clone())
                .or(Some(refresh)),
            expires_at: expiry(response.expires_in()),
            ..current
        };
        self.store.save(&next)?;
        tracing::info!(subject = %next.subject, "access token refreshed");
        *guard = Some(next);
        Ok(())
    }
}

#[async_trait]
impl TokenSource for SignedIn {
    async fn access_token(&self, _actor: &Actor) -> Result<Sensitive<String>> {
        let mut guard = self.session.lock().await;
        let expires_at = guard
            .as_ref()
            .map(|s| s.expires_at)
            .ok_or_else(|| Error::Unauthenticated("signed out: sign in again".into()))?;
        if expires_at - now_secs() < REFRESH_MARGIN_SECS {
            self.refresh_locked(&mut guard).await?;
        }
        guard
            .as_ref()
            .map(|s| Sensitive::new(s.access_token.clone()))
            .ok_or_else(|| Error::Unauthenticated("signed out: sign in again".into()))
    }

    async fn rejected(&self) {
        if let Err(e) = self.refresh().await {
            tracing::warn!(error = %e, "refresh after a refused token failed");
        }
    }
}

/// What signing out did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOutReport {
    /// The refresh token was revoked at the provider.
    pub revoked: bool,
    /// A stored session was deleted.
    pub deleted: bool,
}

/// Signs out: revokes the refresh token (or the access token) at the provider when it
/// supports revocation, then deletes the stored session — even if the provider could not be
/// reached, so nothing usable stays on this machine.
pub async fn sign_out(
    config: Option<&SignInConfig>,
    store: &dyn SessionStore,
) -> Result<SignOutReport> {
    let Some(session) = store.load()? else {
        return Ok(SignOutReport {
            revoked: false,
            deleted: false,
        });
    };
    // Revocation is best effort: signing out must work offline, or when the portal (which
    // names the identity provider) cannot be reached. The session is forgotten here either way.
    let revoked = match config {
        Some(config) => match revoke(config, &session).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "could not revoke the session at the provider");
                false
            }
        },
        None => false,
    };
    store.delete()?;
    Ok(SignOutReport {
        revoked,
        deleted: true,
    })
}

/// RFC 7009 revocation, as a public client (its id in the body). Done by hand rather than with
/// `openidconnect`, which insists on https even for a provider on this machine.
async fn revoke(config: &SignInConfig, session: &Session) -> Result<bool> {
    let (metadata, http) = discover(config).await?;
    let Some(endpoint) = metadata
        .additional_metadata()
        .0
        .get("revocation_endpoint")
        .and_then(|v| v.as_str())
        .map(str::to_string)
    else {
        return Ok(false);
    };
    let (token, hint) = match &session.refresh_token {
        Some(r) => (r.as_str(), "refresh_token"),
        None => (session.access_token.as_str(), "access_token"),
    };
    let response = http
        .post(&endpoint)
        .form(&[
            ("token", token),
            ("token_type_hint", hint),
            ("client_id", config.client_id.as_str()),
        ])
        .send()
        .await
        .map_err(|e| idp_unavailable("revoke the session", e))?;
    if !response.status().is_success() {
        return Err(idp_unavailable(
            "revoke the session",
            format!("it answered {}", response.status()),
        ));
    }
    Ok(true)
}

#[cfg(test)]
#[path = "signin_tests.rs"]
mod tests;
