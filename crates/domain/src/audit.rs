//! The audit event, its field-level diff and its hash chain.
//!
//! Each event carries the hash of its predecessor; the hash covers every field of the event, so
//! editing, deleting or reordering any event breaks the chain at that point.

use crate::actor::{Actor, ActorType};
use crate::clock::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The hash the first event points back to.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Field names whose values never enter the audit trail, whatever entity they belong to.
pub const SECRET_FIELDS: &[&str] = &[
    "client_secret",
    "config",
    "secret",
    "hashed_key",
    "key",
    "full_key",
    "password",
    "token",
];

pub const REDACTED: &str = "<redacted>";

/// What a write says about itself; the store completes it into an [`AuditEvent`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditDraft {
    pub entity_type: String,
    pub entity_id: String,
    pub action: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl AuditDraft {
    /// An event for a change from `before` to `after` (either may be absent: create, delete).
    /// Only the fields that changed are kept, and secret fields are redacted.
    pub fn change(
        entity_type: &str,
        entity_id: &str,
        action: &str,
        before: Option<&Value>,
        after: Option<&Value>,
    ) -> Self {
        let (before, after) = diff(before, after);
        AuditDraft {
            entity_type: entity_type.to_string(),
            entity_id: entity_id.to_string(),
            action: action.to_string(),
            before,
            after,
        }
    }
}

/// One committed, chained audit event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEvent {
    /// Position in the chain (1, 2, 3 … without gaps).
    pub seq: i64,
    pub id: String,
    pub ts: Timestamp,
    pub actor_id: String,
    pub actor_name: String,
    pub actor_type: ActorType,
    pub entity_type: String,
    pub entity_id: String,
    pub action: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub ip: Option<String>,
    pub ua: Option<String>,
    /// The portal API request that made the change (absent for local profiles).
    #[serde(default)]
    pub request_id: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Serialize)]
struct HashInput<'a> {
    seq: i64,
    id: &'a str,
    ts: i64,
    actor_id: &'a str,
    actor_name: &'a str,
    actor_type: &'a str,
    entity_type: &'a str,
    entity_id: &'a str,
    action: &'a str,
    before: &'a Option<Value>,
    after: &'a Option<Value>,
    ip: &'a Option<String>,
    ua: &'a Option<String>,
    // Absent from the hash input when unset, so events chained before this field existed
    // keep their hashes.
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: &'a Option<String>,
    prev_hash: &'a str,
}

impl AuditEvent {
    /// Completes a draft into the next link of the chain.
    pub fn chain(
        draft: AuditDraft,
        actor: &Actor,
        seq: i64,
        id: String,
        ts: Timestamp,
        prev_hash: &str,
    ) -> Self {
        let mut e = AuditEvent {
            seq,
            id,
            ts,
            actor_id: actor.id.clone(),
            actor_name: actor.name.clone(),
            actor_type: actor.actor_type,
            entity_type: draft.entity_type,
            entity_id: draft.entity_id,
            action: draft.action,
            before: draft.before.map(redact),
            after: draft.after.map(redact),
            ip: actor.ip.clone(),
            ua: actor.ua.clone(),
            request_id: actor.request_id.clone(),
            prev_hash: prev_hash.to_string(),
            hash: String::new(),
        };
        e.hash = e.compute_hash();
        e
    }

    /// SHA-256 over a canonical JSON rendering of every field but `hash`.
    pub fn compute_hash(&self) -> String {
        let input = HashInput {
            seq: self.seq,
            id: &self.id,
            ts: self.ts.millis(),
            actor_id: &self.actor_id,
            actor_name: &self.actor_name,
            actor_type: self.actor_type.as_str(),
            entity_type: &self.entity_type,
            entity_id: &self.entity_id,
            action: &self.action,
            before: &self.before,
            after: &self.after,
            ip: &self.ip,
            ua: &self.ua,
            request_id: &self.request_id,
            prev_hash: &self.prev_hash,
        };
        let bytes = serde_json::to_vec(&input).unwrap_or_default();
        hex::encode(Sha256::digest(&bytes))
    }
}

/// Where a chain stops holding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BrokenLink {
    pub seq: i64,
    pub event_id: String,
    pub reason: String,
}

/// Walks events in chain order, carrying what the next event must point back to.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    expected_prev: String,
    expected_seq: i64,
    checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            expected_prev: GENESIS_HASH.to_string(),
            expected_seq: 1,
            checked: 0,
        }
    }
}

