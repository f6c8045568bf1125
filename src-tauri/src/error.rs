//! Errors as the UI receives them: `{code, message, fields}`, from the one vocabulary.

use domain::{Error, ErrorCode, FieldError};
use serde::Serialize;
use ts_rs::TS;

/// Every command's error. `code` lets the UI branch; `message` is a sentence for people;
/// `fields` name the inputs to fix.
#[derive(Debug, Clone, Serialize, TS)]
pub struct CommandError {
    pub code: ErrorCode,
    pub message: String,
    pub fields: Vec<FieldError>,
}

impl From<Error> for CommandError {
    fn from(e: Error) -> Self {
        CommandError {
            code: e.code(),
            message: e.to_string(),
            fields: e.fields().to_vec(),
        }
    }
}

pub type CmdResult<T> = Result<T, CommandError>;
