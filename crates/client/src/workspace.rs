//! `impl Workspace for RemotePortal`: `/v1/me`, `/v1/overview`, `/v1/workspace`.

use crate::{RemotePortal, NO_BODY};
use async_trait::async_trait;
use domain::error::Result;
use domain::model::Overview;
use domain::Actor;
use portal::{Me, Progress, SeedReport, Workspace, WorkspaceStatus};
use reqwest::Method;

#[async_trait]
impl Workspace for RemotePortal {
    async fn overview(&self, actor: &Actor) -> Result<Overview> {
        self.get(actor, "v1/overview").await
    }

    async fn whoami(&self, actor: &Actor) -> Result<Me> {
        self.get(actor, "v1/me").await
    }

    async fn workspace_status(&self, actor: &Actor) -> Result<WorkspaceStatus> {
        self.get(actor, "v1/workspace").await
    }

    /// Seeds on the server; progress is not reported over HTTP (the call returns at the end).
    async fn seed_demo(&self, actor: &Actor, _progress: Progress<'_>) -> Result<SeedReport> {
        self.call(actor, Method::POST, "v1/workspace/seed", None, NO_BODY, &[])
            .await
    }
}
