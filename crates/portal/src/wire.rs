//! The portal API's JSON shapes, shared by the server (which serves them) and `RemotePortal`
//! (which sends and reads them), so both sides agree by construction. Bodies that carry a secret
//! redact it in `Debug`; the secret crosses the wire only inside TLS and is wrapped in
//! [`Sensitive`] as soon as it is read.

use crate::{IntegrationChanges, MasterKeyRotation, NewIntegration, NewOidc, OidcChanges};
use domain::error::{Error, ErrorCode, FieldError};
use domain::model::{CreatedKey, FederationKey, Rotation};
use domain::Sensitive;
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// The media type of error responses (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error response (RFC 9457 problem details) carrying the portal's error vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Problem {
    /// A URI naming the kind of problem, e.g. `urn:provider-admin:problem:not_found`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind, the same for every problem of that kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong and what to do next, for a person.
    pub detail: String,
    /// The machine-readable kind.
    pub code: ErrorCode,
    /// The fields at fault, for `invalid`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
    /// Seconds to wait before retrying, for `rate_limited`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// The request id (also in the `x-request-id` header and the server's logs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// The HTTP status of each error kind.
pub fn status_of(code: ErrorCode) -> u16 {
    match code {
        ErrorCode::Unauthenticated => 401,
        ErrorCode::Forbidden => 403,
        ErrorCode::NotFound => 404,
        ErrorCode::Conflict => 409,
        ErrorCode::Invalid => 422,
        ErrorCode::RateLimited => 429,
        ErrorCode::Unavailable => 503,
        ErrorCode::Internal => 500,
    }
}

fn title_of(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::Unauthenticated => "Not signed in",
        ErrorCode::Forbidden => "Not allowed",
        ErrorCode::NotFound => "Not found",
        ErrorCode::Conflict => "Conflict",
        ErrorCode::Invalid => "Invalid input",
        ErrorCode::RateLimited => "Too many requests",
        ErrorCode::Unavailable => "Unavailable",
        ErrorCode::Internal => "Internal error",
    }
}

impl Problem {
    pub fn from_error(e: &Error, request_id: Option<String>) -> Self {
        let code = e.code();
        Problem {
            kind: format!("urn:provider-admin:problem:{}", code.as_str()),
            title: title_of(code).to_string(),
            status: status_of(code),
            detail: e.to_string(),
            code,
            fields: e.fields().to_vec(),
            retry_after: match e {
                Error::RateLimited { retry_after_secs } => Some(*retry_after_secs),
                _ => None,
            },
            request_id,
        }
    }

    /// The error this problem reports, as the Portal would have returned it.
    pub fn into_error(self) -> Error {
        match self.code {
            ErrorCode::Unauthenticated => Error::Unauthenticated(self.detail),
            ErrorCode::Forbidden => Error::Forbidden(self.detail),
            ErrorCode::NotFound => Error::NotFound(self.detail),
            ErrorCode::Conflict => Error::Conflict(self.detail),
            ErrorCode::Invalid if !self.fields.is_empty() => Error::Invalid(self.fields),
            ErrorCode::Invalid => Error::invalid("request", self.detail),
            ErrorCode::RateLimited => Error::RateLimited {
                retry_after_secs: self.retry_after.unwrap_or(1),
            },
            ErrorCode::Unavailable => Error::Unavailable(self.detail),
            ErrorCode::Internal => Error::Internal(self.detail),
        }
    }
}

/// A key as returned by create and rotate: the only time `full_key` is ever sent.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreatedKeyBody {
    pub key: FederationKey,
    /// The full key. Show it once; it cannot be recovered.
    pub full_key: String,
}

impl std::fmt::Debug for CreatedKeyBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedKeyBody")
            .field("key", &self.key)
            .field("full_key", &"<redacted>")
            .finish()
    }
}

impl From<CreatedKey> for CreatedKeyBody {
    fn from(c: CreatedKey) -> Self {
        CreatedKeyBody {
            key: c.key,
            full_key: c.full_key.expose().clone(),
        }
    }
}

impl From<CreatedKeyBody> for CreatedKey {
    fn from(c: CreatedKeyBody) -> Self {
        CreatedKey {
            key: c.key,
            full_key: Sensitive::new(c.full_key),
        }
    }
}

