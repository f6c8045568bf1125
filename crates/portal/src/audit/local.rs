//! `impl Audit for LocalPortal`: browse, verify the hash chain, export as CSV.

use super::Audit;
use crate::local::{page_limit, store_err, LocalPortal};
use async_trait::async_trait;
use domain::audit::{AuditEvent, BrokenLink, ChainVerifier};
use domain::error::{Error, Result};
use domain::model::{
    AuditCheckpoint, AuditFilter, ChainReport, CheckpointVerdict, Page, AUDIT_FILTER_MAX,
};
use domain::{Actor, Permission};

const CHAIN_BATCH: u32 = 2000;

/// The text filters: no NUL, and their lengths. A range with `to` at or before `from` is valid and empty.
fn check_filter(f: &AuditFilter) -> Result<()> {
    for (field, v) in [
        ("entity_type", &f.entity_type),
        ("entity_id", &f.entity_id),
        ("actor", &f.actor),
        ("action", &f.action),
    ] {
        if let Some(Err(m)) = v.as_deref().map(domain::validate::check_text) {
            return Err(Error::invalid(field, m));
        }
        if v.as_ref()
            .is_some_and(|s| s.chars().count() > AUDIT_FILTER_MAX)
        {
            return Err(Error::invalid(
                field,
                format!("must be at most {AUDIT_FILTER_MAX} characters"),
            ));
        }
    }
    Ok(())
}

#[async_trait]
impl Audit for LocalPortal {
    async fn list_audit(&self, actor: &Actor, filter: AuditFilter) -> Result<Page<AuditEvent>> {
        self.authorize(actor, Permission::ReadAudit, None)?;
        let limit = page_limit(filter.limit)?;
        check_filter(&filter)?;
        self.store.audit(&filter, limit).await.map_err(store_err)
    }

    async fn verify_audit(
        &self,
        actor: &Actor,
        against: Option<AuditCheckpoint>,
    ) -> Result<ChainReport> {
        self.authorize(actor, Permission::VerifyAudit, None)?;
        if let Some(cp) = &against {
            cp.validate()?;
        }
        // A checkpoint the portal did not sign proves nothing: the chain is still walked and
        // reported, and the verdict says the checkpoint is not authentic.
        let keys = self.master_keys()?;
        let (against, authentic) = match against {
            Some(cp) if cp.is_authentic(&keys) => (Some(cp), true),
            Some(_) => (None, false),
            None => (None, true),
        };
        // The checkpoint's event was reached with the recorded hash (an empty trail's
        // checkpoint, seq 0, holds trivially).
        let mut held = against.as_ref().is_some_and(|cp| cp.seq == 0);
        let verdict = |held: bool| match (&against, authentic) {
            (_, false) => Some(CheckpointVerdict::NotAuthentic),
            (Some(_), true) if held => Some(CheckpointVerdict::Holds),
            (Some(_), true) => Some(CheckpointVerdict::Rewritten),
            (None, true) => None,
        };
        // Read the tip first: events committed after it are checked on the next run.
        let (head_seq, head_hash) = self.store.audit_head().await.map_err(store_err)?;
        if let Some(cp) = against.as_ref().filter(|cp| cp.seq > head_seq) {
            return Ok(ChainReport {
                checked: 0,
                first_broken: Some(BrokenLink {
                    seq: head_seq + 1,
                    event_id: String::new(),
                    reason: format!(
                        "the checkpoint of {} covers event {}, but the trail now ends at event {head_seq} (events were removed)",
                        cp.at.to_rfc3339(),
                        cp.seq
                    ),
                }),
                checkpoint: verdict(false),
            });
        }
        let mut v = ChainVerifier::default();
        let mut after = 0;
        let mut last: Option<AuditEvent> = None;
        loop {
            let batch = self
                .store
                .audit_chain(after, CHAIN_BATCH)
                .await
                .map_err(store_err)?;
            let Some(tail) = batch.last() else { break };
            after = tail.seq;
            for e in batch {
                if e.seq > head_seq {
                    break;
                }
                if let Err(broken) = v.check(&e) {
                    return Ok(ChainReport {
                        checked: v.checked(),
                        first_broken: Some(broken),
                        checkpoint: verdict(held),
                    });
                }
                if let Some(cp) = against.as_ref().filter(|cp| cp.seq == e.seq) {
                    if cp.hash != e.hash {
                        return Ok(ChainReport {
                            checked: v.checked(),
                            first_broken: Some(BrokenLink {
                                seq: e.seq,
                                event_id: e.id.clone(),
                                reason: format!(
                                    "the checkpoint of {} recorded another hash for this event: the history up to it was rewritten (its hashes recomputed)",
                                    cp.at.to_rfc3339()
                                ),
                            }),
                            checkpoint: verdict(false),
                        });
                    }
                    held = true;
                }
                last = Some(e);
            }
            if after >= head_seq {
                break;
            }
        }
        // The tip must be the last event: this catches deleted events at the end of the chain.
        let tip_ok = match &last {
            Some(e) => e.seq == head_seq && e.hash == head_hash,
            None => head_seq == 0,
        };
        let first_broken = (!tip_ok).then(|| BrokenLink {
            seq: last.as_ref().map_or(1, |e| e.seq + 1),
            event_id: last.as_ref().map(|e| e.id.clone()).unwrap_or_default(),
            reason: format!("the chain's recorded tip is event {head_seq}, but the trail ends before it or differs (events were removed or replaced)"),
        });
        Ok(ChainReport {
            checked: v.checked(),
            first_broken,
            checkpoint: verdict(held),
        })
    }

