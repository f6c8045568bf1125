//! `impl SyncApi for RemotePortal`: `/v1/sync/push`, `/v1/sync/pull`.

use crate::{RemotePortal, NO_BODY};
use async_trait::async_trait;
use domain::error::Result;
use domain::model::{PullResponse, PushRequest, PushResponse};
use domain::Actor;
use portal::SyncApi;
use reqwest::Method;

#[async_trait]
impl SyncApi for RemotePortal {
    async fn sync_push(&self, actor: &Actor, push: PushRequest) -> Result<PushResponse> {
        // Idempotent by (client_id, mutation_id) upstream: a retry is answered, not re-applied.
        self.call(actor, Method::POST, "v1/sync/push", None, Some(&push), &[])
            .await
    }

    async fn sync_pull(
        &self,
        actor: &Actor,
        cursor: i64,
        limit: Option<u32>,
    ) -> Result<PullResponse> {
        let mut query = vec![("cursor", cursor.to_string())];
        if let Some(l) = limit {
            query.push(("limit", l.to_string()));
        }
        self.call(actor, Method::GET, "v1/sync/pull", None, NO_BODY, &query)
            .await
    }
}
