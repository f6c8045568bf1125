//! Who is calling. Admins and users present OIDC access tokens (JWT) from the configured
//! issuer; partner systems present a federation key on the partner routes.
//!
//! Token checks: the algorithm is on an allow-list (RS256, ES256 — never `none`, never HMAC,
//! so a public key can never be used as a shared secret); the token must be an access token,
//! not an ID token (see [`TokenKind`]); the signing key comes from the issuer's JWKS;
//! `iss` (exactly as the issuer's discovery document states it), `aud`, `exp` and `nbf` are
//! checked with a small leeway. The role comes from a configurable claim; a client-role
//! principal is bound to the organisation in its org claim.
//!
//! The JWKS: discovered, and fetched again when it is older than its TTL
//! (`OIDC_JWKS_TTL_SECS`), so a key the issuer withdraws stops verifying within the TTL, and
//! when a token names a `kid` the set in hand lacks (a rotation). No two fetches start less than
//! the floor apart (`OIDC_JWKS_REFETCH_FLOOR_SECS`), failed ones included, so neither made-up
//! `kid`s nor a failing issuer make this server hammer it. A token with an unknown `kid` that
//! arrives inside the floor waits for it once (bounded by the floor) and is answered from the set
//! fetched then, so a legitimate rotation never turns into a 401; every request waiting at that
//! moment shares that one fetch. A TTL refresh that fails keeps the set in hand (logged) and is
//! tried again after the floor.
//!
//! A token that verified is remembered (by its SHA-256, never the token) until it expires,
//! with the `kid` it was signed by: a remembered token is taken only while its key is still in
//! the current set. The cache is bounded and starts over when full.

use crate::config::OidcSettings;
use domain::error::{Error, Result};
use domain::{Actor, ActorType, Role};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// The algorithms a token may be signed with.
pub const ALLOWED_ALGORITHMS: [Algorithm; 2] = [Algorithm::RS256, Algorithm::ES256];

/// Claims only an ID token carries (OpenID Connect Core 2, 3.1.3.6, 3.3.2.11): a plain `JWT`
/// with any of them is an ID token, never an access token.
pub const ID_TOKEN_CLAIMS: [&str; 3] = ["nonce", "at_hash", "c_hash"];

/// What a token's `typ` header says it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKind {
    /// `at+jwt` or `application/at+jwt` (RFC 9068): an access token. Accepted.
    AccessJwt,
    /// No `typ`, `JWT` or `application/jwt`: what many providers use for access tokens and for
    /// ID tokens alike. Accepted unless `OIDC_REQUIRE_AT_JWT` is set or it looks like an ID
    /// token: it carries `nonce`, `at_hash` or `c_hash`, a payload `typ` of `ID` (Keycloak), or
    /// its `aud` names the sign-in app's client id (`OIDC_CLIENT_ID`) — an ID token's audience.
    PlainJwt,
    /// Anything else (`dpop+jwt`, `logout+jwt`, …): never an access token. Refused.
    Other(String),
}

impl TokenKind {
    /// Reads a `typ` header, case-insensitively (RFC 7515 4.1.9: a media type).
    pub fn of(typ: Option<&str>) -> TokenKind {
        let Some(t) = typ else {
            return TokenKind::PlainJwt;
        };
        let lower = t.to_ascii_lowercase();
        match lower.strip_prefix("application/").unwrap_or(&lower) {
            "at+jwt" => TokenKind::AccessJwt,
            "jwt" => TokenKind::PlainJwt,
            _ => TokenKind::Other(t.to_string()),
        }
    }
}

/// Checks bearer tokens against the configured issuer.
pub struct TokenVerifier {
    settings: OidcSettings,
    http: reqwest::Client,
    keys: RwLock<KeyCache>,
    /// Held while the JWKS is fetched: one fetch at a time.
    refresh: tokio::sync::Mutex<()>,
    verified: RwLock<HashMap<[u8; 32], Verified>>,
}

/// A token that verified: who, until when, signed by which key.
#[derive(Clone)]
struct Verified {
    principal: TokenPrincipal,
    exp: u64,
    kid: String,
}

