//! Persistence of Provider Admin: the [`Store`] trait and its SQL implementation over
//! PostgreSQL (the portal database) and SQLite (the embedded workspace).
//!
//! Owns the schema (`migrations/`), the write transaction that cannot commit without its audit
//! events, the hash-chained audit trail and the change feed. It holds no business rule: what to
//! write and who may write it is the portal's business. It must not depend on the portal, on
//! any front end, or on HTTP.

mod sql;
mod tx;

pub use sql::{redact_url, Backend, SqlStore};
pub use tx::AuditBatch;

use async_trait::async_trait;
use domain::audit::AuditEvent;
use domain::key::KeyId;
use domain::model::{
    AuditFilter, Client, ClientFilter, IntegrationRecord, KeyRecord, OidcRecord, Page,
};
use domain::{Actor, Timestamp};
use uuid::Uuid;

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
    #[error("internal store error: {0}")]
    Internal(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A committed change, as the change feed serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub seq: i64,
    pub ts: Timestamp,
    pub entity_type: String,
    pub entity_id: String,
    pub action: String,
}

/// A column that holds sealed (envelope-encrypted) values, with its key-version column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedColumn {
    pub table: &'static str,
    pub column: &'static str,
    pub version_column: &'static str,
}

/// Every sealed column of the schema. Master-key rotation walks exactly these.
pub const SEALED_COLUMNS: [SealedColumn; 3] = [
    SealedColumn {
        table: "oidc_configs",
        column: "client_secret",
        version_column: "client_secret_kv",
    },
    SealedColumn {
        table: "integrations",
        column: "config",
        version_column: "config_kv",
    },
    SealedColumn {
        table: "idempotency",
        column: "response",
        version_column: "response_kv",
    },
];

/// A stored result of an idempotent write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub id: String,
    pub request_hash: String,
    pub response_sealed: Vec<u8>,
    pub response_kv: i64,
    pub created_at: Timestamp,
}

/// Key-list query with the instant the status filters are evaluated at.
#[derive(Debug, Clone)]
pub struct KeyQuery {
    pub filter: domain::model::KeyFilter,
    pub now: Timestamp,
    pub limit: u32,
}

/// Reads outside a transaction, and the start of a write.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    fn backend(&self) -> Backend;

    /// Starts a write. Reads needed to decide the write go through the returned transaction.
    async fn begin(&self, actor: &Actor, now: Timestamp) -> Result<Box<dyn WriteTx>>;

    async fn key(&self, id: &KeyId) -> Result<Option<KeyRecord>>;
    /// Every key id (for the in-memory index that rejects unknown keys without a lookup).
    async fn key_ids(&self) -> Result<Vec<KeyId>>;
    async fn keys(&self, q: &KeyQuery) -> Result<Page<KeyRecord>>;
    /// Records usage telemetry: last use (time, IP) and `verifications` more uses on `at`'s day.
    /// Not an audited change: see ARCHITECTURE.md, "What is audited".
    async fn touch_key(
        &self,
        id: &KeyId,
        at: Timestamp,
        ip: Option<&str>,
        verifications: u64,
    ) -> Result<()>;
    async fn key_counts(&self, now: Timestamp) -> Result<domain::model::KeyCounts>;
    /// Keys created and verifications per UTC day, for days `from_day..=to_day` (days since epoch).
    async fn key_activity(&self, from_day: i64, to_day: i64) -> Result<Vec<(i64, u64, u64)>>;
    /// Number of clients.
    async fn client_count(&self) -> Result<u64>;

    async fn oidc_config(&self, id: Uuid) -> Result<Option<OidcRecord>>;
    async fn oidc_configs(&self) -> Result<Vec<OidcRecord>>;
    async fn integration(&self, id: Uuid) -> Result<Option<IntegrationRecord>>;
    async fn integrations(&self) -> Result<Vec<IntegrationRecord>>;
    async fn client(&self, id: Uuid) -> Result<Option<Client>>;
    async fn clients(&self, f: &ClientFilter, limit: u32) -> Result<Page<Client>>;

    async fn audit(&self, f: &AuditFilter, limit: u32) -> Result<Page<AuditEvent>>;
    /// Events in chain order with `seq > after`, at most `limit`.
    async fn audit_chain(&self, after: i64, limit: u32) -> Result<Vec<AuditEvent>>;
    /// The chain's tip: (seq, hash) of the last committed event.
    async fn audit_head(&self) -> Result<(i64, String)>;
    async fn changes_after(&self, cursor: i64, limit: u32) -> Result<Vec<Change>>;

    async fn idempotency(&self, id: &str) -> Result<Option<IdempotencyRecord>>;

    async fn master_key_fingerprints(&self) -> Result<Vec<(u32, String)>>;
    /// How many sealed values of `col` use a version below `version`, and how many there are.
    async fn count_sealed(&self, col: SealedColumn, below_version: u32) -> Result<(u64, u64)>;
    /// Up to `limit` (row id, sealed value) pairs of `col` below `version`.
    async fn sealed_below(
        &self,
        col: SealedColumn,
        version: u32,
        limit: u32,
    ) -> Result<Vec<(String, Vec<u8>)>>;
}

/// A write in progress. Dropping it rolls back. The only way to make its changes durable is
/// [`WriteTx::commit`], which takes the audit events of the write: a change without its audit
/// trail cannot be committed.
#[async_trait]
pub trait WriteTx: Send {
    async fn key_for_update(&mut self, id: &KeyId) -> Result<Option<KeyRecord>>;
    async fn insert_key(&mut self, k: &KeyRecord) -> Result<()>;
    async fn update_key(&mut self, k: &KeyRecord) -> Result<()>;

    async fn oidc_for_update(&mut self, id: Uuid) -> Result<Option<OidcRecord>>;
    async fn insert_oidc(&mut self, o: &OidcRecord) -> Result<()>;
    async fn update_oidc(&mut self, o: &OidcRecord) -> Result<()>;
    async fn delete_oidc(&mut self, id: Uuid) -> Result<()>;

    async fn integration_for_update(&mut self, id: Uuid) -> Result<Option<IntegrationRecord>>;
    async fn insert_integration(&mut self, i: &IntegrationRecord) -> Result<()>;
    async fn update_integration(&mut self, i: &IntegrationRecord) -> Result<()>;
    async fn delete_integration(&mut self, id: Uuid) -> Result<()>;

    async fn client_for_update(&mut self, id: Uuid) -> Result<Option<Client>>;
    async fn insert_client(&mut self, c: &Client) -> Result<()>;
    async fn update_client(&mut self, c: &Client) -> Result<()>;

    /// Stores the replayable result of an idempotent write. A concurrent duplicate fails with
    /// [`StoreError::Conflict`] (on PostgreSQL it first waits for the other to finish).
    async fn put_idempotency(&mut self, r: &IdempotencyRecord) -> Result<()>;
    /// Records a master-key version's fingerprint; false if it was already recorded.
    async fn register_master_key(&mut self, version: u32, fingerprint: &str) -> Result<bool>;
    /// Replaces one sealed value if it is still at `old_version`; false if it moved meanwhile.
    async fn reseal(
        &mut self,
        col: SealedColumn,
        id: &str,
        old_version: u32,
        sealed: &[u8],
        new_version: u32,
    ) -> Result<bool>;

    /// Appends the audit events and change-feed entries, then commits everything atomically.
    async fn commit(self: Box<Self>, audit: AuditBatch) -> Result<Vec<AuditEvent>>;
}
