//! Tauri commands: thin adapters. Each parses its arguments, calls one Portal (or profile)
//! operation, and returns the result or a `CommandError`. No SQL, no business rule.

pub mod audit;
pub mod clients;
pub mod incidents;
pub mod integrations;
pub mod keys;
pub mod oidc;
pub mod overview;
pub mod session;
pub mod sync;

use crate::error::CmdResult;
use crate::state::AppState;
use portal::Portal;
use std::sync::Arc;

/// The Portal of the open session.
pub(crate) async fn portal(state: &AppState) -> CmdResult<Arc<dyn Portal>> {
    Ok(state.portal().await?)
}
