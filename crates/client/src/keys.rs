//! `impl Keys for RemotePortal`: `/v1/keys`.

use crate::{q, seg, with_context, RemotePortal, NO_BODY};
use async_trait::async_trait;
use domain::error::{Error, Result};
use domain::model::{CreatedKey, FederationKey, KeyFilter, Page, Rotation, Verified};
use domain::Actor;
use portal::keys::wire::*;
use portal::{Keys, NewKey};
use reqwest::Method;

#[async_trait]
impl Keys for RemotePortal {
    async fn create_key(
        &self,
        actor: &Actor,
        new: NewKey,
        idem: Option<&str>,
    ) -> Result<CreatedKey> {
        let body: CreatedKeyBody = self
            .call(actor, Method::POST, "v1/keys", idem, Some(&new), &[])
            .await?;
        Ok(body.into())
    }

    async fn list_keys(&self, actor: &Actor, filter: KeyFilter) -> Result<Page<FederationKey>> {
        self.call(
            actor,
            Method::GET,
            "v1/keys",
            None,
            NO_BODY,
            &key_query(&filter),
        )
        .await
    }

    async fn get_key(&self, actor: &Actor, id: &str) -> Result<FederationKey> {
        self.get(actor, &format!("v1/keys/{}", seg(id))).await
    }

    async fn revoke_key(
        &self,
        actor: &Actor,
        id: &str,
        idem: Option<&str>,
    ) -> Result<FederationKey> {
        let path = format!("v1/keys/{}/revoke", seg(id));
        self.call(actor, Method::POST, &path, idem, NO_BODY, &[])
            .await
    }

    async fn revoke_keys(
        &self,
        actor: &Actor,
        ids: &[String],
        idem: Option<&str>,
    ) -> Result<Vec<FederationKey>> {
        let body = RevokeKeysBody { ids: ids.to_vec() };
        self.call(
            actor,
            Method::POST,
            "v1/keys/revoke",
            idem,
            Some(&body),
            &[],
        )
        .await
    }

    async fn rotate_key(
        &self,
        actor: &Actor,
        id: &str,
        overlap: &str,
        idem: Option<&str>,
    ) -> Result<Rotation> {
        let body = RotateBody {
            overlap: overlap.to_string(),
        };
        let path = format!("v1/keys/{}/rotate", seg(id));
        let r: RotationBody = self
            .call(actor, Method::POST, &path, idem, Some(&body), &[])
            .await?;
        Ok(r.into())
    }

    async fn end_overlap(&self, actor: &Actor, id: &str) -> Result<FederationKey> {
        let path = format!("v1/keys/{}/end-overlap", seg(id));
        self.call(actor, Method::POST, &path, None, NO_BODY, &[])
            .await
    }

    /// Verifies `presented` as a partner would: the key itself is the credential, so the
    /// session's token is not sent.
    async fn verify_key(&self, actor: &Actor, presented: &str) -> Result<Verified> {
        let url = self.url("v1/federation/verify")?;
        let req = with_context(self.http.post(url).bearer_auth(presented), actor);
        let response = req.send().await.map_err(|e| self.unreachable(&e))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| self.unreachable(&e))?;
        if !status.is_success() {
            return Err(self.problem(status, &bytes));
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::Internal(format!("unexpected verify answer: {e}")))
    }
}

fn key_query(f: &KeyFilter) -> Vec<(&'static str, String)> {
    [
        q("status", &f.status.map(|s| s.as_str())),
        q("expiring_within_days", &f.expiring_within_days),
        q("unused_for_days", &f.unused_for_days),
        q("search", &f.search),
        q("limit", &f.limit),
        q("cursor", &f.cursor),
    ]
    .into_iter()
    .flatten()
    .collect()
}
