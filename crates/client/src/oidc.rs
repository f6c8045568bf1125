//! `impl Oidc for RemotePortal`: `/v1/oidc`.

use crate::{seg, RemotePortal, NO_BODY};
use async_trait::async_trait;
use domain::error::Result;
use domain::model::OidcConfig;
use domain::oidc::OidcProbeReport;
use domain::Actor;
use portal::oidc::wire::*;
use portal::{NewOidc, Oidc, OidcChanges};
use reqwest::Method;

#[async_trait]
impl Oidc for RemotePortal {
    async fn list_oidc(&self, actor: &Actor) -> Result<Vec<OidcConfig>> {
        self.get(actor, "v1/oidc").await
    }

    async fn get_oidc(&self, actor: &Actor, id: &str) -> Result<OidcConfig> {
        self.get(actor, &format!("v1/oidc/{}", seg(id))).await
    }

    async fn create_oidc(
        &self,
        actor: &Actor,
        new: NewOidc,
        idem: Option<&str>,
    ) -> Result<OidcConfig> {
        let body = NewOidcBody::from(&new);
        self.call(actor, Method::POST, "v1/oidc", idem, Some(&body), &[])
            .await
    }

    async fn update_oidc(
        &self,
        actor: &Actor,
        id: &str,
        changes: OidcChanges,
    ) -> Result<OidcConfig> {
        let body = OidcChangesBody::from(&changes);
        let path = format!("v1/oidc/{}", seg(id));
        self.call(actor, Method::PATCH, &path, None, Some(&body), &[])
            .await
    }

    async fn set_oidc_enabled(&self, actor: &Actor, id: &str, enabled: bool) -> Result<OidcConfig> {
        let path = format!("v1/oidc/{}/enabled", seg(id));
        self.call(
            actor,
            Method::PUT,
            &path,
            None,
            Some(&EnabledBody { enabled }),
            &[],
        )
        .await
    }

    async fn delete_oidc(&self, actor: &Actor, id: &str) -> Result<()> {
        let path = format!("v1/oidc/{}", seg(id));
        self.send(actor, Method::DELETE, &path, None, NO_BODY, &[])
            .await
            .map(|_| ())
    }

    async fn test_oidc(&self, actor: &Actor, id: &str) -> Result<OidcProbeReport> {
        let path = format!("v1/oidc/{}/test", seg(id));
        self.call(actor, Method::POST, &path, None, NO_BODY, &[])
            .await
    }
}
