//! `impl Integrations for LocalPortal`: their configuration JSON is sealed; reads show its field names only.

use super::{IntegrationChanges, Integrations, NewIntegration};
use crate::local::{json, parse_id, store_err, LocalPortal};
use async_trait::async_trait;
use domain::audit::{AuditDraft, REDACTED};
use domain::envelope::Binding;
use domain::error::{Error, Result, Validator};
use domain::model::{parse_integration_type, Integration, IntegrationRecord, IntegrationStatus};
use domain::validate::Name;
use domain::{Actor, Permission, Sensitive};
use serde_json::Value;
use store::AuditBatch;
use uuid::Uuid;

const ENTITY: &str = "integration";
use domain::model::{CONFIG_MAX_BYTES, SYNC_ERROR_MAX};

fn binding(id: &str) -> Binding<'_> {
    Binding {
        table: "integrations",
        column: "config",
        row_id: id,
    }
}

fn not_found(id: Uuid) -> Error {
    Error::NotFound(format!("no integration {id} exists"))
}

/// Checks a configuration and returns its serialised form and top-level field names.
fn check_config(
    v: &mut Validator,
    config: &Sensitive<Value>,
) -> Option<(Sensitive<Vec<u8>>, Vec<String>)> {
    let Value::Object(map) = config.expose() else {
        v.push("config", "must be a JSON object, e.g. {\"api_key\": \"…\"}");
        return None;
    };
    let bytes = serde_json::to_vec(config.expose()).unwrap_or_default();
    if bytes.len() > CONFIG_MAX_BYTES {
        v.push(
            "config",
            format!("must be at most {} KiB", CONFIG_MAX_BYTES / 1024),
        );
        return None;
    }
    let mut fields: Vec<String> = map.keys().cloned().collect();
    fields.sort();
    Some((Sensitive::new(bytes), fields))
}

fn mark_config_changed(d: &mut AuditDraft) {
    for side in [&mut d.before, &mut d.after] {
        if let Some(Value::Object(m)) = side {
            m.insert("config".into(), Value::String(REDACTED.into()));
        }
    }
}

#[async_trait]
impl Integrations for LocalPortal {
    async fn list_integrations(&self, actor: &Actor) -> Result<Vec<Integration>> {
        self.authorize(actor, Permission::ReadIntegrations, None)?;
        let all = self.store.integrations().await.map_err(store_err)?;
        Ok(all.iter().map(IntegrationRecord::view).collect())
    }

    async fn get_integration(&self, actor: &Actor, id: &str) -> Result<Integration> {
        self.authorize(actor, Permission::ReadIntegrations, None)?;
        let id = parse_id("id", id)?;
        let rec = self
            .store
            .integration(id)
            .await
            .map_err(store_err)?
            .ok_or_else(|| not_found(id))?;
        Ok(rec.view())
    }

    async fn create_integration(
        &self,
        actor: &Actor,
        new: NewIntegration,
        idem: Option<&str>,
    ) -> Result<Integration> {
        self.authorize(actor, Permission::ManageIntegrations, None)?;
        let mut v = Validator::new();
        let name = v.check("name", Name::parse(&new.name));
        let kind = v.check("type", parse_integration_type(&new.kind));
        let config = check_config(&mut v, &new.config);
        v.finish()?;
        let (name, kind, (bytes, fields)) = match (name, kind, config) {
            (Some(a), Some(b), Some(c)) => (a, b, c),
            _ => return Err(Error::Internal("validated input missing".into())),
        };
        let id = Uuid::new_v4();
        let sealed = self
            .seal_current(binding(&id.to_string()), bytes.expose())
            .await?;
        let now = self.now();
        let request = json(&(
            name.as_str(),
            kind.as_str(),
            &fields,
            crate::idempotency::hex_sha256(&String::from_utf8_lossy(bytes.expose())),
        ));
        self.write_idempotent(
            actor,
            "integrations.create",
            idem,
            &request,
            |mut tx| async move {
                let rec = IntegrationRecord {
                    id,
                    name: name.to_string(),
                    kind,
                    status: IntegrationStatus::Active,
                    config_sealed: sealed,
                    config_fields: fields,
                    created_at: now,
                    updated_at: now,
                    last_sync_at: None,
                    last_error: None,
                };
                tx.insert_integration(&rec).await.map_err(store_err)?;
                let view = rec.view();
                let audit =
                    AuditDraft::change(ENTITY, &id.to_string(), "create", None, Some(&json(&view)));
                Ok((tx, view, Some(AuditBatch::one(audit))))
            },
        )
        .await
    }

