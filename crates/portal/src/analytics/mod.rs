//! Analytics (issue 12): product events and billing facts in, daily snapshots out. The rules
//! (MRR, its movement ledger, funnels) are `domain::analytics`; this module ingests facts
//! (validated whole: a batch with one bad row stores nothing), refreshes the snapshots — only
//! the days whose facts changed, or everything on demand — and reads them.
//!
//! Today on `LocalPortal` only (the CLI and the desktop's embedded workspace call it directly);
//! the portal API's routes, `RemotePortal` and the front ends come next, in this shape.

pub(crate) mod cache;
pub mod csv;
pub mod generate;
pub mod import;
pub(crate) mod local;
mod refresh;
pub(crate) mod usage;
pub mod wire;

use async_trait::async_trait;
use domain::analytics::{ChurnRates, SubscriptionChange};
use domain::analytics::{Day, Interval, Movement, MovementKind, MrrDay, ProductEvent};
use domain::analytics::{FeatureUsage, FunnelSpec, FunnelStep, GrowthDay, OrgUsage};
use domain::error::Result;
use domain::Actor;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a batch of facts did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IngestReport {
    pub received: u64,
    /// Stored now.
    pub inserted: u64,
    /// Already stored (the same ids sent before): skipped.
    pub duplicates: u64,
}

/// A subscription change as a billing system sends it: with its own id (sending it again
/// stores nothing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewSubscriptionChange {
    pub id: Uuid,
    #[serde(flatten)]
    pub change: SubscriptionChange,
}

/// What a refresh recomputed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshReport {
    pub full: bool,
    /// The days recomputed (none when nothing changed since the last refresh).
    pub from: Option<Day>,
    pub to: Day,
    pub currencies: Vec<String>,
    /// Ledger days written (all currencies) and the movements behind them.
    pub days: u64,
    pub movements: u64,
    /// The usage days recomputed (growth, organisations' and features' use), from this day.
    #[serde(default)]
    pub usage_from: Option<Day>,
    #[serde(default)]
    pub usage_days: u64,
}

/// A question about MRR.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(default)]
pub struct MrrQuery {
    /// ISO 4217; by default the currency with the most MRR.
    #[serde(deserialize_with = "domain::model::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = domain::schema::currency_filter), schema(schema_with = domain::schema::currency_filter))]
    pub currency: Option<String>,
    /// By default the 90 days up to the last snapshot.
    #[serde(deserialize_with = "domain::model::empty_as_none")]
    pub from: Option<Day>,
    #[serde(deserialize_with = "domain::model::empty_as_none")]
    pub to: Option<Day>,
    /// By default a day.
    #[serde(deserialize_with = "domain::model::empty_as_none")]
    pub interval: Option<Interval>,
}

/// MRR over a period: one row per interval, each reconciling
/// (`start + new + expansion + reactivation − contraction − churn = end`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MrrSeries {
    /// `None` when no snapshot exists yet (nothing billed, or never refreshed).
    pub currency: Option<String>,
    pub from: Day,
    pub to: Day,
    pub interval: Interval,
    pub points: Vec<MrrDay>,
    /// The whole period's movements and churn rates.
    pub total: Option<MrrDay>,
    pub rates: Option<ChurnRates>,
    /// The last day the snapshot covers, and when it was last refreshed.
    pub as_of: Option<Day>,
    pub refreshed_at: Option<domain::Timestamp>,
}

/// The movements behind MRR (the drill-down).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(default)]
pub struct MovementQuery {
    #[serde(deserialize_with = "domain::model::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = domain::schema::currency_filter), schema(schema_with = domain::schema::currency_filter))]
    pub currency: Option<String>,
    #[serde(deserialize_with = "domain::model::empty_as_none")]
    pub from: Option<Day>,
    #[serde(deserialize_with = "domain::model::empty_as_none")]
    pub to: Option<Day>,
    #[serde(deserialize_with = "domain::model::empty_as_none")]
    pub kind: Option<MovementKind>,
}

/// The organisations paying the most.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TopClients {
    pub currency: Option<String>,
    /// At the end of this day.
    pub at: Day,
    /// Their MRR at that moment, most first.
    pub clients: Vec<TopClient>,
    /// The whole MRR then, for each one's share.
    pub total_mrr: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TopClient {
    pub org_id: Uuid,
    pub mrr: i64,
    /// Of the whole MRR, as a fraction.
    pub share: f64,
}

/// The most clients a top list shows.
pub const TOP_MAX: u32 = 100;

