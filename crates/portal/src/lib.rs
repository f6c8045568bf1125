//! The Portal: every operation of Provider Admin, one error vocabulary.
//!
//! Each capability owns a folder here — `keys`, `oidc`, `integrations`, `clients`, `incidents`,
//! `audit`, `secrets`, `workspace` — holding its trait (its operations and their inputs), `local.rs`
//! (its implementation for [`LocalPortal`] over a [`store::Store`]) and `wire.rs` (its JSON
//! shapes over HTTP). [`Portal`] is the sum of the capability traits: a front end holds a
//! `dyn Portal` and brings the traits into scope with `use portal::prelude::*`; code that needs
//! one capability takes `&dyn Keys`, `&dyn Oidc`, …. Another implementation (`RemotePortal`,
//! the offline replica) implements the traits one by one, and may delegate some to another
//! portal.
//!
//! Front ends (the `padmin` CLI, the desktop's Tauri commands, the server's HTTP handlers) parse
//! their input, call one operation and render the result. This crate must not depend on any
//! front end or on HTTP.

pub mod analytics;
pub mod audit;
pub mod clients;
pub mod csv_out;
mod idempotency;
pub mod incidents;
pub mod integrations;
pub mod jobs;
pub mod keys;
mod local;
pub mod oidc;
#[cfg(feature = "os")]
pub mod os;
pub mod secrets;
pub mod session;
pub mod sync;
pub mod wire;
pub mod workspace;

pub use analytics::Analytics;
pub use audit::Audit;
pub use clients::{Clients, NewClient};
pub use csv_out::CsvWriter;
pub use incidents::Incidents;
pub use integrations::{IntegrationChanges, Integrations, NewIntegration};
pub use jobs::{Jobs, WebhookSender};
pub use keys::{KeyListener, Keys, NewKey};
pub use local::LocalPortal;
pub use oidc::{JsonFetcher, NewOidc, Oidc, OidcChanges};
pub use secrets::{MasterKeyReport, MasterKeyRotation, Progress, Secrets};
pub use sync::{Replica, SyncApi};
pub use workspace::{seed, Me, SeedReport, Workspace, WorkspaceStatus};

/// Every operation of the product: the sum of the capability traits. Every call carries the
/// acting [`domain::Actor`]; writes that create, rotate or revoke accept an idempotency key: a
/// retry with the same key and the same input returns the first result, with other input it is
/// a `Conflict`.
pub trait Portal:
    Keys
    + Oidc
    + Integrations
    + Clients
    + Incidents
    + Jobs
    + Audit
    + Secrets
    + SyncApi
    + Workspace
    + Analytics
    + Send
    + Sync
    + std::fmt::Debug
{
}

impl<T> Portal for T where
    T: Keys
        + Oidc
        + Integrations
        + Clients
        + Incidents
        + Jobs
        + Audit
        + Secrets
        + SyncApi
        + Workspace
        + Analytics
        + Send
        + Sync
        + std::fmt::Debug
{
}

/// Everything a front end needs in scope to call Portal operations: `use portal::prelude::*;`.
pub mod prelude {
    pub use crate::{
        Analytics, Audit, Clients, Incidents, Integrations, Jobs, Keys, Oidc, Portal, Secrets,
        SyncApi, Workspace,
    };
}
