//! The audit list's filter and the chain verification report.

use crate::clock::Timestamp;
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
}
