//! Entities as stored and as shown, and the queries over them: one file per capability,
//! gathered here so every layer names them `domain::model::…`.

mod audit;
mod clients;
mod integrations;
mod keys;
mod oidc;
mod overview;
mod secrets;

pub use audit::*;
pub use clients::*;
pub use integrations::*;
pub use keys::*;
pub use oidc::*;
pub use overview::*;
pub use secrets::*;

use serde::{Deserialize, Serialize};

/// One page of a keyset-paginated list. Pass `next_cursor` back to get the following page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

pub const PAGE_MAX: u32 = 500;
pub const PAGE_DEFAULT: u32 = 50;
