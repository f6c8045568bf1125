//! The one error vocabulary (DESIGN.md §3.4). Every layer above the store speaks it; HTTP maps
//! it to status codes, the CLI to exit codes, the UI to sentences.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The machine-readable kind of an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotFound,
    Conflict,
    Invalid,
    RateLimited,
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 8] = [
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::Invalid,
        ErrorCode::RateLimited,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Invalid => "invalid",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }
}

/// One invalid input field and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An error any Portal operation may return. Messages are written for the person who will read
/// them and never contain a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The change conflicts with the current state (see [`Conflict`] for what the caller needs
    /// to resolve it).
    #[error("{}", .0.message)]
    Conflict(Conflict),
    #[error("{}", invalid_message(.0))]
    Invalid(Vec<FieldError>),
    #[error("too many requests: try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("{0}")]
    Unavailable(String),
    /// An unexpected failure. It carries its cause for the log ([`Error::cause`]); what a person
    /// (or an API client) sees is a fixed sentence, so no database or library text leaks out.
    #[error("{INTERNAL_MESSAGE}")]
    Internal(String),
}

/// What an internal error says to a person, whatever its cause.
pub const INTERNAL_MESSAGE: &str =
    "an unexpected error occurred and was logged; try again, and if it persists report it with the time it happened";

/// A conflict with the current state: what happened, and what the caller needs to resolve it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Conflict {
    /// Said for the person who will resolve it.
    pub message: String,
    /// The current version of the record, when the write was based on an older one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
    /// The fields whose current values conflict with the change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

impl Conflict {
    pub fn new(message: impl Into<String>) -> Self {
        Conflict {
            message: message.into(),
            ..Conflict::default()
        }
    }
}

fn invalid_message(fields: &[FieldError]) -> String {
    let parts: Vec<String> = fields
        .iter()
        .map(|f| format!("{}: {}", f.field, f.message))
        .collect();
    format!("invalid input — {}", parts.join("; "))
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Error::Forbidden(_) => ErrorCode::Forbidden,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::Invalid(_) => ErrorCode::Invalid,
            Error::RateLimited { .. } => ErrorCode::RateLimited,
            Error::Unavailable(_) => ErrorCode::Unavailable,
            Error::Internal(_) => ErrorCode::Internal,
        }
    }

    /// A single-field validation error.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid(vec![FieldError::new(field, message)])
    }

    /// A conflict with the current state, said for the person who will resolve it.
    pub fn conflict(message: impl Into<String>) -> Self {
        Error::Conflict(Conflict::new(message))
    }

    /// A conflict with a record that moved on: its current version and the fields in conflict.
    pub fn stale(message: impl Into<String>, current_version: i64, fields: Vec<String>) -> Self {
        Error::Conflict(Conflict {
            message: message.into(),
            current_version: Some(current_version),
            fields,
        })
    }

    /// What caused an internal error, for the log only (never for the person or the wire).
    pub fn cause(&self) -> Option<&str> {
        match self {
            Error::Internal(cause) => Some(cause),
            _ => None,
        }
    }

    /// An unexpected failure; `cause` is for the log.
    pub fn internal(cause: impl Into<String>) -> Self {
        Error::Internal(cause.into())
    }

    pub fn not_found(what: impl fmt::Display) -> Self {
        Error::NotFound(format!("{what} was not found"))
    }

    pub fn fields(&self) -> &[FieldError] {
        match self {
            Error::Invalid(f) => f,
            _ => &[],
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Collects field errors so a form reports every bad field at once.
#[derive(Debug, Default)]
pub struct Validator(Vec<FieldError>);

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }
    /// Keeps the value when valid, records the field error otherwise.
    pub fn check<T>(&mut self, field: &str, r: Result<T, String>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(m) => {
                self.0.push(FieldError::new(field, m));
                None
            }
        }
    }
    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }
    pub fn finish(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(self.0))
        }
    }
}
