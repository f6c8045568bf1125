//! The audit trail: every change, hash-chained; listed with filters, verified end to end, and
//! exported as CSV.

pub(crate) mod local;

use async_trait::async_trait;
use domain::audit::AuditEvent;
use domain::error::Result;
use domain::model::{AuditCheckpoint, AuditFilter, ChainReport, Page};
use domain::Actor;

/// The audit trail.
#[async_trait]
pub trait Audit: Send + Sync {
    async fn list_audit(&self, actor: &Actor, filter: AuditFilter) -> Result<Page<AuditEvent>>;
    /// Recomputes every hash and link; names the first broken one. With a checkpoint (made by
    /// [`Audit::audit_checkpoint`] and kept outside the database), also checks that the event
    /// it names still has its hash: a history rewritten with recomputed hashes fails there.
    /// Admins only (`verify_audit`): it reads the whole trail.
    async fn verify_audit(
        &self,
        actor: &Actor,
        against: Option<AuditCheckpoint>,
    ) -> Result<ChainReport>;
    /// The chain's tip now, signed with a key derived from the master key: keep it outside the
    /// database (a file, a log sink) to verify against later.
    async fn audit_checkpoint(&self, actor: &Actor) -> Result<AuditCheckpoint>;
    /// Writes the matching events as CSV, newest first, a page at a time as they are read (the
    /// memory held is one page, whatever the trail's size; a slow reader slows the export);
    /// returns how many.
    async fn export_audit_csv(
        &self,
        actor: &Actor,
        filter: AuditFilter,
        out: &mut (dyn tokio::io::AsyncWrite + Send + Unpin),
    ) -> Result<u64>;
}
