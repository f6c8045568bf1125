//! `impl Oidc for LocalPortal`: the client secret is sealed and never read back.

use super::{probe, NewOidc, Oidc, OidcChanges};
use crate::local::{json, parse_id, store_err, LocalPortal};
use async_trait::async_trait;
use domain::audit::{AuditDraft, REDACTED};
use domain::envelope::Binding;
use domain::error::{Error, Result, Validator};
use domain::model::{OidcConfig, OidcRecord};
use domain::oidc::OidcProbeReport;
use domain::validate::{check_secret, ClientId, IssuerUrl, RedirectUri};
use domain::{Actor, Permission, Sensitive};
use serde_json::Value;
use store::{AuditBatch, StoreError};
use uuid::Uuid;

const ENTITY: &str = "oidc_config";

fn binding(id: &str) -> Binding<'_> {
    Binding {
        table: "oidc_configs",
        column: "client_secret",
        row_id: id,
    }
}

fn not_found(id: Uuid) -> Error {
    Error::NotFound(format!("no OIDC configuration {id} exists"))
}

/// An enabled configuration already holds this issuer.
fn issuer_taken(issuer: &str) -> impl Fn(StoreError) -> Error + '_ {
    move |e| {
        match e {
        StoreError::Conflict(_) => Error::conflict(format!(
            "an enabled configuration for {issuer} already exists: disable it first (at most one enabled configuration per issuer)"
        )),
        other => store_err(other),
    }
    }
}

/// Marks, in an audit draft, that the secret changed (its value never enters the trail).
fn mark_secret_changed(d: &mut AuditDraft) {
    for side in [&mut d.before, &mut d.after] {
        if let Some(Value::Object(m)) = side {
            m.insert("client_secret".into(), Value::String(REDACTED.into()));
        }
    }
}

fn check_secret_field(v: &mut Validator, s: &Option<Sensitive<String>>) {
    if let Some(s) = s {
        if let Err(m) = check_secret(s.expose()) {
            v.push("client_secret", m);
        }
    }
}

#[async_trait]
impl Oidc for LocalPortal {
    async fn list_oidc(&self, actor: &Actor) -> Result<Vec<OidcConfig>> {
        self.authorize(actor, Permission::ReadOidc, None)?;
        let all = self.store.oidc_configs().await.map_err(store_err)?;
        Ok(all.iter().map(OidcRecord::view).collect())
    }

    async fn get_oidc(&self, actor: &Actor, id: &str) -> Result<OidcConfig> {
        self.authorize(actor, Permission::ReadOidc, None)?;
        let id = parse_id("id", id)?;
        let rec = self
            .store
            .oidc_config(id)
            .await
            .map_err(store_err)?
            .ok_or_else(|| not_found(id))?;
        Ok(rec.view())
    }

    async fn test_oidc(&self, actor: &Actor, id: &str) -> Result<OidcProbeReport> {
        let config = self.get_oidc(actor, id).await?;
        let issuer = IssuerUrl::parse(&config.issuer).map_err(|m| Error::invalid("issuer", m))?;
        let fetcher = self.fetcher.as_deref().ok_or_else(|| {
            Error::Unavailable(
                "this portal was opened without network access, so it cannot test a connection"
                    .into(),
            )
        })?;
        Ok(probe::probe(fetcher, &issuer).await)
    }

    async fn create_oidc(
        &self,
        actor: &Actor,
        new: NewOidc,
        idem: Option<&str>,
    ) -> Result<OidcConfig> {
        self.authorize(actor, Permission::ManageOidc, None)?;
        let mut v = Validator::new();
        let issuer = v.check("issuer", IssuerUrl::parse(&new.issuer));
        let client_id = v.check("client_id", ClientId::parse(&new.client_id));
        let redirect = v.check("redirect_uri", RedirectUri::parse(&new.redirect_uri));
        check_secret_field(&mut v, &new.client_secret);
        v.finish()?;
        let (issuer, client_id, redirect) = match (issuer, client_id, redirect) {
            (Some(a), Some(b), Some(c)) => (a, b, c),
            _ => return Err(Error::Internal("validated input missing".into())),
        };
        let id = Uuid::new_v4();
        let sealed = match &new.client_secret {
            Some(s) => Some(
                self.seal_current(binding(&id.to_string()), s.expose().as_bytes())
                    .await?,
            ),
            None => None,
        };
        let now = self.now();
        // The request fingerprint for idempotency: every field but the secret's value.
        let request = json(&(
            issuer.as_str(),
            client_id.as_str(),
            redirect.as_str(),
            new.enabled,
            new.client_secret.is_some(),
        ));
        let issuer_text = issuer.to_string();
        self.write_idempotent(actor, "oidc.create", idem, &request, |mut tx| async move {
            let rec = OidcRecord {
                id,
                issuer: issuer.to_string(),
                client_id: client_id.to_string(),
                redirect_uri: redirect.to_string(),
                enabled: new.enabled,
                client_secret_sealed: sealed,
                created_at: now,
                updated_at: now,
            };
            tx.insert_oidc(&rec)
                .await
                .map_err(issuer_taken(&issuer_text))?;
            let view = rec.view();
            let audit =
                AuditDraft::change(ENTITY, &id.to_string(), "create", None, Some(&json(&view)));
            Ok((tx, view, Some(AuditBatch::one(audit))))
        })
        .await
    }

