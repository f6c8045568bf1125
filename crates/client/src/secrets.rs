//! `impl Secrets for RemotePortal`: `/v1/secrets`.

use crate::RemotePortal;
use async_trait::async_trait;
use domain::error::Result;
use domain::model::MasterKeyStatus;
use domain::Actor;
use portal::secrets::wire::*;
use portal::{MasterKeyReport, MasterKeyRotation, Progress, Secrets};
use reqwest::Method;

#[async_trait]
impl Secrets for RemotePortal {
    async fn master_key_status(&self, actor: &Actor) -> Result<MasterKeyStatus> {
        self.get(actor, "v1/secrets/master-key").await
    }

    async fn rotate_master_key(
        &self,
        actor: &Actor,
        options: MasterKeyRotation,
        _progress: Progress<'_>,
        idempotency_key: Option<&str>,
    ) -> Result<MasterKeyReport> {
        let body = MasterKeyRotationBody::from(options);
        self.call(
            actor,
            Method::POST,
            "v1/secrets/rotations",
            idempotency_key,
            Some(&body),
            &[],
        )
        .await
    }
}
