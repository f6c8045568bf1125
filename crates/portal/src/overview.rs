//! The overview: what needs attention, and 30 days of key activity.

use crate::local::{store_err, LocalPortal};
use domain::error::Result;
use domain::model::{DayActivity, IntegrationStatus, Overview};
use domain::{Actor, Permission, Timestamp};

pub const ACTIVITY_DAYS: i64 = 30;

impl LocalPortal {
    pub(crate) async fn overview_impl(&self, actor: &Actor) -> Result<Overview> {
        self.authorize(actor, Permission::ReadKeys, None)?;
        let now = self.now();
        let keys = self.store.key_counts(now).await.map_err(store_err)?;
        let oidc = self.store.oidc_configs().await.map_err(store_err)?;
        let integrations = self.store.integrations().await.map_err(store_err)?;
        let today = now.millis().div_euclid(86_400_000);
        let activity = self
            .store
            .key_activity(today - ACTIVITY_DAYS + 1, today)
            .await
            .map_err(store_err)?
            .into_iter()
            .map(|(day, keys_created, verifications)| DayActivity {
                day: Timestamp::from_millis(day * 86_400_000).to_rfc3339()[..10].to_string(),
                keys_created,
                verifications,
            })
            .collect();
        Ok(Overview {
            keys,
            enabled_oidc_configs: oidc.iter().filter(|o| o.enabled).count() as u64,
            integrations_in_error: integrations
                .iter()
                .filter(|i| i.status == IntegrationStatus::Error)
                .count() as u64,
            integrations_total: integrations.len() as u64,
            clients: self.store.client_count().await.map_err(store_err)?,
            audit_events: self.store.audit_head().await.map_err(store_err)?.0 as u64,
            activity,
        })
    }
}