/// The outcome of a rotation: the old key (in its overlap) and its successor, shown once.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RotationBody {
    pub old: FederationKey,
    pub successor: CreatedKeyBody,
}

impl From<Rotation> for RotationBody {
    fn from(r: Rotation) -> Self {
        RotationBody {
            old: r.old,
            successor: r.successor.into(),
        }
    }
}

impl From<RotationBody> for Rotation {
    fn from(r: RotationBody) -> Self {
        Rotation {
            old: r.old,
            successor: r.successor.into(),
        }
    }
}

/// Body of `POST /v1/keys/{id}/rotate`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RotateBody {
    /// How long the old key keeps working: `0`, `1m`, `15m`, `1h`, `6h`, `24h` … at most `7d`.
    pub overlap: String,
}

/// Body of `POST /v1/keys/revoke`: several keys in one transaction, all or none.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RevokeKeysBody {
    pub ids: Vec<String>,
}

/// Body of `POST /v1/federation/verify`. The key may instead be presented as
/// `Authorization: Bearer <key>`.
#[derive(Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    pub key: Option<String>,
}

impl std::fmt::Debug for VerifyBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerifyBody { key: <redacted> }")
    }
}

/// Body of `POST /v1/oidc`. The secret is write-only: no response ever contains it.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewOidcBody {
    pub issuer: String,
    pub client_id: String,
    pub redirect_uri: String,
    #[serde(default)]
    pub client_secret: Option<String>,
    #[serde(default)]
    pub enabled: bool,
}

impl std::fmt::Debug for NewOidcBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewOidcBody")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl From<NewOidcBody> for NewOidc {
    fn from(b: NewOidcBody) -> Self {
        NewOidc {
            issuer: b.issuer,
            client_id: b.client_id,
            redirect_uri: b.redirect_uri,
            client_secret: b.client_secret.map(Sensitive::new),
            enabled: b.enabled,
        }
    }
}

impl From<&NewOidc> for NewOidcBody {
    fn from(n: &NewOidc) -> Self {
        NewOidcBody {
            issuer: n.issuer.clone(),
            client_id: n.client_id.clone(),
            redirect_uri: n.redirect_uri.clone(),
            client_secret: n.client_secret.as_ref().map(|s| s.expose().clone()),
            enabled: n.enabled,
        }
    }
}

/// Body of `PATCH /v1/oidc/{id}`: only the fields given change.
#[derive(Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OidcChangesBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// A new secret replaces the stored one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// Removes the stored secret.
    #[serde(default)]
    pub clear_client_secret: bool,
}

impl std::fmt::Debug for OidcChangesBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcChangesBody")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("clear_client_secret", &self.clear_client_secret)
            .finish_non_exhaustive()
    }
}

impl From<OidcChangesBody> for OidcChanges {
    fn from(b: OidcChangesBody) -> Self {
        OidcChanges {
            issuer: b.issuer,
            client_id: b.client_id,
            redirect_uri: b.redirect_uri,
            client_secret: b.client_secret.map(Sensitive::new),
            clear_client_secret: b.clear_client_secret,
        }
    }
}

impl From<&OidcChanges> for OidcChangesBody {
    fn from(c: &OidcChanges) -> Self {
        OidcChangesBody {
            issuer: c.issuer.clone(),
            client_id: c.client_id.clone(),
            redirect_uri: c.redirect_uri.clone(),
            client_secret: c.client_secret.as_ref().map(|s| s.expose().clone()),
            clear_client_secret: c.clear_client_secret,
        }
    }
}

/// Body of `PUT /v1/oidc/{id}/enabled`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EnabledBody {
    pub enabled: bool,
}

/// Body of `POST /v1/integrations`. `config` is a JSON object, stored sealed; responses only
/// name its fields.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewIntegrationBody {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub config: serde_json::Value,
}

impl std::fmt::Debug for NewIntegrationBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewIntegrationBody")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl From<NewIntegrationBody> for NewIntegration {
    fn from(b: NewIntegrationBody) -> Self {
        NewIntegration {
            name: b.name,
            kind: b.kind,
            config: Sensitive::new(b.config),
        }
    }
}

impl From<&NewIntegration> for NewIntegrationBody {
    fn from(n: &NewIntegration) -> Self {
        NewIntegrationBody {
            name: n.name.clone(),
            kind: n.kind.clone(),
            config: n.config.expose().clone(),
        }
    }
}

