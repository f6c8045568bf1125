//! `impl Clients for LocalPortal`: the tenant organisations of the portal.

use super::{Clients, NewClient};
use crate::local::{json, page_limit, parse_id, store_err, LocalPortal};
use async_trait::async_trait;
use domain::audit::AuditDraft;
use domain::error::{Error, Result, Validator};
use domain::model::{Client, ClientFilter, Page, SEARCH_MAX};
use domain::validate::Name;
use domain::{Actor, Permission, Role};
use store::AuditBatch;
use uuid::Uuid;

const ENTITY: &str = "client";
pub use domain::model::{CLIENT_STATUSES as STATUSES, PLANS};

fn not_found(id: Uuid) -> Error {
    Error::NotFound(format!("no client {id} exists"))
}

fn one_of(field: &str, value: &str, allowed: &[&str]) -> Result<String, String> {
    let v = value.trim().to_ascii_lowercase();
    if allowed.contains(&v.as_str()) {
        Ok(v)
    } else {
        Err(format!(
            "`{}` is not a {field}: use one of {}",
            value.trim(),
            allowed.join(", ")
        ))
    }
}

#[async_trait]
impl Clients for LocalPortal {
    async fn list_clients(&self, actor: &Actor, filter: ClientFilter) -> Result<Page<Client>> {
        let limit = page_limit(filter.limit)?;
        if filter
            .search
            .as_ref()
            .is_some_and(|s| s.chars().count() > SEARCH_MAX)
        {
            return Err(Error::invalid(
                "search",
                format!("must be at most {SEARCH_MAX} characters"),
            ));
        }
        if let Some(Err(m)) = filter.search.as_deref().map(domain::validate::check_text) {
            return Err(Error::invalid("search", m));
        }
        // A client-role user sees only its own organisation.
        if let Role::Client(own) = actor.role {
            self.authorize(actor, Permission::ReadClients, Some(own))?;
            let mine = self.store.client(own).await.map_err(store_err)?;
            let needle = filter.search.as_deref().unwrap_or("").to_lowercase();
            let items = mine
                .into_iter()
                .filter(|c| c.name.to_lowercase().contains(&needle))
                .collect();
            return Ok(Page {
                items,
                next_cursor: None,
            });
        }
        self.authorize(actor, Permission::ReadClients, None)?;
        self.store.clients(&filter, limit).await.map_err(store_err)
    }

    async fn get_client(&self, actor: &Actor, id: &str) -> Result<Client> {
        let id = parse_id("id", id)?;
        // Another tenant's organisation reads as "not found", never as "forbidden".
        if !actor.role.allows(Permission::ReadClients, Some(id)) {
            if matches!(actor.role, Role::Client(_)) {
                return Err(not_found(id));
            }
            self.authorize(actor, Permission::ReadClients, Some(id))?;
        }
        self.store
            .client(id)
            .await
            .map_err(store_err)?
            .ok_or_else(|| not_found(id))
    }

    async fn create_client(
        &self,
        actor: &Actor,
        new: NewClient,
        idem: Option<&str>,
    ) -> Result<Client> {
        self.authorize(actor, Permission::ManageClients, None)?;
        let mut v = Validator::new();
        let name = v.check("name", Name::parse(&new.name));
        let plan = v.check("plan", one_of("plan", &new.plan, PLANS));
        let status = v.check("status", one_of("status", &new.status, STATUSES));
        v.finish()?;
        let (name, plan, status) = match (name, plan, status) {
            (Some(a), Some(b), Some(c)) => (a, b, c),
            _ => return Err(Error::Internal("validated input missing".into())),
        };
        let now = self.now();
        self.write_idempotent(actor, "clients.create", idem, &new, |mut tx| async move {
            let c = Client {
                id: Uuid::new_v4(),
                name: name.to_string(),
                plan,
                status,
                created_at: now,
            };
            tx.insert_client(&c).await.map_err(store_err)?;
            let audit =
                AuditDraft::change(ENTITY, &c.id.to_string(), "create", None, Some(&json(&c)));
            Ok((tx, c, Some(AuditBatch::one(audit))))
        })
        .await
    }

    async fn rename_client(&self, actor: &Actor, id: &str, name: &str) -> Result<Client> {
        self.authorize(actor, Permission::ManageClients, None)?;
        let mut v = Validator::new();
        let id = v.check("id", domain::validate::parse_uuid(id));
        let name = v.check("name", Name::parse(name));
        v.finish()?;
        let (id, name) = id
            .zip(name)
            .ok_or_else(|| Error::Internal("validated input missing".into()))?;
        self.write(actor, |mut tx| async move {
            let mut c = tx
                .client_for_update(id)
                .await
                .map_err(store_err)?
                .ok_or_else(|| not_found(id))?;
            if c.name == name.as_str() {
                return Ok((tx, c, None));
            }
            let before = json(&c);
            c.name = name.to_string();
            tx.update_client(&c).await.map_err(store_err)?;
            let audit = AuditDraft::change(
                ENTITY,
                &id.to_string(),
                "rename",
                Some(&before),
                Some(&json(&c)),
            );
            Ok((tx, c, Some(AuditBatch::one(audit))))
        })
        .await
    }
}
