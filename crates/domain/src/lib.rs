//! The domain of Provider Admin: pure types and rules, unit-tested without a database.
//!
//! Owns the federation-key format and hashing, envelope encryption of secrets at rest, the
//! audit event and its hash chain, validated newtypes, the incident state machine, SLA clocks,
//! escalation and incident metrics, the actor/role model, the single
//! error vocabulary that every front end maps, and what makes exported text safe to open in a
//! spreadsheet. It must not depend on sqlx, tokio, Tauri,
//! axum or reqwest, and performs no I/O: time and randomness are passed in.

pub mod actor;
pub mod analytics;
pub mod audit;
pub mod clock;
pub mod envelope;
pub mod error;
pub mod incident;
pub mod key;
pub mod model;
pub mod oidc;
#[cfg(feature = "openapi")]
pub mod schema;
pub mod sensitive;
pub mod spreadsheet;
pub mod sync;
pub mod validate;
pub mod webhook;

pub use actor::{Actor, ActorType, Permission, Role};
pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use error::{Error, ErrorCode, FieldError};
pub use sensitive::Sensitive;
