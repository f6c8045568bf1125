//! `impl Audit for RemotePortal`: `/v1/audit`.

use crate::{q, RemotePortal, NO_BODY};
use async_trait::async_trait;
use domain::audit::AuditEvent;
use domain::error::Error;
use domain::error::Result;
use domain::model::{AuditFilter, ChainReport, Page};
use domain::Actor;
use portal::Audit;
use reqwest::Method;

#[async_trait]
impl Audit for RemotePortal {
    async fn list_audit(&self, actor: &Actor, filter: AuditFilter) -> Result<Page<AuditEvent>> {
        self.call(
            actor,
            Method::GET,
            "v1/audit",
            None,
            NO_BODY,
            &audit_query(&filter),
        )
        .await
    }

    async fn verify_audit(&self, actor: &Actor) -> Result<ChainReport> {
        self.get(actor, "v1/audit/verification").await
    }

    async fn export_audit_csv(
        &self,
        actor: &Actor,
        filter: AuditFilter,
        out: &mut (dyn std::io::Write + Send),
    ) -> Result<u64> {
        let csv = self
            .send(
                actor,
                Method::GET,
                "v1/audit/export",
                None,
                NO_BODY,
                &audit_query(&filter),
            )
            .await?;
        out.write_all(&csv)
            .map_err(|e| Error::Unavailable(format!("cannot write the export: {e}")))?;
        // Count records, not lines: a field may hold a line break.
        let mut reader = csv_records(&csv);
        Ok(reader.records().filter(|r| r.is_ok()).count() as u64)
    }
}

fn audit_query(f: &AuditFilter) -> Vec<(&'static str, String)> {
    [
        q("entity_type", &f.entity_type),
        q("entity_id", &f.entity_id),
        q("actor", &f.actor),
        q("action", &f.action),
        q("from", &f.from.map(|t| t.to_rfc3339())),
        q("to", &f.to.map(|t| t.to_rfc3339())),
        q("limit", &f.limit),
        q("cursor", &f.cursor),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn csv_records(bytes: &[u8]) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes)
}