    async fn update_oidc(&self, actor: &Actor, id: &str, ch: OidcChanges) -> Result<OidcConfig> {
        self.authorize(actor, Permission::ManageOidc, None)?;
        let id = parse_id("id", id)?;
        let mut v = Validator::new();
        let issuer = ch
            .issuer
            .as_deref()
            .and_then(|s| v.check("issuer", IssuerUrl::parse(s)));
        let client_id = ch
            .client_id
            .as_deref()
            .and_then(|s| v.check("client_id", ClientId::parse(s)));
        let redirect = ch
            .redirect_uri
            .as_deref()
            .and_then(|s| v.check("redirect_uri", RedirectUri::parse(s)));
        check_secret_field(&mut v, &ch.client_secret);
        if ch.clear_client_secret && ch.client_secret.is_some() {
            v.push("client_secret", "give a new secret or clear it, not both");
        }
        v.finish()?;
        let sealed = match &ch.client_secret {
            Some(s) => Some(
                self.seal_current(binding(&id.to_string()), s.expose().as_bytes())
                    .await?,
            ),
            None => None,
        };
        let secret_changes = sealed.is_some() || ch.clear_client_secret;
        let now = self.now();
        self.write(actor, |mut tx| async move {
            let mut rec = tx
                .oidc_for_update(id)
                .await
                .map_err(store_err)?
                .ok_or_else(|| not_found(id))?;
            let before = json(&rec.view());
            if let Some(i) = issuer {
                rec.issuer = i.to_string();
            }
            if let Some(c) = client_id {
                rec.client_id = c.to_string();
            }
            if let Some(r) = redirect {
                rec.redirect_uri = r.to_string();
            }
            if let Some(s) = sealed {
                rec.client_secret_sealed = Some(s);
            } else if ch.clear_client_secret {
                rec.client_secret_sealed = None;
            }
            rec.updated_at = now;
            let issuer_text = rec.issuer.clone();
            tx.update_oidc(&rec)
                .await
                .map_err(issuer_taken(&issuer_text))?;
            let view = rec.view();
            let mut audit = AuditDraft::change(
                ENTITY,
                &id.to_string(),
                "update",
                Some(&before),
                Some(&json(&view)),
            );
            if secret_changes {
                mark_secret_changed(&mut audit);
            }
            Ok((tx, view, Some(AuditBatch::one(audit))))
        })
        .await
    }

    async fn set_oidc_enabled(&self, actor: &Actor, id: &str, enabled: bool) -> Result<OidcConfig> {
        self.authorize(actor, Permission::ManageOidc, None)?;
        let id = parse_id("id", id)?;
        let now = self.now();
        self.write(actor, |mut tx| async move {
            let mut rec = tx
                .oidc_for_update(id)
                .await
                .map_err(store_err)?
                .ok_or_else(|| not_found(id))?;
            if rec.enabled == enabled {
                return Ok((tx, rec.view(), None));
            }
            let before = json(&rec.view());
            rec.enabled = enabled;
            rec.updated_at = now;
            let issuer = rec.issuer.clone();
            tx.update_oidc(&rec).await.map_err(issuer_taken(&issuer))?;
            let view = rec.view();
            let action = if enabled { "enable" } else { "disable" };
            let audit = AuditDraft::change(
                ENTITY,
                &id.to_string(),
                action,
                Some(&before),
                Some(&json(&view)),
            );
            Ok((tx, view, Some(AuditBatch::one(audit))))
        })
        .await
    }

    async fn delete_oidc(&self, actor: &Actor, id: &str) -> Result<()> {
        self.authorize(actor, Permission::ManageOidc, None)?;
        let id = parse_id("id", id)?;
        self.write(actor, |mut tx| async move {
            let rec = tx
                .oidc_for_update(id)
                .await
                .map_err(store_err)?
                .ok_or_else(|| not_found(id))?;
            tx.delete_oidc(id).await.map_err(store_err)?;
            let audit = AuditDraft::change(
                ENTITY,
                &id.to_string(),
                "delete",
                Some(&json(&rec.view())),
                None,
            );
            Ok((tx, (), Some(AuditBatch::one(audit))))
        })
        .await
    }
}
