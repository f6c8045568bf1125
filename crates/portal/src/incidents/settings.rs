//! SLA targets and escalation policies, for `LocalPortal`: providers edit them; every edit is
//! validated whole (field errors naming the step) and audited.

use crate::local::{json, store_err, LocalPortal};
use domain::audit::AuditDraft;
use domain::error::{Error, Result};
use domain::incident;
use domain::model::{EscalationPolicy, PolicyInput, SlaTarget};
use domain::{Actor, Permission};
use store::AuditBatch;
use uuid::Uuid;

const POLICY: &str = "escalation_policy";

fn policy_not_found(id: Uuid) -> Error {
    Error::NotFound(format!("no escalation policy {id} exists"))
}

impl LocalPortal {
    pub(super) async fn save_targets(
        &self,
        actor: &Actor,
        targets: Vec<SlaTarget>,
    ) -> Result<Vec<SlaTarget>> {
        self.authorize(actor, Permission::ManageSla, None)?;
        if targets.is_empty() {
            return Err(Error::invalid(
                "targets",
                "give at least one severity's target",
            ));
        }
        incident::validate_targets(&targets)?;
        let before = self.all_targets().await?;
        let now = self.now();
        self.write(actor, |mut tx| async move {
            tx.put_sla_targets(&targets, now).await.map_err(store_err)?;
            let mut after = before.clone();
            for t in &targets {
                if let Some(slot) = after.iter_mut().find(|a| a.severity == t.severity) {
                    *slot = t.clone();
                }
            }
            if after == before {
                return Ok((tx, (), None));
            }
            let audit = AuditDraft::change(
                "sla_targets",
                "all",
                "update",
                Some(&serde_json::json!({ "targets": before })),
                Some(&serde_json::json!({ "targets": after })),
            );
            Ok((tx, (), Some(AuditBatch::one(audit))))
        })
        .await?;
        self.all_targets().await
    }

    /// Creates (`id` none) or replaces a policy.
    pub(super) async fn save_policy(
        &self,
        actor: &Actor,
        id: Option<Uuid>,
        input: PolicyInput,
    ) -> Result<EscalationPolicy> {
        self.authorize(actor, Permission::ManageSla, None)?;
        let policy = EscalationPolicy {
            id: id.unwrap_or_else(Uuid::now_v7),
            name: input.name.trim().to_string(),
            rules: input.rules,
            org_id: input.org_id,
        };
        incident::validate_policy(&policy)?;
        if let Some(org) = policy.org_id {
            if self.store.client(org).await.map_err(store_err)?.is_none() {
                return Err(Error::invalid(
                    "org_id",
                    format!("no client organisation {org} exists"),
                ));
            }
        }
        let clash = self
            .store
            .escalation_policies()
            .await
            .map_err(store_err)?
            .into_iter()
            .find(|p| p.org_id == policy.org_id && p.id != policy.id);
        if let Some(other) = clash {
            let whose = match policy.org_id {
                None => "the default policy".to_string(),
                Some(org) => format!("organisation {org}'s policy"),
            };
            return Err(Error::conflict(format!(
                "“{}” is already {whose}: edit it instead, or give this one another organisation",
                other.name
            )));
        }
        let now = self.now();
        let saved = policy.clone();
        self.write(actor, |mut tx| async move {
            let before = match id {
                Some(id) => Some(
                    tx.escalation_policy_for_update(id)
                        .await
                        .map_err(store_err)?
                        .ok_or_else(|| policy_not_found(id))?,
                ),
                None => None,
            };
            if before.as_ref() == Some(&policy) {
                return Ok((tx, (), None));
            }
            tx.put_escalation_policy(&policy, now)
                .await
                .map_err(store_err)?;
            let audit = AuditDraft::change(
                POLICY,
                &policy.id.to_string(),
                if before.is_some() { "update" } else { "create" },
                before.as_ref().map(json).as_ref(),
                Some(&json(&policy)),
            );
            Ok((tx, (), Some(AuditBatch::one(audit))))
        })
        .await?;
        Ok(saved)
    }

    pub(super) async fn remove_policy(&self, actor: &Actor, id: Uuid) -> Result<()> {
        self.authorize(actor, Permission::ManageSla, None)?;
        self.write(actor, |mut tx| async move {
            let before = tx
                .escalation_policy_for_update(id)
                .await
                .map_err(store_err)?
                .ok_or_else(|| policy_not_found(id))?;
            tx.delete_escalation_policy(id).await.map_err(store_err)?;
            let audit = AuditDraft::change(
                POLICY,
                &id.to_string(),
                "delete",
                Some(&json(&before)),
                None,
            );
            Ok((tx, (), Some(AuditBatch::one(audit))))
        })
        .await
    }
}