    async fn update_integration(
        &self,
        actor: &Actor,
        id: &str,
        ch: IntegrationChanges,
    ) -> Result<Integration> {
        self.authorize(actor, Permission::ManageIntegrations, None)?;
        let id = parse_id("id", id)?;
        let mut v = Validator::new();
        let name = ch
            .name
            .as_deref()
            .and_then(|s| v.check("name", Name::parse(s)));
        let config = ch.config.as_ref().and_then(|c| check_config(&mut v, c));
        v.finish()?;
        let sealed = match &config {
            Some((bytes, fields)) => Some((
                self.seal_current(binding(&id.to_string()), bytes.expose())
                    .await?,
                fields.clone(),
            )),
            None => None,
        };
        let now = self.now();
        self.write(actor, |mut tx| async move {
            let mut rec = tx
                .integration_for_update(id)
                .await
                .map_err(store_err)?
                .ok_or_else(|| not_found(id))?;
            let before = json(&rec.view());
            if let Some(n) = name {
                rec.name = n.to_string();
            }
            let config_changed = sealed.is_some();
            if let Some((s, fields)) = sealed {
                rec.config_sealed = s;
                rec.config_fields = fields;
            }
            rec.updated_at = now;
            tx.update_integration(&rec).await.map_err(store_err)?;
            let view = rec.view();
            let mut audit = AuditDraft::change(
                ENTITY,
                &id.to_string(),
                "update",
                Some(&before),
                Some(&json(&view)),
            );
            if config_changed {
                mark_config_changed(&mut audit);
            }
            Ok((tx, view, Some(AuditBatch::one(audit))))
        })
        .await
    }

    async fn set_integration_paused(
        &self,
        actor: &Actor,
        id: &str,
        paused: bool,
    ) -> Result<Integration> {
        let action = if paused { "pause" } else { "resume" };
        self.transition(actor, id, action, None, move |rec| {
            let target = if paused {
                IntegrationStatus::Paused
            } else {
                IntegrationStatus::Active
            };
            if rec.status == target {
                return Ok(false);
            }
            if !paused {
                rec.last_error = None;
            }
            rec.status = target;
            Ok(true)
        })
        .await
    }

    async fn record_integration_sync(
        &self,
        actor: &Actor,
        id: &str,
        error: Option<String>,
        idem: Option<&str>,
    ) -> Result<Integration> {
        if let Some(Err(m)) = error.as_deref().map(domain::validate::check_text) {
            return Err(Error::invalid("error", m));
        }
        if error
            .as_ref()
            .is_some_and(|e| e.chars().count() > SYNC_ERROR_MAX)
        {
            return Err(Error::invalid(
                "error",
                format!("must be at most {SYNC_ERROR_MAX} characters"),
            ));
        }
        let now = self.now();
        let request = serde_json::json!({ "error": error });
        self.transition(actor, id, "sync", idem.map(|k| (k, request)), move |rec| {
            if rec.status == IntegrationStatus::Paused {
                return Err(Error::conflict(
                    "the integration is paused: resume it before syncing",
                ));
            }
            rec.status = if error.is_some() {
                IntegrationStatus::Error
            } else {
                IntegrationStatus::Active
            };
            rec.last_error = error;
            rec.last_sync_at = Some(now);
            Ok(true)
        })
        .await
    }

    async fn delete_integration(&self, actor: &Actor, id: &str) -> Result<()> {
        self.authorize(actor, Permission::ManageIntegrations, None)?;
        let id = parse_id("id", id)?;
        self.write(actor, |mut tx| async move {
            let rec = tx
                .integration_for_update(id)
                .await
                .map_err(store_err)?
                .ok_or_else(|| not_found(id))?;
            tx.delete_integration(id).await.map_err(store_err)?;
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

impl LocalPortal {
    /// Pause, resume, or record a sync outcome: one status transition, audited.
    /// One state change of an integration; with `idem`, a retry replays the first result.
    async fn transition(
        &self,
        actor: &Actor,
        id: &str,
        action: &'static str,
        idem: Option<(&str, serde_json::Value)>,
        apply: impl FnOnce(&mut IntegrationRecord) -> Result<bool> + Send,
    ) -> Result<Integration> {
        self.authorize(actor, Permission::ManageIntegrations, None)?;
        let id = parse_id("id", id)?;
        let now = self.now();
        let operation = format!("integrations.{action}");
        let (key, request) = match idem {
            Some((k, r)) => (Some(k), r),
            None => (None, serde_json::Value::Null),
        };
        let request = serde_json::json!({ "id": id, "request": request });
        self.write_idempotent(actor, &operation, key, &request, |mut tx| async move {
            let mut rec = tx
                .integration_for_update(id)
                .await
                .map_err(store_err)?
                .ok_or_else(|| not_found(id))?;
            let before = json(&rec.view());
            if !apply(&mut rec)? {
                return Ok((tx, rec.view(), None));
            }
            rec.updated_at = now;
            tx.update_integration(&rec).await.map_err(store_err)?;
            let view = rec.view();
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
}
