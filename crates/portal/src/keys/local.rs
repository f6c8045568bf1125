//! `impl Keys for LocalPortal`: create, list, revoke, rotate with an overlap, verify.

use super::{Keys, NewKey};
use crate::local::{json, page_limit, store_err, LocalPortal};
use async_trait::async_trait;
use domain::audit::AuditDraft;
use domain::error::{Error, Result, Validator};
use domain::key::{FullKey, KeyId};
use domain::model::{
    parse_duration_secs, CreatedKey, FederationKey, KeyFilter, KeyRecord, KeyStatus, Overlap, Page,
    Rotation, Verified,
};
use domain::validate::Name;
use domain::{Actor, Permission, Sensitive, Timestamp};
use serde::{Deserialize, Serialize};
use store::{AuditBatch, KeyQuery};

const ENTITY: &str = "federation_key";
/// The longest lifetime a key may be created with.
use domain::model::{
    KEY_FILTER_DAYS_MAX, KEY_LIFETIME_MAX_SECS as MAX_LIFETIME_SECS, REVOKE_MAX, SEARCH_MAX,
};
/// At most one `last_used_at` write per key per this many milliseconds.
const TOUCH_INTERVAL_MS: i64 = 60_000;

/// Usage of one key not yet written to the store.
#[derive(Debug)]
pub(crate) struct Usage {
    flushed_at: Option<Timestamp>,
    pending: u64,
}

/// A one-time key as kept for idempotent replay (sealed at rest).
#[derive(Serialize, Deserialize)]
pub(crate) struct StoredKey {
    key: FederationKey,
    full_key: String,
}

