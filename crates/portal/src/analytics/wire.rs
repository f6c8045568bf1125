//! The portal API's request bodies of analytics (the answers are the capability's own types).

use super::NewSubscriptionChange;
use domain::analytics::ProductEvent;
use serde::{Deserialize, Serialize};

/// Body of `POST /v1/events`: at most `domain::analytics::events::BATCH_MAX` events, each with
/// its own id (sending it again stores nothing).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventBatch {
    pub events: Vec<ProductEvent>,
}

/// Body of `POST /v1/analytics/subscription-changes`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubscriptionChangeBatch {
    pub changes: Vec<NewSubscriptionChange>,
}

/// Body of `POST /v1/analytics/refresh`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshRequest {
    /// Recompute every day, not only the days whose facts changed.
    #[serde(default)]
    pub full: bool,
}

/// Query of `GET /v1/analytics/top-clients`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(default)]
pub struct TopClientsQuery {
    #[serde(deserialize_with = "domain::model::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = domain::schema::currency_filter), schema(schema_with = domain::schema::currency_filter))]
    pub currency: Option<String>,
    /// By default the snapshot's last day.
    #[serde(deserialize_with = "domain::model::empty_as_none")]
    pub at: Option<domain::analytics::Day>,
    /// 1 to 100, by default 10.
    #[serde(deserialize_with = "domain::model::empty_as_none")]
    pub limit: Option<u32>,
}