/// A question about usage: the whole portal's, or one organisation's (a client's own, always).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(default)]
pub struct UsageQuery {
    #[serde(deserialize_with = "domain::model::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = domain::schema::org_filter), schema(schema_with = domain::schema::org_filter))]
    pub org_id: Option<Uuid>,
    /// By default the 90 days up to the last snapshot.
    #[serde(deserialize_with = "domain::model::empty_as_none")]
    pub from: Option<Day>,
    #[serde(deserialize_with = "domain::model::empty_as_none")]
    pub to: Option<Day>,
    /// Growth: by day, week or month (by default a day).
    #[serde(deserialize_with = "domain::model::empty_as_none")]
    pub interval: Option<Interval>,
    /// Top lists: 1 to [`TOP_MAX`] rows, by default 10.
    #[serde(deserialize_with = "domain::model::empty_as_none")]
    pub limit: Option<u32>,
    /// Top features: by uses (the default) or by organisations.
    #[serde(deserialize_with = "domain::model::empty_as_none")]
    pub by: Option<FeatureRank>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FeatureRank {
    #[default]
    Uses,
    Orgs,
}

impl std::str::FromStr for FeatureRank {
    type Err = domain::error::Error;
    fn from_str(text: &str) -> Result<FeatureRank> {
        serde_json::from_value(serde_json::Value::String(text.trim().to_string())).map_err(|_| {
            domain::error::Error::invalid("by", format!("{text:?} is not uses or orgs"))
        })
    }
}

/// Sign-ups and actives over a period. Weeks and months carry their sign-ups and the actives of
/// their last day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GrowthSeries {
    pub org_id: Option<Uuid>,
    pub from: Day,
    pub to: Day,
    pub interval: Interval,
    pub points: Vec<GrowthDay>,
    pub as_of: Option<Day>,
    pub refreshed_at: Option<domain::Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TopFeatures {
    pub org_id: Option<Uuid>,
    pub from: Day,
    pub to: Day,
    pub by: FeatureRank,
    pub features: Vec<FeatureUsage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TopUsage {
    pub from: Day,
    pub to: Day,
    pub clients: Vec<OrgUsage>,
}

/// Who goes through a funnel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FunnelSubject {
    #[default]
    User,
    Org,
}

/// An ad-hoc funnel: subjects entering it (their first step) within `[from, to]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FunnelQuery {
    #[serde(flatten)]
    pub spec: FunnelSpec,
    pub org_id: Option<Uuid>,
    pub from: Option<Day>,
    pub to: Option<Day>,
    pub by: Option<FunnelSubject>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FunnelReport {
    pub org_id: Option<Uuid>,
    pub from: Day,
    pub to: Day,
    pub by: FunnelSubject,
    pub steps: Vec<FunnelStep>,
    /// The events read to compute it (at most [`FUNNEL_EVENTS_MAX`]).
    pub events_read: u64,
}

/// The cost bound of an ad-hoc funnel: the most events it reads.
pub const FUNNEL_EVENTS_MAX: u64 = 2_000_000;

#[async_trait]
pub trait Analytics: Send + Sync {
    /// Stores product events (at most `domain::analytics::events::BATCH_MAX`); every bad row
    /// is reported with its index and nothing is stored.
    async fn ingest_events(&self, actor: &Actor, events: Vec<ProductEvent>)
        -> Result<IngestReport>;
    /// Stores subscription changes; a change that cannot happen to its subscription (given
    /// everything stored) is reported with its index and nothing is stored.
    async fn record_subscription_changes(
        &self,
        actor: &Actor,
        changes: Vec<NewSubscriptionChange>,
    ) -> Result<IngestReport>;
    /// Recomputes the snapshots: the days whose facts changed (and the days since the last
    /// refresh), or, `full`, everything. Fails loudly, writing nothing, when a day's ledger
    /// does not reconcile.
    async fn refresh_analytics(&self, actor: &Actor, full: bool) -> Result<RefreshReport>;
    /// MRR and its movements per day, week or month, from the snapshot.
    async fn mrr(&self, actor: &Actor, q: MrrQuery) -> Result<MrrSeries>;
    /// The organisations' movements behind MRR, from the snapshot.
    async fn mrr_movements(&self, actor: &Actor, q: MovementQuery) -> Result<Vec<Movement>>;
    /// The organisations paying the most at the end of `at` (by default the snapshot's last
    /// day), at most `limit` (1 to [`TOP_MAX`], by default 10).
    async fn top_clients_by_mrr(
        &self,
        actor: &Actor,
        currency: Option<String>,
        at: Option<Day>,
        limit: Option<u32>,
    ) -> Result<TopClients>;
    /// Sign-ups and daily, weekly and monthly actives (users and organisations): the
    /// portal's from the snapshot, one organisation's from its events.
    async fn growth(&self, actor: &Actor, q: UsageQuery) -> Result<GrowthSeries>;
    /// The most used features over a period, by uses or by organisations.
    async fn top_features(&self, actor: &Actor, q: UsageQuery) -> Result<TopFeatures>;
    /// The organisations using the product the most over a period.
    async fn top_clients_by_usage(&self, actor: &Actor, q: UsageQuery) -> Result<TopUsage>;
    /// Runs a funnel over the events at read time; refused, reading nothing more, when it would
    /// read more than [`FUNNEL_EVENTS_MAX`] events.
    async fn funnel(&self, actor: &Actor, q: FunnelQuery) -> Result<FunnelReport>;
}
