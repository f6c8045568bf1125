//! `impl Integrations for RemotePortal`: `/v1/integrations`.

use crate::{seg, RemotePortal, NO_BODY};
use async_trait::async_trait;
use domain::error::Result;
use domain::model::Integration;
use domain::Actor;
use portal::integrations::wire::*;
use portal::{IntegrationChanges, Integrations, NewIntegration};
use reqwest::Method;

#[async_trait]
impl Integrations for RemotePortal {
    async fn list_integrations(&self, actor: &Actor) -> Result<Vec<Integration>> {
        self.get(actor, "v1/integrations").await
    }

    async fn get_integration(&self, actor: &Actor, id: &str) -> Result<Integration> {
        let path = format!("v1/integrations/{}", seg(id));
        self.get(actor, &path).await
    }

    async fn create_integration(
        &self,
        actor: &Actor,
        new: NewIntegration,
        idem: Option<&str>,
    ) -> Result<Integration> {
        let body = NewIntegrationBody::from(&new);
        self.call(
            actor,
            Method::POST,
            "v1/integrations",
            idem,
            Some(&body),
            &[],
        )
        .await
    }

    async fn update_integration(
        &self,
        actor: &Actor,
        id: &str,
        changes: IntegrationChanges,
    ) -> Result<Integration> {
        let body = IntegrationChangesBody::from(&changes);
        let path = format!("v1/integrations/{}", seg(id));
        self.call(actor, Method::PATCH, &path, None, Some(&body), &[])
            .await
    }

    async fn set_integration_paused(
        &self,
        actor: &Actor,
        id: &str,
        paused: bool,
    ) -> Result<Integration> {
        let path = format!("v1/integrations/{}/paused", seg(id));
        self.call(
            actor,
            Method::PUT,
            &path,
            None,
            Some(&PausedBody { paused }),
            &[],
        )
        .await
    }

    async fn delete_integration(&self, actor: &Actor, id: &str) -> Result<()> {
        let path = format!("v1/integrations/{}", seg(id));
        self.send(actor, Method::DELETE, &path, None, NO_BODY, &[])
            .await
            .map(|_| ())
    }

    async fn record_integration_sync(
        &self,
        actor: &Actor,
        id: &str,
        error: Option<String>,
        idem: Option<&str>,
    ) -> Result<Integration> {
        let path = format!("v1/integrations/{}/syncs", seg(id));
        self.call(
            actor,
            Method::POST,
            &path,
            idem,
            Some(&SyncBody { error }),
            &[],
        )
        .await
    }
}