impl From<StoredKey> for CreatedKey {
    fn from(s: StoredKey) -> Self {
        CreatedKey {
            key: s.key,
            full_key: Sensitive::new(s.full_key),
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredRotation {
    old: FederationKey,
    successor: StoredKey,
}

pub(crate) fn parse_key_id(s: &str) -> Result<KeyId> {
    KeyId::parse(s).map_err(|m| Error::invalid("id", m))
}

fn not_found(id: &KeyId) -> Error {
    Error::NotFound(format!("no federation key {} exists", id.display_prefix()))
}

#[async_trait]
impl Keys for LocalPortal {
    async fn create_key(
        &self,
        actor: &Actor,
        new: NewKey,
        idem: Option<&str>,
    ) -> Result<CreatedKey> {
        self.authorize(actor, Permission::ManageKeys, None)?;
        let mut v = Validator::new();
        let name = v.check("name", Name::parse(&new.name));
        let lifetime = match new.expires_in.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => v.check(
                "expires_in",
                parse_duration_secs(s)
                    .filter(|secs| *secs <= MAX_LIFETIME_SECS)
                    .ok_or_else(|| format!("`{s}` is not a lifetime: use e.g. 30d, 90d or 12h (at most 5 years)"))
                    .map(Some),
            )
            .flatten(),
        };
        v.finish()?;
        let name = name.ok_or_else(|| Error::Internal("validated name missing".into()))?;
        let (key, hash) = self.mint().await?;
        let now = self.now();
        let stored: StoredKey = self
            .write_idempotent(actor, "keys.create", idem, &new, |mut tx| async move {
                let rec = KeyRecord {
                    id: key.id().clone(),
                    name: name.to_string(),
                    hashed_key: hash,
                    created_at: now,
                    created_by: actor.name.clone(),
                    expires_at: lifetime.map(|s| now.plus_secs(s)),
                    revoked_at: None,
                    last_used_at: None,
                    last_used_ip: None,
                    rotated_from: None,
                    rotated_to: None,
                };
                tx.insert_key(&rec).await.map_err(store_err)?;
                let view = rec.view(now);
                let audit =
                    AuditDraft::change(ENTITY, rec.id.as_str(), "create", None, Some(&json(&view)));
                let stored = StoredKey {
                    key: view,
                    full_key: key.expose().to_string(),
                };
                Ok((tx, stored, Some(AuditBatch::one(audit))))
            })
            .await?;
        self.key_state
            .known_keys
            .lock()
            .await
            .insert(stored.key.id.clone());
        Ok(stored.into())
    }

    async fn list_keys(&self, actor: &Actor, filter: KeyFilter) -> Result<Page<FederationKey>> {
        self.authorize(actor, Permission::ReadKeys, None)?;
        let limit = page_limit(filter.limit)?;
        let mut v = Validator::new();
        let days = 1..=KEY_FILTER_DAYS_MAX;
        for (field, value) in [
            ("expiring_within_days", filter.expiring_within_days),
            ("unused_for_days", filter.unused_for_days),
        ] {
            if value.is_some_and(|d| !days.contains(&d)) {
                v.push(
                    field,
                    format!("must be between 1 and {KEY_FILTER_DAYS_MAX}"),
                );
            }
        }
        if filter
            .search
            .as_ref()
            .is_some_and(|s| s.chars().count() > SEARCH_MAX)
        {
            v.push("search", format!("must be at most {SEARCH_MAX} characters"));
        }
        if let Some(Err(m)) = filter.search.as_deref().map(domain::validate::check_text) {
            v.push("search", m);
        }
        v.finish()?;
        let now = self.now();
        let page = self
            .store
            .keys(&KeyQuery { filter, now, limit })
            .await
            .map_err(store_err)?;
        Ok(Page {
            items: page.items.iter().map(|k| k.view(now)).collect(),
            next_cursor: page.next_cursor,
        })
    }

    async fn get_key(&self, actor: &Actor, id: &str) -> Result<FederationKey> {
        self.authorize(actor, Permission::ReadKeys, None)?;
        let id = parse_key_id(id)?;
        let rec = self
            .store
            .key(&id)
            .await
            .map_err(store_err)?
            .ok_or_else(|| not_found(&id))?;
        Ok(rec.view(self.now()))
    }

    async fn revoke_keys(
        &self,
        actor: &Actor,
        ids: &[String],
        idem: Option<&str>,
    ) -> Result<Vec<FederationKey>> {
        self.authorize(actor, Permission::ManageKeys, None)?;
        if ids.is_empty() {
            return Err(Error::invalid("ids", "name at least one key to revoke"));
        }
        if ids.len() > REVOKE_MAX {
            return Err(Error::invalid(
                "ids",
                format!("at most {REVOKE_MAX} keys per request"),
            ));
        }
        let mut v = Validator::new();
        let mut parsed: Vec<KeyId> = Vec::new();
        for (i, s) in ids.iter().enumerate() {
            if let Some(id) = v.check(&format!("ids[{i}]"), KeyId::parse(s)) {
                if !parsed.contains(&id) {
                    parsed.push(id);
                }
            }
        }
        v.finish()?;
        let now = self.now();
        let request = json(&parsed.iter().map(KeyId::as_str).collect::<Vec<_>>());
        let views: Vec<FederationKey> = self
            .write_idempotent(actor, "keys.revoke", idem, &request, |mut tx| async move {
                let mut views = Vec::new();
                let mut drafts = Vec::new();
                for id in &parsed {
                    let mut rec = tx
                        .key_for_update(id)
                        .await
                        .map_err(store_err)?
                        .ok_or_else(|| not_found(id))?;
                    if rec.revoked_at.is_none() {
                        let before = json(&rec.view(now));
                        rec.revoked_at = Some(now);
                        tx.update_key(&rec).await.map_err(store_err)?;
                        drafts.push(AuditDraft::change(
                            ENTITY,
                            id.as_str(),
                            "revoke",
                            Some(&before),
                            Some(&json(&rec.view(now))),
                        ));
                    }
                    views.push(rec.view(now));
                }
                Ok((tx, views, AuditBatch::from_vec(drafts)))
            })
            .await?;
        for k in &views {
            self.key_changed(&k.id);
        }
        Ok(views)
    }

    async fn rotate_key(
        &self,
        actor: &Actor,
        id: &str,
        overlap: &str,
        idem: Option<&str>,
    ) -> Result<Rotation> {
        self.authorize(actor, Permission::ManageKeys, None)?;
        let mut v = Validator::new();
        let id = v.check("id", KeyId::parse(id));
        let overlap = v.check("overlap", Overlap::parse(overlap));
        v.finish()?;
        let (id, overlap) = id
            .zip(overlap)
            .ok_or_else(|| Error::Internal("validated input missing".into()))?;
        let (key, hash) = self.mint().await?;
        let now = self.now();
        let request = json(&(id.as_str(), overlap));
        let stored: StoredRotation = self
            .write_idempotent(actor, "keys.rotate", idem, &request, |mut tx| async move {
                let mut old = tx
                    .key_for_update(&id)
                    .await
                    .map_err(store_err)?
                    .ok_or_else(|| not_found(&id))?;
                match old.status(now) {
                    KeyStatus::Active => {}
                    KeyStatus::Revoked => {
                        return Err(Error::conflict(format!(
                            "{} is revoked: create a new key instead of rotating it",
                            id.display_prefix()
                        )))
                    }
                    KeyStatus::Expired => {
                        return Err(Error::conflict(format!(
                            "{} has expired: create a new key instead of rotating it",
                            id.display_prefix()
                        )))
                    }
                }
                if let Some(next) = &old.rotated_to {
                    return Err(Error::conflict(format!(
                        "{} was already rotated to {}: rotate that key instead",
                        id.display_prefix(),
                        next.display_prefix()
                    )));
                }
                let before = json(&old.view(now));
                let grace_end = now.plus_secs(overlap.secs());
                let lifetime = old.expires_at.map(|e| e.millis() - old.created_at.millis());
                old.expires_at = Some(old.expires_at.map_or(grace_end, |e| e.min(grace_end)));
                old.rotated_to = Some(key.id().clone());
                let successor = KeyRecord {
                    id: key.id().clone(),
                    name: old.name.clone(),
                    hashed_key: hash,
                    created_at: now,
                    created_by: actor.name.clone(),
                    expires_at: lifetime.map(|ms| Timestamp::from_millis(now.millis() + ms)),
                    revoked_at: None,
                    last_used_at: None,
                    last_used_ip: None,
                    rotated_from: Some(old.id.clone()),
                    rotated_to: None,
                };
                tx.update_key(&old).await.map_err(store_err)?;
                tx.insert_key(&successor).await.map_err(store_err)?;
                let old_view = old.view(now);
                let new_view = successor.view(now);
                let audit = AuditBatch::many(
                    AuditDraft::change(
                        ENTITY,
                        old.id.as_str(),
                        "rotate",
                        Some(&before),
                        Some(&json(&old_view)),
                    ),
                    vec![AuditDraft::change(
                        ENTITY,
                        successor.id.as_str(),
                        "create",
                        None,
                        Some(&json(&new_view)),
                    )],
                );
                let stored = StoredRotation {
                    old: old_view,
                    successor: StoredKey {
                        key: new_view,
                        full_key: key.expose().to_string(),
                    },
                };
                Ok((tx, stored, Some(audit)))
            })
            .await?;
        self.key_changed(&stored.old.id);
        self.key_state
            .known_keys
            .lock()
            .await
            .insert(stored.successor.key.id.clone());
        Ok(Rotation {
            old: stored.old,
            successor: stored.successor.into(),
        })
    }

    async fn end_overlap(&self, actor: &Actor, id: &str) -> Result<FederationKey> {
        self.authorize(actor, Permission::ManageKeys, None)?;
        let id = parse_key_id(id)?;
        let now = self.now();
        let view = self
            .write(actor, |mut tx| async move {
                let mut rec = tx
                    .key_for_update(&id)
                    .await
                    .map_err(store_err)?
                    .ok_or_else(|| not_found(&id))?;
                if rec.rotated_to.is_none() {
                    return Err(Error::conflict(format!(
                        "{} has not been rotated: there is no overlap to end",
                        id.display_prefix()
                    )));
                }
                if rec.status(now) != KeyStatus::Active {
                    return Ok((tx, rec.view(now), None));
                }
                let before = json(&rec.view(now));
                rec.expires_at = Some(now);
                tx.update_key(&rec).await.map_err(store_err)?;
                let view = rec.view(now);
                let audit = AuditDraft::change(
                    ENTITY,
                    id.as_str(),
                    "end_overlap",
                    Some(&before),
                    Some(&json(&view)),
                );
                Ok((tx, view, Some(AuditBatch::one(audit))))
            })
            .await?;
        self.key_changed(&view.id);
        Ok(view)
    }

    async fn verify_key(&self, actor: &Actor, presented: &str) -> Result<Verified> {
        self.authorize(actor, Permission::VerifyKeys, None)?;
        let key = FullKey::parse(presented).map_err(|e| Error::invalid("key", e.to_string()))?;
        let now = self.now();
        let digest = key.fast_digest();
        if let Some(hit) = self.key_state.cache.get(&digest, now) {
            self.touch(&hit.key_id, now, actor.ip.as_deref()).await;
            return Ok(Verified {
                key_id: hit.key_id,
                name: hit.name,
                expires_at: hit.expires_at,
            });
        }
        let rejected = || Error::Unauthenticated("this federation key is not valid".into());
        let known = self
            .key_state
            .known_keys
            .lock()
            .await
            .contains(self.store.as_ref(), key.id(), now)
            .await
            .map_err(store_err)?;
        if !known {
            return Err(rejected());
        }
        // Read before the record: if the key is invalidated (revoked, rotated, changed by another
        // process) while this verification runs, what it read may be stale, and it is not cached.
        let generation = self.key_state.cache.generation();
        let rec = self
            .store
            .key(key.id())
            .await
            .map_err(store_err)?
            .ok_or_else(rejected)?;
        #[cfg(test)]
        self.key_state.pause_after_read().await;
        // Every failure on a known id — wrong secret, revoked, expired — gets the same answer
        // after the same work: the stored hash is checked whatever the key's state, so the answer
        // tells nothing about that state to someone who does not hold the secret.
        let active = rec.status(now) == KeyStatus::Active;
        // At most one argon2id per core at a time (each takes 19 MiB): a burst of cold
        // verifications waits in a bounded queue instead of exhausting memory (or answers busy),
        // and the many requests of a client presenting the same key wait for the first one,
        // then hit the cache.
        let permit = self.key_state.hashing.for_verification().await?;
        // Looked up for every state (the same work), used only for an active key.
        if let Some(hit) = self.key_state.cache.get(&digest, now).filter(|_| active) {
            self.touch(&hit.key_id, now, actor.ip.as_deref()).await;
            return Ok(Verified {
                key_id: hit.key_id,
                name: hit.name,
                expires_at: hit.expires_at,
            });
        }
        let phc = rec.hashed_key.clone();
        let ok = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            key.verify(&phc)
        })
        .await
        .map_err(|e| Error::Internal(format!("verification failed: {e}")))?;
        if !(ok && active) {
            return Err(rejected());
        }
        self.key_state.cache.insert(
            generation,
            digest,
            rec.id.clone(),
            rec.name.clone(),
            rec.expires_at,
            now,
        );
        self.touch(&rec.id, now, actor.ip.as_deref()).await;
        Ok(Verified {
            key_id: rec.id,
            name: rec.name,
            expires_at: rec.expires_at,
        })
    }
}

