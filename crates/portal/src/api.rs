//! `impl Portal for LocalPortal`: each operation delegates to its capability module.

use crate::*;

#[async_trait]
impl Portal for LocalPortal {
    async fn create_key(
        &self,
        actor: &Actor,
        new: NewKey,
        idem: Option<&str>,
    ) -> Result<CreatedKey> {
        self.create_key_impl(actor, new, idem).await
    }
    async fn list_keys(&self, actor: &Actor, filter: KeyFilter) -> Result<Page<FederationKey>> {
        self.list_keys_impl(actor, filter).await
    }
    async fn get_key(&self, actor: &Actor, id: &str) -> Result<FederationKey> {
        self.get_key_impl(actor, id).await
    }
    async fn revoke_key(
        &self,
        actor: &Actor,
        id: &str,
        idem: Option<&str>,
    ) -> Result<FederationKey> {
        let mut v = self
            .revoke_keys_impl(actor, &[id.to_string()], idem)
            .await?;
        v.pop()
            .ok_or_else(|| domain::Error::Internal("revocation returned nothing".into()))
    }
    async fn revoke_keys(
        &self,
        actor: &Actor,
        ids: &[String],
        idem: Option<&str>,
    ) -> Result<Vec<FederationKey>> {
        self.revoke_keys_impl(actor, ids, idem).await
    }
    async fn rotate_key(
        &self,
        actor: &Actor,
        id: &str,
        overlap: &str,
        idem: Option<&str>,
    ) -> Result<Rotation> {
        self.rotate_key_impl(actor, id, overlap, idem).await
    }
    async fn end_overlap(&self, actor: &Actor, id: &str) -> Result<FederationKey> {
        self.end_overlap_impl(actor, id).await
    }
    async fn verify_key(&self, actor: &Actor, presented: &str) -> Result<Verified> {
        self.verify_key_impl(actor, presented).await
    }

    async fn list_oidc(&self, actor: &Actor) -> Result<Vec<OidcConfig>> {
        self.list_oidc_impl(actor).await
    }
    async fn get_oidc(&self, actor: &Actor, id: &str) -> Result<OidcConfig> {
        self.get_oidc_impl(actor, id).await
    }
    async fn create_oidc(
        &self,
        actor: &Actor,
        new: NewOidc,
        idem: Option<&str>,
    ) -> Result<OidcConfig> {
        self.create_oidc_impl(actor, new, idem).await
    }
    async fn update_oidc(
        &self,
        actor: &Actor,
        id: &str,
        changes: OidcChanges,
    ) -> Result<OidcConfig> {
        self.update_oidc_impl(actor, id, changes).await
    }
    async fn set_oidc_enabled(&self, actor: &Actor, id: &str, enabled: bool) -> Result<OidcConfig> {
        self.set_oidc_enabled_impl(actor, id, enabled).await
    }
    async fn delete_oidc(&self, actor: &Actor, id: &str) -> Result<()> {
        self.delete_oidc_impl(actor, id).await
    }

    async fn list_integrations(&self, actor: &Actor) -> Result<Vec<Integration>> {
        self.list_integrations_impl(actor).await
    }
    async fn get_integration(&self, actor: &Actor, id: &str) -> Result<Integration> {
        self.get_integration_impl(actor, id).await
    }
    async fn create_integration(
        &self,
        actor: &Actor,
        new: NewIntegration,
        idem: Option<&str>,
    ) -> Result<Integration> {
        self.create_integration_impl(actor, new, idem).await
    }
    async fn update_integration(
        &self,
        actor: &Actor,
        id: &str,
        changes: IntegrationChanges,
    ) -> Result<Integration> {
        self.update_integration_impl(actor, id, changes).await
    }
    async fn set_integration_paused(
        &self,
        actor: &Actor,
        id: &str,
        paused: bool,
    ) -> Result<Integration> {
        self.set_integration_paused_impl(actor, id, paused).await
    }
    async fn delete_integration(&self, actor: &Actor, id: &str) -> Result<()> {
        self.delete_integration_impl(actor, id).await
    }
    async fn record_integration_sync(
        &self,
        actor: &Actor,
        id: &str,
        error: Option<String>,
        idem: Option<&str>,
    ) -> Result<Integration> {
        self.record_integration_sync_impl(actor, id, error, idem)
            .await
    }

    async fn list_clients(&self, actor: &Actor, filter: ClientFilter) -> Result<Page<Client>> {
        self.list_clients_impl(actor, filter).await
    }
    async fn get_client(&self, actor: &Actor, id: &str) -> Result<Client> {
        self.get_client_impl(actor, id).await
    }
    async fn create_client(
        &self,
        actor: &Actor,
        new: NewClient,
        idem: Option<&str>,
    ) -> Result<Client> {
        self.create_client_impl(actor, new, idem).await
    }
    async fn rename_client(&self, actor: &Actor, id: &str, name: &str) -> Result<Client> {
        self.rename_client_impl(actor, id, name).await
    }

    async fn list_audit(&self, actor: &Actor, filter: AuditFilter) -> Result<Page<AuditEvent>> {
        self.list_audit_impl(actor, filter).await
    }
    async fn verify_audit(&self, actor: &Actor) -> Result<ChainReport> {
        self.verify_audit_impl(actor).await
    }
    async fn export_audit_csv(
        &self,
        actor: &Actor,
        filter: AuditFilter,
        out: &mut (dyn std::io::Write + Send),
    ) -> Result<u64> {
        self.export_audit_csv_impl(actor, filter, out).await
    }

    async fn overview(&self, actor: &Actor) -> Result<Overview> {
        self.overview_impl(actor).await
    }
    async fn master_key_status(&self, actor: &Actor) -> Result<MasterKeyStatus> {
        self.master_key_status_impl(actor).await
    }
    async fn rotate_master_key(
        &self,
        actor: &Actor,
        options: MasterKeyRotation,
        progress: Progress<'_>,
    ) -> Result<MasterKeyReport> {
        self.rotate_master_key_impl(actor, options, progress).await
    }
}
