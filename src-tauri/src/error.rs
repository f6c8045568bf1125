//! Errors as the UI receives them: `{code, message, fields}`, from the one vocabulary.

use domain::{Error, ErrorCode, FieldError};
use serde::Serialize;
use ts_rs::TS;

/// Every command's error. `code` lets the UI branch; `message` is a sentence for people;
/// `fields` name the inputs to fix; a conflict says what the record looks like now.
#[derive(Debug, Clone, Serialize, TS)]
pub struct CommandError {
    pub code: ErrorCode,
    pub message: String,
    pub fields: Vec<FieldError>,
    /// For `conflict`: the record's current version, when the change was based on an older one.
    pub current_version: Option<i64>,
    /// For `conflict`: the fields whose current values conflict with the change.
    pub conflicting_fields: Vec<String>,
}

impl From<Error> for CommandError {
    fn from(e: Error) -> Self {
        if let Some(cause) = e.cause() {
            // The cause goes to the log file only; the window shows the fixed sentence.
            tracing::error!(%cause, "internal error");
        }
        let (current_version, conflicting_fields) = match &e {
            Error::Conflict(c) => (c.current_version, c.fields.clone()),
            _ => (None, Vec::new()),
        };
        CommandError {
            code: e.code(),
            message: e.to_string(),
            fields: e.fields().to_vec(),
            current_version,
            conflicting_fields,
        }
    }
}

pub type CmdResult<T> = Result<T, CommandError>;
