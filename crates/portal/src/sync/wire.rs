//! The sync API's JSON shapes besides `domain::model`'s (`PushRequest`, `PushResponse`,
//! `PullResponse`).

use serde::{Deserialize, Serialize};

/// The query of `GET /v1/sync/pull`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
#[serde(default, deny_unknown_fields)]
pub struct PullQuery {
    #[serde(deserialize_with = "domain::model::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = domain::schema::sync_cursor))]
    pub cursor: Option<i64>,
    #[serde(deserialize_with = "domain::model::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = domain::schema::pull_limit))]
    pub limit: Option<u32>,
}
