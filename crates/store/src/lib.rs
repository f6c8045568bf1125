//! Persistence of Provider Admin: the [`Store`] and [`WriteTx`] traits, each the sum of one
//! trait per capability, and their SQL implementation over PostgreSQL (the portal database) and
//! SQLite (the embedded workspace).
//!
//! Owns the schema (`migrations/`), the write transaction that cannot commit without its audit
//! events, the hash-chained audit trail and the change feed. It holds no business rule: what to
//! write and who may write it is the portal's business. It must not depend on the portal, on
//! any front end, or on HTTP.
//!
//! Each capability has one home: its module declares its read trait (on the [`Store`]) and its
//! write trait (on a [`WriteTx`]), implements both in SQL, and maps its rows:
//!
//! | module            | reads                | writes                |
//! |-------------------|----------------------|-----------------------|
//! | `keys.rs`         | [`KeyStore`]         | [`KeyWrites`]         |
//! | `oidc.rs`         | [`OidcStore`]        | [`OidcWrites`]        |
//! | `integrations.rs` | [`IntegrationStore`] | [`IntegrationWrites`] |
//! | `clients.rs`      | [`ClientStore`]      | [`ClientWrites`]      |
//! | `incidents.rs`    | [`IncidentStore`]    | [`IncidentWrites`]    |
//! | `jobs.rs`         | [`JobStore`]         | [`JobWrites`]         |
//! | `audit.rs`        | [`AuditStore`]       | (only by `commit`)    |
//! | `secrets.rs`      | [`SecretStore`]      | [`SecretWrites`]      |
//! | `idempotency.rs`  | [`IdempotencyStore`] | [`IdempotencyWrites`] |
//! | `sync.rs`         | [`SyncStore`]        | [`SyncWrites`]        |
//! | `analytics.rs`    | [`AnalyticsStore`]   | [`AnalyticsWrites`]   |
//! | `analytics_usage.rs` | [`UsageStore`]    | [`UsageWrites`]       |
//! | `analytics_funnels.rs` | [`FunnelStore`] | [`FunnelWrites`]      |
//!
//! `replica.rs` is a device's side of sync: the replica's own transaction ([`ReplicaTx`]),
//! unaudited, on a SQLite file (the audit trail that counts is upstream's).
//!
//! `tx.rs` holds [`WriteTx::commit`], the one way to make a change durable. `sql/mod.rs` opens
//! the database and turns database errors into [`StoreError`]s (in that one module);
//! `sql/rows.rs` holds the shared query builder, column readers and page helpers.
//! Callers bring every trait into scope with `use store::prelude::*;`.

mod analytics;
mod analytics_funnels;
mod analytics_usage;
mod audit;
mod clients;
mod idempotency;
mod incident_rows;
mod incidents;
mod integrations;
mod jobs;
mod keys;
mod oidc;
mod replica;
mod replica_bulk;
mod replica_file;
mod roles;
mod secrets;
mod sql;
mod sync;
mod sync_batch;
mod tx;

pub use analytics::{AnalyticsStore, AnalyticsWrites, DirtyDay, Fact, SnapshotState};
pub use analytics_funnels::{FunnelRow, FunnelStore, FunnelWrites};
pub use analytics_usage::{FeatureOrder, SubjectEvent, UsageStore, UsageWrites};
pub use audit::{AuditStore, Change};
pub use clients::{ClientStore, ClientWrites};
pub use idempotency::{IdempotencyRecord, IdempotencyStore, IdempotencyWrites};
pub use incidents::{IncidentQuery, IncidentStore, IncidentWrites};
pub use integrations::{IntegrationStore, IntegrationWrites};
pub use jobs::{AttemptOutcome, Delivery, JobRunRecord, JobStore, JobWrites, Lease};
pub use keys::{KeyQuery, KeyStore, KeyWrites};
pub use oidc::{OidcStore, OidcWrites};
pub use replica::{OutboxRow, ReplicaState, ReplicaTx};
pub use replica_file::ReplicaKey;
pub use secrets::{
    MasterKeyRegistration, RotationLock, SealedColumn, SecretStore, SecretWrites, SEALED_COLUMNS,
};
pub use sql::{redact_url, Backend, SqlStore};
pub use sync::{SyncClient, SyncStore, SyncWrites};
pub use sync_batch::SyncBatchWrites;
pub use tx::{AuditBatch, WriteTx};

use async_trait::async_trait;
use domain::{Actor, Timestamp};

/// Every store trait, for `use store::prelude::*;`.
pub mod prelude {
    pub use crate::{
        AnalyticsStore, AnalyticsWrites, AuditStore, ClientStore, ClientWrites, FunnelStore,
        FunnelWrites, IdempotencyStore, IdempotencyWrites, IncidentStore, IncidentWrites,
        IntegrationStore, IntegrationWrites, JobStore, JobWrites, KeyStore, KeyWrites, OidcStore,
        OidcWrites, SecretStore, SecretWrites, Store, SyncBatchWrites, SyncStore, SyncWrites,
        UsageStore, UsageWrites, WriteTx,
    };
}

/// What the store can fail with. The portal maps these into the product's error vocabulary.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was violated; carries the constraint or index name.
    #[error("conflict on {0}")]
    Conflict(String),
    /// The database refused an operation (e.g. writing to the append-only audit trail).
    #[error("refused by the database: {0}")]
    Refused(String),
    /// The database cannot be reached or timed out.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("invalid cursor")]
    BadCursor,
    /// An encrypted file (the sync replica) that this key does not open.
    #[error("the file cannot be read with this key")]
    WrongKey,
    /// The schema could not be brought up to date (a failed migration, or a database migrated
    /// by a newer version of the app).
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("internal store error: {0}")]
    Internal(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Reads outside a transaction (every capability's), and the start of a write.
#[async_trait]
pub trait Store:
    KeyStore
    + OidcStore
    + IntegrationStore
    + ClientStore
    + IncidentStore
    + JobStore
    + AuditStore
    + IdempotencyStore
    + SecretStore
    + SyncStore
    + AnalyticsStore
    + UsageStore
    + FunnelStore
    + Send
    + Sync
    + std::fmt::Debug
{
    fn backend(&self) -> Backend;

    /// Starts a write. Reads needed to decide the write go through the returned transaction.
    async fn begin(&self, actor: &Actor, now: Timestamp) -> Result<Box<dyn WriteTx>>;
}
