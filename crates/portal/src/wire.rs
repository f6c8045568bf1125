//! The portal API's JSON shapes, shared by the server (which serves them) and `RemotePortal`
//! (which sends and reads them), so both sides agree by construction: problem documents and
//! sign-in here, each capability's bodies in its own `wire` module (re-exported below). Bodies
//! that carry a secret redact it in `Debug`; the secret crosses the wire only inside TLS and is
//! wrapped in [`domain::Sensitive`] as soon as it is read.

pub use crate::analytics::wire::*;
pub use crate::clients::wire::*;
pub use crate::integrations::wire::*;
pub use crate::keys::wire::*;
pub use crate::oidc::wire::*;
pub use crate::secrets::wire::*;
pub use crate::workspace::{Me, WorkspaceStatus};

use domain::error::{Error, ErrorCode, FieldError};
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
    /// For `conflict`: the current version of the record the change was based on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
    /// For `conflict`: the fields whose current values conflict with the change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicting_fields: Vec<String>,
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
            current_version: match e {
                Error::Conflict(c) => c.current_version,
                _ => None,
            },
            conflicting_fields: match e {
                Error::Conflict(c) => c.fields.clone(),
                _ => Vec::new(),
            },
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
            ErrorCode::Conflict => Error::Conflict(domain::error::Conflict {
                message: self.detail,
                current_version: self.current_version,
                fields: self.conflicting_fields,
            }),
            ErrorCode::Invalid if !self.fields.is_empty() => Error::Invalid(self.fields),
            ErrorCode::Invalid => Error::invalid("request", self.detail),
            ErrorCode::RateLimited => Error::RateLimited {
                retry_after_secs: self.retry_after.unwrap_or(1),
            },
            ErrorCode::Unavailable => Error::Unavailable(self.detail),
            ErrorCode::Internal => Error::Internal(format!(
                "the server reported an internal error (request {})",
                self.request_id.as_deref().unwrap_or("without an id")
            )),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_kind_survives_the_wire() {
        let errors = [
            Error::Unauthenticated("sign in".into()),
            Error::Forbidden("no".into()),
            Error::NotFound("key x was not found".into()),
            Error::conflict("taken"),
            Error::stale("changed meanwhile", 7, vec!["severity".into()]),
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
            let back = back.into_error();
            if let Error::Internal(_) = e {
                // The cause stays in the server's log; the client gets the fixed sentence.
                assert_eq!(back.to_string(), e.to_string());
                assert!(back.cause().is_some_and(|c| c.contains("r1")), "{back:?}");
                assert!(
                    !p.detail.contains("oops"),
                    "an internal cause must not cross the wire"
                );
            } else {
                assert_eq!(back, e, "a client must see the error the portal returned");
            }
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