/// Verified tokens remembered at most.
const VERIFIED_CAPACITY: usize = 10_000;

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("issuer", &self.settings.issuer)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct KeyCache {
    by_kid: HashMap<String, DecodingKey>,
    /// The issuer exactly as the discovery document states it: what `iss` must equal.
    issuer: Option<String>,
    /// When the fetch that gave the set in hand began.
    fetched_at: Option<Instant>,
    /// When the last fetch began, whether it worked or not: the floor counts from here.
    attempted_at: Option<Instant>,
    /// Why the last fetch failed, when it did.
    failure: Option<String>,
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

/// What the server reads from a verified token.
#[derive(Debug, Clone)]
pub struct TokenPrincipal {
    pub subject: String,
    pub name: String,
    pub role: Role,
}

fn invalid(why: &str) -> Error {
    Error::Unauthenticated(format!("the access token {why}; sign in again"))
}

impl TokenVerifier {
    pub fn new(settings: OidcSettings) -> Self {
        TokenVerifier {
            settings,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
            keys: RwLock::new(KeyCache::default()),
            refresh: tokio::sync::Mutex::new(()),
            verified: RwLock::new(HashMap::new()),
        }
    }

    pub fn issuer(&self) -> &str {
        &self.settings.issuer
    }

    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    /// Verifies `token` and reads its principal. `Unauthenticated` for anything wrong with the
    /// token itself; `Forbidden` for a valid token that grants no portal role; `Unavailable` when
    /// the issuer's keys cannot be read.
    pub async fn verify(&self, token: &str) -> Result<TokenPrincipal> {
        self.refresh_if_stale().await;
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = jsonwebtoken::get_current_timestamp();
        if let Some(v) = self
            .verified
            .read()
            .ok()
            .and_then(|m| m.get(&digest).cloned())
        {
            if now < v.exp && self.has_key(&v.kid) {
                return Ok(v.principal);
            }
        }
        self.verify_signed(token, digest).await
    }

    async fn verify_signed(&self, token: &str, digest: [u8; 32]) -> Result<TokenPrincipal> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("is malformed"))?;
        if !ALLOWED_ALGORITHMS.contains(&header.alg) {
            return Err(invalid(&format!(
                "is signed with {:?}, which this server does not accept (RS256 or ES256 only)",
                header.alg
            )));
        }
        let kind = TokenKind::of(header.typ.as_deref());
        match &kind {
            TokenKind::Other(t) => {
                return Err(invalid(&format!(
                    "is of type `{t}`, not an access token (`at+jwt`)"
                )))
            }
            TokenKind::PlainJwt if self.settings.require_at_jwt => {
                return Err(invalid(
                    "is not typed as an access token (`typ: at+jwt`, RFC 9068), which this server requires",
                ))
            }
            _ => {}
        }
        let kid = header
            .kid
            .ok_or_else(|| invalid("names no signing key (kid)"))?;
        let key = match self.key(&kid) {
            Some(k) => k,
            None => {
                // Rotation: a set fetched from now on may have it (waiting out the floor once).
                self.refresh(Instant::now(), Some(&kid), true).await?;
                self.key(&kid)
                    .ok_or_else(|| invalid("is signed by a key the issuer does not publish"))?
            }
        };
        let issuer = self
            .keys
            .read()
            .ok()
            .and_then(|k| k.issuer.clone())
            .unwrap_or_else(|| self.settings.issuer.clone());
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&issuer]);
        validation.set_audience(&[&self.settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = self.settings.leeway_secs;
        validation.validate_nbf = true;
        let data = jsonwebtoken::decode::<Value>(token, &key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind::*;
            match e.kind() {
                ExpiredSignature => invalid("has expired"),
                ImmatureSignature => invalid("is not valid yet"),
                InvalidIssuer => invalid("was issued by another issuer"),
                InvalidAudience => invalid("is meant for another audience"),
                InvalidSignature => invalid("has a bad signature"),
                MissingRequiredClaim(c) => invalid(&format!("lacks the `{c}` claim")),
                InvalidAlgorithm => invalid("does not match its signing key's algorithm"),
                _ => invalid("is not valid"),
            }
        })?;
        if kind == TokenKind::PlainJwt {
            self.refuse_id_token(&data.claims)?;
        }
        let principal = self.principal(&data.claims)?;
        if let Some(exp) = data.claims.get("exp").and_then(Value::as_u64) {
            if let Ok(mut m) = self.verified.write() {
                if m.len() >= VERIFIED_CAPACITY {
                    m.clear();
                }
                m.insert(
                    digest,
                    Verified {
                        principal: principal.clone(),
                        exp,
                        kid,
                    },
                );
            }
        }
        Ok(principal)
    }

    /// A plain `JWT` that is an ID token: it carries an ID-token-only claim, says it is one in
    /// its payload (`typ: ID`, Keycloak), or is meant for the sign-in app (its client id in
    /// `aud`) rather than for this API.
    fn refuse_id_token(&self, claims: &Value) -> Result<()> {
        if let Some(c) = ID_TOKEN_CLAIMS.iter().find(|c| claims.get(**c).is_some()) {
            return Err(invalid(&format!(
                "is an ID token (it carries `{c}`), not an access token"
            )));
        }
        if claims
            .get("typ")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case("id"))
        {
            return Err(invalid("is an ID token (`typ: ID`), not an access token"));
        }
        let client = self.settings.app_client_id.as_str();
        let names_client = match claims.get("aud") {
            Some(Value::String(a)) => a == client,
            Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(client)),
            _ => false,
        };
        if names_client {
            return Err(invalid(&format!(
                "is meant for the sign-in app (`{client}` in `aud`: an ID token), not an access token for this API"
            )));
        }
        Ok(())
    }

    fn principal(&self, claims: &Value) -> Result<TokenPrincipal> {
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::Unauthenticated("the access token has no subject".into()))?;
        // `iss` was checked to equal the issuer exactly, before this.
        let issuer = claims
            .get("iss")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let subject = namespaced_subject(issuer, sub);
        let name = ["name", "preferred_username", "email"]
            .iter()
            .find_map(|c| claims.get(*c).and_then(Value::as_str))
            .unwrap_or(sub)
            .to_string();
        let roles: Vec<&str> = match claims.get(&self.settings.role_claim) {
            Some(Value::String(s)) => s.split_whitespace().collect(),
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let role = if roles.contains(&"provider") {
            Role::Provider
        } else if roles.contains(&"developer") {
            Role::Developer
        } else if roles.contains(&"support") {
            Role::Support
        } else if roles.contains(&"client") {
            let org = claims
                .get(&self.settings.org_claim)
                .and_then(Value::as_str)
                .and_then(|s| uuid::Uuid::parse_str(s).ok())
                .ok_or_else(|| {
                    Error::Forbidden(format!(
                        "your token has the client role but no organisation (`{}` claim); ask your identity provider's admin",
                        self.settings.org_claim
                    ))
                })?;
            Role::Client(org)
        } else {
            return Err(Error::Forbidden(format!(
                "your token grants no portal role (`{}` claim: provider, developer, support or client); ask a provider admin",
                self.settings.role_claim
            )));
        };
        Ok(TokenPrincipal {
            subject,
            name,
            role,
        })
    }

    fn key(&self, kid: &str) -> Option<DecodingKey> {
        self.keys.read().ok()?.by_kid.get(kid).cloned()
    }

    fn has_key(&self, kid: &str) -> bool {
        self.keys.read().is_ok_and(|k| k.by_kid.contains_key(kid))
    }

    /// Fetches the JWKS again when the set in hand is older than its TTL. Never waits for the
    /// floor or for a fetch already under way (the set in hand serves meanwhile); a failure
    /// keeps the set in hand.
    async fn refresh_if_stale(&self) {
        let ttl = Duration::from_secs(self.settings.jwks_ttl_secs);
        let stale = self
            .keys
            .read()
            .ok()
            .and_then(|k| k.fetched_at)
            .is_some_and(|t| t.elapsed() >= ttl);
        if stale && self.refresh.try_lock().is_ok() {
            // Dropped at once: `refresh` takes it again. Another request may slip in between;
            // then one of the two fetches and the other sees the fetch and does nothing.
            let _ = self.refresh(Instant::now(), None, false).await;
        }
    }

    /// Makes sure a fetch began at or after `needed` (or that `kid`, when given, is in the set in
    /// hand — a fetch under way may just have brought it): returns that fetch's outcome when one did,
    /// else fetches — when the floor allows. Inside the floor: the last fetch's failure when it
    /// failed (a failing issuer is not asked again sooner), else, when `wait`, sleeps until the
    /// floor allows and fetches then (one fetch for every request waiting), else nothing.
    async fn refresh(&self, needed: Instant, kid: Option<&str>, wait: bool) -> Result<()> {
        let floor = Duration::from_secs(self.settings.jwks_refetch_floor_secs);
        loop {
            let one_at_a_time = self.refresh.lock().await;
            if kid.is_some_and(|k| self.has_key(k)) {
                return Ok(());
            }
            let (attempted, failure) = self
                .keys
                .read()
                .map(|k| (k.attempted_at, k.failure.clone()))
                .unwrap_or((None, None));
            if let Some(at) = attempted {
                if at >= needed {
                    return failure.map_or(Ok(()), |f| Err(Error::Unavailable(f)));
                }
                let next = at + floor;
                if Instant::now() < next {
                    if let Some(f) = failure {
                        return Err(Error::Unavailable(f));
                    }
                    if !wait {
                        return Ok(());
                    }
                    drop(one_at_a_time);
                    tokio::time::sleep_until(next.into()).await;
                    continue;
                }
            }
            let result = self.fetch().await;
            drop(one_at_a_time);
            return result;
        }
    }

    /// Fetches the discovery document and the JWKS (the caller holds `refresh`), and records
    /// the attempt, whatever its outcome.
    async fn fetch(&self) -> Result<()> {
        let started = Instant::now();
        let fetched = self.fetch_set().await;
        let mut cache = self
            .keys
            .write()
            .map_err(|_| Error::Internal("the signing key cache is poisoned".into()))?;
        cache.attempted_at = Some(started);
        match fetched {
            Ok((issuer, by_kid)) => {
                tracing::info!(keys = by_kid.len(), "identity provider signing keys loaded");
                cache.by_kid = by_kid;
                cache.issuer = Some(issuer);
                cache.fetched_at = Some(started);
                cache.failure = None;
                Ok(())
            }
            Err(why) => {
                tracing::warn!(error = %why, "cannot refresh the identity provider's signing keys");
                cache.failure = Some(why.clone());
                Err(Error::Unavailable(why))
            }
        }
    }

    /// The issuer exactly as its discovery document states it, and its signing keys by `kid`.
    async fn fetch_set(
        &self,
    ) -> std::result::Result<(String, HashMap<String, DecodingKey>), String> {
        let unavailable = |what: &str, e: &dyn std::fmt::Display| {
            format!("cannot read the identity provider's {what} ({e}); try again shortly")
        };
        let configured = self.settings.issuer.trim_end_matches('/');
        let discovery_url = format!("{configured}/.well-known/openid-configuration");
        let discovery: Discovery = self
            .get_json(&discovery_url)
            .await
            .map_err(|e| unavailable("discovery document", &e))?;
        // The configured issuer names the provider (with or without a trailing slash); from here
        // on `iss` must equal the identifier the provider states, byte for byte.
        if discovery.issuer.trim_end_matches('/') != configured {
            return Err(format!(
                "the identity provider says its issuer is {}, but this server is configured for {}: fix OIDC_ISSUER",
                discovery.issuer, self.settings.issuer
            ));
        }
        let jwks: JwkSet = self
            .get_json(&discovery.jwks_uri)
            .await
            .map_err(|e| unavailable("signing keys (JWKS)", &e))?;
        let mut by_kid = HashMap::new();
        for jwk in &jwks.keys {
            let Some(kid) = jwk.common.key_id.clone() else {
                continue;
            };
            if let Ok(key) = DecodingKey::from_jwk(jwk) {
                by_kid.insert(kid, key);
            }
        }
        Ok((discovery.issuer, by_kid))
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
    ) -> std::result::Result<T, String> {
        let r = self.http.get(url).send().await.map_err(|e| e.to_string())?;
        if !r.status().is_success() {
            return Err(format!("{url} answered {}", r.status()));
        }
        r.json::<T>().await.map_err(|e| e.to_string())
    }
}

