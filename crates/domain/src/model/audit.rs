//! The audit list's filter, the chain verification report, and signed checkpoints of the chain.

use crate::clock::Timestamp;
use crate::envelope::MasterKeySet;
use serde::{Deserialize, Serialize};

/// The longest text filter of the audit list (`entity_type`, `entity_id`, `actor`, `action`).
pub const AUDIT_FILTER_MAX: usize = 200;

/// Filters of the audit list, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(default)]
pub struct AuditFilter {
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::audit_text), schema(schema_with = crate::schema::audit_text))]
    pub entity_type: Option<String>,
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::audit_text), schema(schema_with = crate::schema::audit_text))]
    pub entity_id: Option<String>,
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::audit_text), schema(schema_with = crate::schema::audit_text))]
    pub actor: Option<String>,
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::audit_text), schema(schema_with = crate::schema::audit_text))]
    pub action: Option<String>,
    /// Events at or after this instant.
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::instant), schema(schema_with = crate::schema::instant))]
    pub from: Option<Timestamp>,
    /// Events before this instant.
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::instant), schema(schema_with = crate::schema::instant))]
    pub to: Option<Timestamp>,
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::page_limit), schema(schema_with = crate::schema::page_limit))]
    pub limit: Option<u32>,
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::cursor), schema(schema_with = crate::schema::cursor))]
    pub cursor: Option<String>,
}

/// The result of verifying the audit chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChainReport {
    pub checked: u64,
    pub first_broken: Option<crate::audit::BrokenLink>,
    /// What the checkpoint verified against says, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<CheckpointVerdict>,
}

/// What a verification against a checkpoint found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CheckpointVerdict {
    /// The event it names still has the hash it recorded.
    Holds,
    /// The history up to it was rewritten (or cut short): see `first_broken`.
    Rewritten,
    /// The portal did not sign it, or it was altered: it proves nothing either way.
    NotAuthentic,
}

/// The chain's tip at an instant, signed by the portal. Kept outside the database (a file, a log
/// sink), it anchors the chain: a later verification against it tells whether the history up
/// to it was rewritten, even by someone who recomputed every hash after the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditCheckpoint {
    /// The last event covered.
    #[serde(deserialize_with = "super::whole_i64")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub seq: i64,
    /// That event's hash (64 lowercase hex digits).
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{64}$"))]
    pub hash: String,
    /// When the checkpoint was made (RFC 3339).
    #[serde(deserialize_with = "super::rfc3339")]
    pub at: Timestamp,
    /// The master-key version whose derived key signed it.
    #[serde(deserialize_with = "super::whole_u32")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000000))]
    pub key_version: u32,
    /// HMAC-SHA256 over `seq`, `hash` and `at` under a key derived from that master key (hex).
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{64}$"))]
    pub mac: String,
}

impl AuditCheckpoint {
    const PURPOSE: &'static str = "audit-checkpoint";

    fn message(seq: i64, hash: &str, at: Timestamp) -> Vec<u8> {
        format!(
            "provider-admin audit checkpoint\n{seq}\n{hash}\n{}",
            at.millis()
        )
        .into_bytes()
    }

    /// Signs the tip `(seq, hash)` at `at` with the newest master key.
    pub fn sign(keys: &MasterKeySet, seq: i64, hash: &str, at: Timestamp) -> Option<Self> {
        let version = keys.current();
        let mac = keys.mac(version, Self::PURPOSE, &Self::message(seq, hash, at))?;
        Some(AuditCheckpoint {
            seq,
            hash: hash.to_string(),
            at,
            key_version: version,
            mac: hex::encode(mac),
        })
    }

