//! `impl Audit for RemotePortal`: `/v1/audit`.

use crate::{q, RemotePortal, NO_BODY};
use async_trait::async_trait;
use domain::audit::AuditEvent;
use domain::error::Error;
use domain::error::Result;
use domain::model::{AuditCheckpoint, AuditFilter, ChainReport, Page, VerifyAgainst};
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

    async fn verify_audit(
        &self,
        actor: &Actor,
        against: Option<AuditCheckpoint>,
    ) -> Result<ChainReport> {
        match against {
            None => self.get(actor, "v1/audit/verification").await,
            Some(cp) => {
                self.call(
                    actor,
                    Method::POST,
                    "v1/audit/verification",
                    None,
                    Some(&VerifyAgainst { against: Some(cp) }),
                    &[],
                )
                .await
            }
        }
    }

    async fn audit_checkpoint(&self, actor: &Actor) -> Result<AuditCheckpoint> {
        self.get(actor, "v1/audit/checkpoint").await
    }

    async fn export_audit_csv(
        &self,
        actor: &Actor,
        filter: AuditFilter,
        out: &mut (dyn tokio::io::AsyncWrite + Send + Unpin),
    ) -> Result<u64> {
        use tokio::io::AsyncWriteExt;
        let mut response = self
            .respond(
                actor,
                Method::GET,
                "v1/audit/export",
                None,
                NO_BODY,
                &audit_query(&filter),
            )
            .await?;
        let written =
            |e: std::io::Error| Error::Unavailable(format!("cannot write the export: {e}"));
        // Streamed to `out` as it arrives; records counted on the way (a field may hold a line
        // break, so lines are not records).
        let mut records = RecordCounter::default();
        while let Some(chunk) = response.chunk().await.map_err(|e| {
            Error::Unavailable(format!(
                "the export from the portal stopped before its end ({e}); the file is incomplete: export again"
            ))
        })? {
            records.feed(&chunk);
            out.write_all(&chunk).await.map_err(written)?;
        }
        out.flush().await.map_err(written)?;
        Ok(records.records().saturating_sub(1))
    }
}

/// Counts CSV records (RFC 4180: a line break inside quotes is part of a field).
#[derive(Debug, Default)]
struct RecordCounter {
    quoted: bool,
    ended: u64,
    open: bool,
}

impl RecordCounter {
    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            match b {
                b'"' => {
                    self.quoted = !self.quoted;
                    self.open = true;
                }
                b'\n' if !self.quoted => {
                    self.ended += 1;
                    self.open = false;
                }
                b'\r' if !self.quoted => {}
                _ => self.open = true,
            }
        }
    }

    /// Records seen, the header included; a last one without a line break counts.
    fn records(&self) -> u64 {
        self.ended + u64::from(self.open)
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

#[cfg(test)]
mod tests {
    use super::RecordCounter;

    #[test]
    fn records_are_counted_across_chunks_and_quoted_line_breaks() {
        let csv = b"seq,name\r\n1,\"two\nlines\"\r\n2,\"a \"\"quote\"\"\"\r\n3,last";
        for split in 0..csv.len() {
            let mut c = RecordCounter::default();
            c.feed(&csv[..split]);
            c.feed(&csv[split..]);
            assert_eq!(c.records(), 4, "split at {split}");
        }
    }
}
