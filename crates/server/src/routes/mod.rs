//! The HTTP routes, one module per capability, each with its own router and OpenAPI paths.
//! Each handler parses, calls one Portal method and renders the result: no SQL, no business
//! rule. Each route's guard is declared in its OpenAPI `security` (the permission it needs, as
//! the bearer scope); the guards and the auth-matrix test read those declarations from the
//! router's own document.
//!
//! Adding an operation to a capability touches that capability's module only; a new capability
//! is a new module merged below.

mod analytics;
mod audit;
mod clients;
mod federation;
mod health;
mod incidents;
mod integrations;
mod jobs;
mod keys;
mod oidc;
mod secrets;
mod sync;
mod workspace;

use crate::AppState;
use utoipa_axum::router::OpenApiRouter;

/// Routes for signed-in admins and users (OIDC bearer tokens).
pub(crate) fn user_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(workspace::routes())
        .merge(keys::routes())
        .merge(oidc::routes())
        .merge(integrations::routes())
        .merge(clients::routes())
        .merge(incidents::routes())
        .merge(jobs::routes())
        .merge(audit::routes())
        .merge(secrets::routes())
        .merge(sync::routes())
        .merge(analytics::routes())
}

/// Routes for partner systems (federation keys).
pub(crate) fn partner_routes() -> OpenApiRouter<AppState> {
    federation::routes()
}

/// Routes without a principal: sign-in information, liveness, readiness and this document.
pub(crate) fn public_routes() -> OpenApiRouter<AppState> {
    health::routes()
}
