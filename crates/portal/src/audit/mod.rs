//! The audit trail: every change, hash-chained; listed with filters, verified end to end, and
//! exported as CSV.

pub(crate) mod local;

use async_trait::async_trait;
use domain::audit::AuditEvent;
use domain::error::Result;
use domain::model::{AuditFilter, ChainReport, Page};
use domain::Actor;

/// The audit trail.
#[async_trait]
pub trait Audit: Send + Sync {
    async fn list_audit(&self, actor: &Actor, filter: AuditFilter) -> Result<Page<AuditEvent>>;
    /// Recomputes every hash and link; names the first broken one.
    async fn verify_audit(&self, actor: &Actor) -> Result<ChainReport>;
    /// Writes the matching events as CSV, newest first; returns how many.
    async fn export_audit_csv(
        &self,
        actor: &Actor,
        filter: AuditFilter,
        out: &mut (dyn std::io::Write + Send),
    ) -> Result<u64>;
}