/// The actor of a signed-in principal, with the request's context for the audit trail.
pub fn user_actor(p: &TokenPrincipal, ip: Option<String>, ua: Option<String>) -> Actor {
    Actor {
        id: p.subject.clone(),
        name: p.name.clone(),
        actor_type: ActorType::User,
        role: p.role,
        ip,
        ua,
        request_id: crate::problem::current_request_id(),
    }
}

/// The actor id of an identity provider's subject: `<issuer>#<sub>`. A subject is unique only
/// within its issuer (OIDC Core §2), so the issuer is part of the id: an IdP subject such as
/// `local:alice` cannot pass for the desktop's local actor of that name, nor share its
/// idempotency scope or audit history, and a second issuer's subjects never meet the first's.
/// An issuer identifier has no fragment, so the first `#` separates the two.
pub fn namespaced_subject(issuer: &str, sub: &str) -> String {
    format!("{issuer}#{sub}")
}

/// The actor of a partner system presenting a federation key.
pub fn partner_actor(key_id: &str, ip: Option<String>, ua: Option<String>) -> Actor {
    Actor {
        id: format!("partner:{key_id}"),
        name: format!("partner {key_id}"),
        actor_type: ActorType::Service,
        role: Role::Partner,
        ip,
        ua,
        request_id: crate::problem::current_request_id(),
    }
}