    async fn audit_checkpoint(&self, actor: &Actor) -> Result<AuditCheckpoint> {
        self.authorize(actor, Permission::VerifyAudit, None)?;
        let (seq, hash) = self.store.audit_head().await.map_err(store_err)?;
        AuditCheckpoint::sign(&self.master_keys()?, seq, &hash, self.now())
            .ok_or_else(|| Error::Internal("no master key to sign the checkpoint with".into()))
    }

    async fn export_audit_csv(
        &self,
        actor: &Actor,
        mut filter: AuditFilter,
        out: &mut (dyn tokio::io::AsyncWrite + Send + Unpin),
    ) -> Result<u64> {
        use tokio::io::AsyncWriteExt;
        self.authorize(actor, Permission::ReadAudit, None)?;
        check_filter(&filter)?;
        // The export holds every matching event: `limit` is checked like a list's, then unused.
        crate::local::page_limit(filter.limit)?;
        let io = |e: csv::Error| Error::Internal(format!("writing the CSV failed: {e}"));
        let sent = |e: std::io::Error| {
            Error::Unavailable(format!("the export could not be written out: {e}"))
        };
        // Actor names, user agents and request ids come from outside: cells are neutralised.
        let mut w = crate::CsvWriter::from_writer(Vec::new());
        w.write_record([
            "seq",
            "id",
            "ts",
            "actor_id",
            "actor_name",
            "actor_type",
            "entity_type",
            "entity_id",
            "action",
            "before",
            "after",
            "ip",
            "ua",
            "prev_hash",
            "hash",
            "request_id",
        ])
        .map_err(io)?;
        out.write_all(&w.take().map_err(io)?).await.map_err(sent)?;
        let mut n = 0;
        filter.limit = Some(domain::model::PAGE_MAX);
        loop {
            let page = self
                .store
                .audit(&filter, domain::model::PAGE_MAX)
                .await
                .map_err(store_err)?;
            for e in &page.items {
                let opt = |v: &Option<serde_json::Value>| {
                    v.as_ref().map(|v| v.to_string()).unwrap_or_default()
                };
                w.write_record([
                    e.seq.to_string(),
                    e.id.clone(),
                    e.ts.to_rfc3339(),
                    e.actor_id.clone(),
                    e.actor_name.clone(),
                    e.actor_type.as_str().to_string(),
                    e.entity_type.clone(),
                    e.entity_id.clone(),
                    e.action.clone(),
                    opt(&e.before),
                    opt(&e.after),
                    e.ip.clone().unwrap_or_default(),
                    e.ua.clone().unwrap_or_default(),
                    e.prev_hash.clone(),
                    e.hash.clone(),
                    e.request_id.clone().unwrap_or_default(),
                ])
                .map_err(io)?;
                n += 1;
            }
            out.write_all(&w.take().map_err(io)?).await.map_err(sent)?;
            match page.next_cursor {
                Some(c) => filter.cursor = Some(c),
                None => break,
            }
        }
        out.flush().await.map_err(sent)?;
        Ok(n)
    }
}