impl LocalPortal {
    /// Mints a key and its hash; hashing runs off the async threads.
    async fn mint(&self) -> Result<(FullKey, String)> {
        let permit = self.key_state.hashing.for_minting().await?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let key = FullKey::generate(&mut rand::rngs::OsRng);
            let hash = key.hash(&mut rand::rngs::OsRng).map_err(Error::Internal)?;
            Ok((key, hash))
        })
        .await
        .map_err(|e| Error::Internal(format!("key generation failed: {e}")))?
    }

    /// Records usage at most once a minute per key. A failure here never fails a verification.
    async fn touch(&self, id: &KeyId, now: Timestamp, ip: Option<&str>) {
        // Count every verification; write (last use + the count so far) at most once a minute.
        let flush = match self.key_state.touched.lock() {
            Ok(mut t) => {
                let entry = t.entry(id.clone()).or_insert(Usage {
                    flushed_at: None,
                    pending: 0,
                });
                entry.pending += 1;
                let due = entry
                    .flushed_at
                    .is_none_or(|last| now.millis() - last.millis() >= TOUCH_INTERVAL_MS);
                if due {
                    entry.flushed_at = Some(now);
                    Some(std::mem::take(&mut entry.pending))
                } else {
                    None
                }
            }
            Err(_) => None,
        };
        if let Some(count) = flush {
            if let Err(e) = self.store.touch_key(id, now, ip, count).await {
                tracing::warn!(key = %id, error = %e, "recording key usage failed");
            }
        }
    }
}

#[cfg(test)]
#[path = "local_tests.rs"]
mod tests;
