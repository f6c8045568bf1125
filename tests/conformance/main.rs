//! The conformance suite: the same stories against every Portal — the LocalPortal on SQLite and
//! on PostgreSQL, and RemotePortal through the API server — one module per capability.

mod analytics;
mod analytics_funnels;
mod audit;
mod audit_roles;
mod concurrency;
mod escalation_jobs;
mod harness;
mod incident_people;
mod incidents;
mod integrations;
mod keys;
mod oidc;
mod rotation;
mod secrets;
mod sync;
mod tenants;
mod workspace;

use domain::audit::AuditEvent;
use domain::model::AuditFilter;
use portal::prelude::*;
use stories::{admin, TestDb};

/// How many audit events the store holds (the head of the chain).
pub async fn audit_head(db: &TestDb) -> i64 {
    use store::prelude::*;
    db.store.audit_head().await.expect("audit head").0
}

/// One entity's audit trail, oldest first, read through the Portal.
pub async fn trail(p: &dyn Portal, entity_type: &str, id: &str) -> Vec<AuditEvent> {
    let mut events = p
        .list_audit(
            &admin(),
            AuditFilter {
                entity_type: Some(entity_type.into()),
                entity_id: Some(id.into()),
                limit: Some(500),
                ..Default::default()
            },
        )
        .await
        .expect("the trail reads")
        .items;
    events.reverse();
    events
}

/// The actions of one entity's trail, oldest first.
pub async fn actions(p: &dyn Portal, entity_type: &str, id: &str) -> Vec<String> {
    trail(p, entity_type, id)
        .await
        .into_iter()
        .map(|e| e.action)
        .collect()
}