    /// Its shape: `hash` and `mac` are 64 lowercase hex digits, `key_version` is at least 1
    /// (`seq` is at least 0 by its type's parsing). Every problem, named by field.
    pub fn validate(&self) -> crate::error::Result<()> {
        let hex64 =
            |s: &str| s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        let mut problems = Vec::new();
        for (field, value) in [("against.hash", &self.hash), ("against.mac", &self.mac)] {
            if !hex64(value) {
                problems.push(crate::error::FieldError::new(
                    field,
                    "must be 64 lowercase hex digits, as `padmin audit checkpoint` writes it",
                ));
            }
        }
        if !(1..=1_000_000).contains(&self.key_version) {
            problems.push(crate::error::FieldError::new(
                "against.key_version",
                "must be from 1 to 1000000",
            ));
        }
        if self.seq < 0 {
            problems.push(crate::error::FieldError::new(
                "against.seq",
                "must be at least 0",
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(crate::error::Error::Invalid(problems))
        }
    }

    /// Whether this checkpoint was signed by a holder of `keys` and is unaltered. Compared in
    /// constant time.
    pub fn is_authentic(&self, keys: &MasterKeySet) -> bool {
        let Some(expected) = keys.mac(
            self.key_version,
            Self::PURPOSE,
            &Self::message(self.seq, &self.hash, self.at),
        ) else {
            return false;
        };
        let Ok(given) = hex::decode(&self.mac) else {
            return false;
        };
        given.len() == expected.len()
            && given
                .iter()
                .zip(expected.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// What to verify the chain against.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerifyAgainst {
    /// A checkpoint kept outside the database: the event it names must still have its hash.
    pub against: Option<AuditCheckpoint>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_checkpoint_is_authentic_only_unaltered_and_under_the_same_keys() {
        let keys = MasterKeySet::generate(&mut rand::rngs::StdRng::seed_from_u64(7));
        let at = Timestamp::from_millis(1_800_000_000_000);
        let cp = AuditCheckpoint::sign(&keys, 42, &"ab".repeat(32), at).unwrap();
        assert!(cp.is_authentic(&keys));
        for altered in [
            AuditCheckpoint {
                seq: 41,
                ..cp.clone()
            },
            AuditCheckpoint {
                hash: "cd".repeat(32),
                ..cp.clone()
            },
            AuditCheckpoint {
                at: Timestamp::from_millis(1),
                ..cp.clone()
            },
            AuditCheckpoint {
                key_version: 9,
                ..cp.clone()
            },
            AuditCheckpoint {
                mac: "00".repeat(32),
                ..cp.clone()
            },
            AuditCheckpoint {
                mac: "not hex".into(),
                ..cp.clone()
            },
        ] {
            assert!(!altered.is_authentic(&keys), "{altered:?}");
        }
        assert!(cp.validate().is_ok());
        let malformed = AuditCheckpoint {
            mac: String::new(),
            hash: "AB".repeat(32),
            key_version: 0,
            ..cp.clone()
        };
        match malformed.validate() {
            Err(crate::error::Error::Invalid(fields)) => assert_eq!(fields.len(), 3, "{fields:?}"),
            other => panic!("a malformed checkpoint is invalid: {other:?}"),
        }
        let other = MasterKeySet::generate(&mut rand::rngs::StdRng::seed_from_u64(8));
        assert!(
            !cp.is_authentic(&other),
            "another portal's keys do not vouch for it"
        );
        let mut rotated = keys.clone();
        rotated.add_version(&mut rand::rngs::StdRng::seed_from_u64(9));
        assert!(
            cp.is_authentic(&rotated),
            "a rotation keeps old checkpoints checkable"
        );
    }

    #[test]
    fn a_checkpoint_reads_its_time_only_as_the_string_it_was_written_as() {
        let keys = MasterKeySet::generate(&mut rand::rngs::StdRng::seed_from_u64(7));
        let cp = AuditCheckpoint::sign(
            &keys,
            3,
            &"ab".repeat(32),
            Timestamp::from_millis(1_800_000_000_000),
        )
        .unwrap();
        let mut json = serde_json::to_value(&cp).unwrap();
        let back: AuditCheckpoint = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, cp, "a written checkpoint reads back");
        json["at"] = serde_json::json!(0);
        let err = serde_json::from_value::<AuditCheckpoint>(json.clone()).unwrap_err();
        assert!(err.to_string().contains("string"), "{err}");
        json["at"] = serde_json::json!("yesterday");
        let err = serde_json::from_value::<AuditCheckpoint>(json).unwrap_err();
        assert!(err.to_string().contains("RFC 3339"), "{err}");
    }
}
