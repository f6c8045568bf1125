//! The `webhook-deliveries` job: sends the queued escalation webhooks.
//!
//! A delivery is claimed before it is sent (compare-and-set on its due time, pushing it
//! [`CLAIM_SECS`] ahead), so two runners never send the same attempt; a runner that dies
//! mid-send leaves it due again after the claim runs out — at-least-once, always under the same
//! `webhook-id`, which receivers deduplicate on.

use crate::local::{store_err, LocalPortal};
use domain::error::Result;
use domain::webhook::retry_delay_secs;
use store::AttemptOutcome;

/// How long a claimed delivery is not due again (longer than an attempt's timeout).
const CLAIM_SECS: i64 = 120;
/// Deliveries sent per run.
const BATCH: u32 = 100;

impl LocalPortal {
    pub(super) async fn run_deliveries(&self) -> Result<String> {
        let Some(sender) = self.webhooks.clone() else {
            return Ok("no outbound HTTP in this process: deliveries wait for the server".into());
        };
        let secret = self.webhook_secret()?;
        let now = self.now();
        let due = self
            .store
            .due_deliveries(now, BATCH)
            .await
            .map_err(store_err)?;
        let (mut delivered, mut retrying, mut failed) = (0, 0, 0);
        for d in due {
            if !self
                .store
                .claim_delivery(&d, now.plus_secs(CLAIM_SECS))
                .await
                .map_err(store_err)?
            {
                continue; // another runner has it
            }
            let sent_at = self.now();
            let secs = sent_at.millis().div_euclid(1000);
            let id = d.id.to_string();
            let headers = [
                ("content-type", "application/json".to_string()),
                ("webhook-id", id.clone()),
                ("webhook-timestamp", secs.to_string()),
                (
                    "webhook-signature",
                    secret.sign(&id, secs, d.payload.as_bytes()),
                ),
            ];
            let result = sender.post(&d.url, &headers, d.payload.as_bytes()).await;
            let attempts = d.attempts + 1;
            let retry_at = retry_delay_secs(attempts).map(|s| sent_at.plus_secs(s));
            let outcome = match result {
                Ok(status) if (200..300).contains(&status) => AttemptOutcome::Delivered { status },
                Ok(status) => AttemptOutcome::Failed {
                    status: Some(status),
                    error: format!("HTTP {status}"),
                    retry_at,
                },
                Err(error) => AttemptOutcome::Failed {
                    status: None,
                    error,
                    retry_at,
                },
            };
            match &outcome {
                AttemptOutcome::Delivered { .. } => delivered += 1,
                AttemptOutcome::Failed {
                    retry_at: Some(_), ..
                } => retrying += 1,
                AttemptOutcome::Failed { retry_at: None, .. } => {
                    tracing::warn!(webhook_id = %d.id, url = %d.url, attempts, "an escalation webhook failed for good");
                    failed += 1
                }
            }
            self.store
                .finish_attempt(d.id, self.now(), &outcome)
                .await
                .map_err(store_err)?;
        }
        Ok(format!(
            "{delivered} webhooks delivered, {retrying} to retry, {failed} given up"
        ))
    }
}
