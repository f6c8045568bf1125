//! Client organisations (tenants) and their list filter.

use crate::clock::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The plans a client organisation may be on.
pub const PLANS: &[&str] = &["free", "starter", "pro", "enterprise"];
/// The states of a client organisation.
pub const CLIENT_STATUSES: &[&str] = &["active", "trial", "suspended", "churned"];

/// A tenant organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Client {
    pub id: Uuid,
    pub name: String,
    pub plan: String,
    pub status: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(default)]
pub struct ClientFilter {
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::search), schema(schema_with = crate::schema::search))]
    pub search: Option<String>,
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::page_limit), schema(schema_with = crate::schema::page_limit))]
    pub limit: Option<u32>,
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::cursor), schema(schema_with = crate::schema::cursor))]
    pub cursor: Option<String>,
}
