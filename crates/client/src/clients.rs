//! `impl Clients for RemotePortal`: `/v1/clients`.

use crate::{q, seg, RemotePortal, NO_BODY};
use async_trait::async_trait;
use domain::error::Result;
use domain::model::{Client, ClientFilter, Page};
use domain::Actor;
use portal::clients::wire::*;
use portal::{Clients, NewClient};
use reqwest::Method;

#[async_trait]
impl Clients for RemotePortal {
    async fn list_clients(&self, actor: &Actor, filter: ClientFilter) -> Result<Page<Client>> {
        let query: Vec<(&str, String)> = [
            q("search", &filter.search),
            q("limit", &filter.limit),
            q("cursor", &filter.cursor),
        ]
        .into_iter()
        .flatten()
        .collect();
        self.call(actor, Method::GET, "v1/clients", None, NO_BODY, &query)
            .await
    }

    async fn get_client(&self, actor: &Actor, id: &str) -> Result<Client> {
        let path = format!("v1/clients/{}", seg(id));
        self.get(actor, &path).await
    }

    async fn create_client(
        &self,
        actor: &Actor,
        new: NewClient,
        idem: Option<&str>,
    ) -> Result<Client> {
        self.call(actor, Method::POST, "v1/clients", idem, Some(&new), &[])
            .await
    }

    async fn rename_client(&self, actor: &Actor, id: &str, name: &str) -> Result<Client> {
        let body = RenameBody {
            name: name.to_string(),
        };
        let path = format!("v1/clients/{}", seg(id));
        self.call(actor, Method::PATCH, &path, None, Some(&body), &[])
            .await
    }
}
