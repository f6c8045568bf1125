//! `impl Workspace for LocalPortal`: who am I, the overview (what needs attention, and 30 days
//! of key activity), emptiness, and the demo seed.

use super::{Me, SeedReport, Workspace, WorkspaceStatus};
use crate::local::{store_err, LocalPortal};
use crate::secrets::Progress;
use async_trait::async_trait;
use domain::error::{Error, Result};
use domain::model::{ClientFilter, DayActivity, IntegrationStatus, Overview};
use domain::{Actor, Permission, Timestamp};

pub const ACTIVITY_DAYS: i64 = 30;

#[async_trait]
impl Workspace for LocalPortal {
    async fn whoami(&self, actor: &Actor) -> Result<Me> {
        Ok(Me::of(actor))
    }

    async fn workspace_status(&self, actor: &Actor) -> Result<WorkspaceStatus> {
        // Like the overview: a workspace-wide fact, for staff roles.
        self.authorize(actor, Permission::ReadKeys, None)?;
        Ok(WorkspaceStatus {
            empty: self.is_empty().await?,
        })
    }

    async fn seed_demo(&self, actor: &Actor, progress: Progress<'_>) -> Result<SeedReport> {
        self.authorize(actor, Permission::Seed, None)?;
        if !self.is_empty().await? {
            return Err(Error::conflict(
                "this workspace already holds data; demo data is only added to an empty workspace",
            ));
        }
        super::seed::demo(
            self.store.clone(),
            self.master_keys()?,
            self.now(),
            progress,
        )
        .await
    }

    async fn overview(&self, actor: &Actor) -> Result<Overview> {
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

impl LocalPortal {
    /// The one definition of an empty workspace: no client, key, OIDC configuration or
    /// integration. (Audit events alone, such as a master key's registration, do not count.)
    async fn is_empty(&self) -> Result<bool> {
        let clients = self
            .store
            .clients(&ClientFilter::default(), 1)
            .await
            .map_err(store_err)?;
        let keys = self.store.key_ids().await.map_err(store_err)?;
        let oidc = self.store.oidc_configs().await.map_err(store_err)?;
        let integrations = self.store.integrations().await.map_err(store_err)?;
        Ok(clients.items.is_empty()
            && keys.is_empty()
            && oidc.is_empty()
            && integrations.is_empty())
    }
}