/// Body of `PATCH /v1/integrations/{id}`.
#[derive(Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IntegrationChangesBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Replaces the whole configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<serde_json::Value>,
}

impl std::fmt::Debug for IntegrationChangesBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntegrationChangesBody")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl From<IntegrationChangesBody> for IntegrationChanges {
    fn from(b: IntegrationChangesBody) -> Self {
        IntegrationChanges {
            name: b.name,
            config: b.config.map(Sensitive::new),
        }
    }
}

impl From<&IntegrationChanges> for IntegrationChangesBody {
    fn from(c: &IntegrationChanges) -> Self {
        IntegrationChangesBody {
            name: c.name.clone(),
            config: c.config.as_ref().map(|v| v.expose().clone()),
        }
    }
}

/// Body of `PUT /v1/integrations/{id}/paused`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PausedBody {
    pub paused: bool,
}

/// Body of `POST /v1/integrations/{id}/syncs`: the outcome of one synchronisation run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SyncBody {
    /// Set when the run failed: the integration goes into error with this message.
    #[serde(default)]
    pub error: Option<String>,
}

/// Body of `PATCH /v1/clients/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RenameBody {
    pub name: String,
}

/// Body of `POST /v1/secrets/rotations`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MasterKeyRotationBody {
    /// Only report how many secrets are behind the current version.
    #[serde(default)]
    pub dry_run: bool,
    /// Secrets re-encrypted per transaction (1 to 10,000; default 100).
    #[serde(default = "default_batch")]
    pub batch_size: u32,
    /// Stop after this many batches; the rest is resumed by the next run.
    #[serde(default)]
    pub max_batches: Option<u32>,
}

fn default_batch() -> u32 {
    100
}

impl From<MasterKeyRotationBody> for MasterKeyRotation {
    fn from(b: MasterKeyRotationBody) -> Self {
        MasterKeyRotation {
            dry_run: b.dry_run,
            batch_size: b.batch_size,
            max_batches: b.max_batches,
        }
    }
}

impl From<MasterKeyRotation> for MasterKeyRotationBody {
    fn from(o: MasterKeyRotation) -> Self {
        MasterKeyRotationBody {
            dry_run: o.dry_run,
            batch_size: o.batch_size,
            max_batches: o.max_batches,
        }
    }
}

/// How apps sign in to this portal (`GET /v1/sign-in`, public): enough for the desktop app and
/// `padmin` to start an OIDC sign-in from the portal's URL alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SignInInfo {
    /// The identity provider's issuer URL.
    pub issuer: String,
    /// The public client id apps use (authorization code + PKCE).
    pub client_id: String,
    /// Scopes to ask for besides `openid`.
    pub scopes: Vec<String>,
}

/// Who the bearer of a token is, as the server sees them (`GET /v1/me`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Me {
    pub id: String,
    pub name: String,
    /// `provider`, `developer` or `client`.
    pub role: String,
    /// The organisation a client-role principal is bound to.
    pub org_id: Option<uuid::Uuid>,
    /// What this role may do, e.g. `manage_keys`.
    pub permissions: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_kind_survives_the_wire() {
        let errors = [
            Error::Unauthenticated("sign in".into()),
            Error::Forbidden("no".into()),
            Error::NotFound("key x was not found".into()),
            Error::Conflict("taken".into()),
            Error::Invalid(vec![FieldError::new("name", "must not be empty")]),
            Error::RateLimited {
                retry_after_secs: 7,
            },
            Error::Unavailable("database down".into()),
            Error::Internal("oops".into()),
        ];
        for e in errors {
            let p = Problem::from_error(&e, Some("r1".into()));
            let json = serde_json::to_string(&p).unwrap();
            let back: Problem = serde_json::from_str(&json).unwrap();
            assert_eq!(
                back.into_error(),
                e,
                "a client must see the error the portal returned"
            );
        }
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let b = NewOidcBody {
            issuer: "https://id.example.com".into(),
            client_id: "c".into(),
            redirect_uri: "https://app/cb".into(),
            client_secret: Some("hunter2-secret".into()),
            enabled: true,
        };
        assert!(!format!("{b:?}").contains("hunter2"));
        let v = VerifyBody {
            key: Some("pak_secret".into()),
        };
        assert!(!format!("{v:?}").contains("pak_"));
    }
}