impl ChainVerifier {
    /// Checks the next event; the first error is the first broken link.
    pub fn check(&mut self, e: &AuditEvent) -> Result<(), BrokenLink> {
        let broken = |reason: &str| BrokenLink {
            seq: e.seq,
            event_id: e.id.clone(),
            reason: reason.to_string(),
        };
        if e.seq != self.expected_seq {
            return Err(BrokenLink {
                seq: self.expected_seq,
                event_id: e.id.clone(),
                reason: format!(
                    "event {} is missing (the next one present is {})",
                    self.expected_seq, e.seq
                ),
            });
        }
        if e.prev_hash != self.expected_prev {
            return Err(broken(
                "it does not point to the hash of the event before it",
            ));
        }
        if e.compute_hash() != e.hash {
            return Err(broken(
                "its content does not match its hash (the event was altered)",
            ));
        }
        self.expected_prev = e.hash.clone();
        self.expected_seq += 1;
        self.checked += 1;
        Ok(())
    }

    pub fn checked(&self) -> u64 {
        self.checked
    }
}

/// Keeps only the top-level fields that differ between `before` and `after`.
pub fn diff(before: Option<&Value>, after: Option<&Value>) -> (Option<Value>, Option<Value>) {
    match (before, after) {
        (Some(Value::Object(b)), Some(Value::Object(a))) => {
            let mut bd = Map::new();
            let mut ad = Map::new();
            for (k, bv) in b {
                match a.get(k) {
                    Some(av) if av == bv => {}
                    Some(av) => {
                        bd.insert(k.clone(), bv.clone());
                        ad.insert(k.clone(), av.clone());
                    }
                    None => {
                        bd.insert(k.clone(), bv.clone());
                    }
                }
            }
            for (k, av) in a {
                if !b.contains_key(k) {
                    ad.insert(k.clone(), av.clone());
                }
            }
            (Some(Value::Object(bd)), Some(Value::Object(ad)))
        }
        (b, a) => (b.cloned(), a.cloned()),
    }
}

/// Replaces the value of every secret field (at any depth) with `<redacted>`.
pub fn redact(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    if SECRET_FIELDS.contains(&k.as_str()) && !v.is_null() && !v.is_boolean() {
                        (k, Value::String(REDACTED.into()))
                    } else {
                        (k, redact(v))
                    }
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(redact).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chain(n: i64) -> Vec<AuditEvent> {
        let actor = Actor::system("test");
        let mut prev = GENESIS_HASH.to_string();
        (1..=n)
            .map(|seq| {
                let d = AuditDraft::change(
                    "key",
                    "k1",
                    "revoke",
                    Some(&json!({"a": seq})),
                    Some(&json!({"a": seq + 1})),
                );
                let e = AuditEvent::chain(
                    d,
                    &actor,
                    seq,
                    format!("e{seq}"),
                    Timestamp::from_millis(seq),
                    &prev,
                );
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn verify(events: &[AuditEvent]) -> Result<u64, BrokenLink> {
        let mut v = ChainVerifier::default();
        for e in events {
            v.check(e)?;
        }
        Ok(v.checked())
    }

    #[test]
    fn an_intact_chain_verifies_and_any_edit_is_located() {
        let events = chain(5);
        assert_eq!(verify(&events), Ok(5));
        let mut edited = events.clone();
        edited[2].action = "create".into();
        assert_eq!(verify(&edited).unwrap_err().seq, 3);
        let mut removed = events.clone();
        removed.remove(1);
        assert_eq!(verify(&removed).unwrap_err().seq, 2);
        let mut rehashed = events.clone();
        rehashed[1].after = Some(json!({"a": 99}));
        rehashed[1].hash = rehashed[1].compute_hash();
        assert_eq!(
            verify(&rehashed).unwrap_err().seq,
            3,
            "a re-hashed edit breaks the next link"
        );
    }

    #[test]
    fn diff_keeps_changed_fields_and_redacts_secrets() {
        let (b, a) = diff(
            Some(&json!({"name": "a", "enabled": true, "client_secret": "x"})),
            Some(&json!({"name": "b", "enabled": true, "client_secret": "y"})),
        );
        assert_eq!(b, Some(json!({"name": "a", "client_secret": "x"})));
        let e = AuditEvent::chain(
            AuditDraft {
                entity_type: "oidc".into(),
                entity_id: "1".into(),
                action: "update".into(),
                before: b,
                after: a,
            },
            &Actor::system("t"),
            1,
            "e".into(),
            Timestamp::from_millis(0),
            GENESIS_HASH,
        );
        assert_eq!(
            e.before,
            Some(json!({"name": "a", "client_secret": REDACTED}))
        );
        assert_eq!(
            e.after,
            Some(json!({"name": "b", "client_secret": REDACTED}))
        );
        assert_eq!(
            redact(json!({"has_client_secret": true})),
            json!({"has_client_secret": true})
        );
    }
}
