//! Who is calling. Admins and users present OIDC access tokens (JWT) from the configured
//! issuer; partner systems present a federation key on the partner routes.
//!
//! Token checks: the algorithm is on an allow-list (RS256, ES256 — never `none`, never HMAC,
//! so a public key can never be used as a shared secret); the signing key comes from the
//! issuer's JWKS (discovered, cached, refetched on an unknown `kid` at most once per floor
//! interval); `iss`, `aud`, `exp` and `nbf` are checked with a small leeway. The role comes from a
//! configurable claim; a client-role principal is bound to the organisation in its org claim.
//!
//! A token that verified is remembered (by its SHA-256, never the token) until it expires, so a
//! client's next requests skip the signature check; the cache is bounded and starts over when
//! full.

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

/// Checks bearer tokens against the configured issuer.
pub struct TokenVerifier {
    settings: OidcSettings,
    http: reqwest::Client,
    keys: RwLock<KeyCache>,
    refresh: tokio::sync::Mutex<()>,
    verified: RwLock<HashMap<[u8; 32], (TokenPrincipal, u64)>>,
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
    fetched_at: Option<Instant>,
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
    /// token itself; `Forbidden` for a valid token that grants no portal role.
    pub async fn verify(&self, token: &str) -> Result<TokenPrincipal> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = jsonwebtoken::get_current_timestamp();
        if let Some((p, exp)) = self
            .verified
            .read()
            .ok()
            .and_then(|m| m.get(&digest).cloned())
        {
            if now < exp {
                return Ok(p);
            }
        }
        let principal = self.verify_signed(token).await?;
        Ok(principal)
    }

    async fn verify_signed(&self, token: &str) -> Result<TokenPrincipal> {
        let invalid =
            |why: &str| Error::Unauthenticated(format!("the access token {why}; sign in again"));
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("is malformed"))?;
        if !ALLOWED_ALGORITHMS.contains(&header.alg) {
            return Err(invalid(&format!(
                "is signed with {:?}, which this server does not accept (RS256 or ES256 only)",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| invalid("names no signing key (kid)"))?;
        let key = match self.key(&kid) {
            Some(k) => k,
            None => {
                self.refresh_keys(false).await?;
                self.key(&kid)
                    .ok_or_else(|| invalid("is signed by a key the issuer does not publish"))?
            }
        };
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.settings.issuer]);
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
        let principal = self.principal(&data.claims)?;
        if let Some(exp) = data.claims.get("exp").and_then(Value::as_u64) {
            let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
            if let Ok(mut m) = self.verified.write() {
                if m.len() >= VERIFIED_CAPACITY {
                    m.clear();
                }
                m.insert(digest, (principal.clone(), exp));
            }
        }
        Ok(principal)
    }

    fn principal(&self, claims: &Value) -> Result<TokenPrincipal> {
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::Unauthenticated("the access token has no subject".into()))?
            .to_string();
        let name = ["name", "preferred_username", "email"]
            .iter()
            .find_map(|c| claims.get(*c).and_then(Value::as_str))
            .unwrap_or(&subject)
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
                "your token grants no portal role (`{}` claim: provider, developer or client); ask a provider admin",
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

    /// Fetches the discovery document and the JWKS. Unless `force`d, does nothing when the
    /// last fetch is more recent than the floor: an attacker's made-up `kid`s cannot make this
    /// server hammer the issuer.
    pub async fn refresh_keys(&self, force: bool) -> Result<()> {
        let _one_at_a_time = self.refresh.lock().await;
        let floor = Duration::from_secs(self.settings.jwks_refetch_floor_secs);
        let recent = self
            .keys
            .read()
            .ok()
            .and_then(|k| k.fetched_at)
            .is_some_and(|t| t.elapsed() < floor);
        if recent && !force {
            return Ok(());
        }
        let unavailable = |what: &str, e: &dyn std::fmt::Display| {
            Error::Unavailable(format!(
                "cannot read the identity provider's {what} ({e}); try again shortly"
            ))
        };
        let discovery_url = format!("{}/.well-known/openid-configuration", self.settings.issuer);
        let discovery: Discovery = self
            .get_json(&discovery_url)
            .await
            .map_err(|e| unavailable("discovery document", &e))?;
        if discovery.issuer.trim_end_matches('/') != self.settings.issuer {
            return Err(Error::Unavailable(format!(
                "the identity provider says its issuer is {}, but this server is configured for {}: fix OIDC_ISSUER",
                discovery.issuer, self.settings.issuer
            )));
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
        tracing::info!(keys = by_kid.len(), "identity provider signing keys loaded");
        if let Ok(mut cache) = self.keys.write() {
            cache.by_kid = by_kid;
            cache.fetched_at = Some(Instant::now());
        }
        Ok(())
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
