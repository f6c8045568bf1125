//! `impl Jobs for RemotePortal`: `/v1/jobs`, `/v1/webhook-signing-secret`.

use crate::{seg, RemotePortal, NO_BODY};
use async_trait::async_trait;
use domain::error::Result;
use domain::model::{JobReport, JobStatus};
use domain::{Actor, Sensitive};
use portal::jobs::SigningSecret;
use portal::Jobs;
use reqwest::Method;

#[async_trait]
impl Jobs for RemotePortal {
    async fn list_jobs(&self, actor: &Actor) -> Result<Vec<JobStatus>> {
        self.get(actor, "v1/jobs").await
    }

    async fn run_job(&self, actor: &Actor, name: &str) -> Result<JobReport> {
        let path = format!("v1/jobs/{}/runs", seg(name));
        self.call(actor, Method::POST, &path, None, NO_BODY, &[])
            .await
    }

    async fn webhook_signing_secret(&self, actor: &Actor) -> Result<Sensitive<String>> {
        let s: SigningSecret = self.get(actor, "v1/webhook-signing-secret").await?;
        Ok(Sensitive::new(s.secret))
    }
}
