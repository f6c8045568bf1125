//! Analytics' questions and answers: what the portal API, `RemotePortal` and the desktop pass
//! for each chart (`portal::analytics::Analytics`). Each answer's shape is the chart's stable
//! schema: a change is a new version, never an edit.

use crate::analytics::retention::{Cohort, Retention};
use crate::analytics::{ChurnRates, SubscriptionChange};
use crate::analytics::{Day, Interval, MovementKind, MrrDay};
use crate::analytics::{FeatureUsage, FunnelSpec, FunnelStep, GrowthDay, OrgUsage};
use crate::error::Result;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a batch of facts did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewSubscriptionChange {
    pub id: Uuid,
    #[serde(flatten)]
    pub change: SubscriptionChange,
}

/// What a refresh recomputed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
    /// The saved funnels whose snapshot was brought up to date.
    #[serde(default)]
    pub funnels: u64,
}

/// A question about MRR.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(default)]
pub struct MrrQuery {
    /// ISO 4217; by default the currency with the most MRR.
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::currency_filter), schema(schema_with = crate::schema::currency_filter))]
    pub currency: Option<String>,
    /// By default the 90 days up to the last snapshot.
    #[serde(deserialize_with = "super::empty_as_none")]
    pub from: Option<Day>,
    #[serde(deserialize_with = "super::empty_as_none")]
    pub to: Option<Day>,
    /// By default a day.
    #[serde(deserialize_with = "super::empty_as_none")]
    pub interval: Option<Interval>,
}

/// MRR over a period: one row per interval, each reconciling
/// (`start + new + expansion + reactivation − contraction − churn = end`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
    pub refreshed_at: Option<crate::Timestamp>,
}

/// A question about revenue retention.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(default)]
pub struct RetentionQuery {
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::currency_filter), schema(schema_with = crate::schema::currency_filter))]
    pub currency: Option<String>,
    /// By default the first day of the month eleven months before `to`'s.
    #[serde(deserialize_with = "super::empty_as_none")]
    pub from: Option<Day>,
    /// By default the snapshot's last day.
    #[serde(deserialize_with = "super::empty_as_none")]
    pub to: Option<Day>,
}

/// Net and gross revenue retention: over the period (the organisations paying at its start),
/// and by monthly cohort of the organisations that first paid in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetentionReport {
    pub currency: Option<String>,
    pub from: Day,
    pub to: Day,
    /// From the end of the day before `from` to the end of `to`; organisations that first paid
    /// in the period are not in it.
    pub period: Retention,
    /// Oldest first; month `k` of a cohort is at the end of the `k`-th month after its own.
    pub cohorts: Vec<Cohort>,
    /// Month `k` over every cohort that has it, weighted by their base MRR (`[k − 1]`).
    pub by_month: Vec<Retention>,
    pub as_of: Option<Day>,
    pub refreshed_at: Option<crate::Timestamp>,
}

/// The movements behind MRR (the drill-down).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(default)]
pub struct MovementQuery {
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::currency_filter), schema(schema_with = crate::schema::currency_filter))]
    pub currency: Option<String>,
    #[serde(deserialize_with = "super::empty_as_none")]
    pub from: Option<Day>,
    #[serde(deserialize_with = "super::empty_as_none")]
    pub to: Option<Day>,
    #[serde(deserialize_with = "super::empty_as_none")]
    pub kind: Option<MovementKind>,
}

/// The organisations paying the most.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(default)]
pub struct UsageQuery {
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::org_filter), schema(schema_with = crate::schema::org_filter))]
    pub org_id: Option<Uuid>,
    /// By default the 90 days up to the last snapshot.
    #[serde(deserialize_with = "super::empty_as_none")]
    pub from: Option<Day>,
    #[serde(deserialize_with = "super::empty_as_none")]
    pub to: Option<Day>,
    /// Growth: by day, week or month (by default a day).
    #[serde(deserialize_with = "super::empty_as_none")]
    pub interval: Option<Interval>,
    /// Top lists: 1 to [`TOP_MAX`] rows, by default 10.
    #[serde(deserialize_with = "super::empty_as_none")]
    pub limit: Option<u32>,
    /// Top features: by uses (the default) or by organisations.
    #[serde(deserialize_with = "super::empty_as_none")]
    pub by: Option<FeatureRank>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FeatureRank {
    #[default]
    Uses,
    Orgs,
}

impl std::str::FromStr for FeatureRank {
    type Err = crate::error::Error;
    fn from_str(text: &str) -> Result<FeatureRank> {
        serde_json::from_value(serde_json::Value::String(text.trim().to_string())).map_err(|_| {
            crate::error::Error::invalid("by", format!("{text:?} is not uses or orgs"))
        })
    }
}

/// Sign-ups and actives over a period. Weeks and months carry their sign-ups and the actives of
/// their last day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GrowthSeries {
    pub org_id: Option<Uuid>,
    pub from: Day,
    pub to: Day,
    pub interval: Interval,
    pub points: Vec<GrowthDay>,
    pub as_of: Option<Day>,
    pub refreshed_at: Option<crate::Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TopFeatures {
    pub org_id: Option<Uuid>,
    pub from: Day,
    pub to: Day,
    pub by: FeatureRank,
    pub features: Vec<FeatureUsage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TopUsage {
    pub from: Day,
    pub to: Day,
    pub clients: Vec<OrgUsage>,
}

/// Who goes through a funnel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FunnelSubject {
    #[default]
    User,
    Org,
}

/// An ad-hoc funnel: subjects entering it (their first step) within `[from, to]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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

/// The longest name of a saved funnel, in characters.
pub const FUNNEL_NAME_MAX: usize = 100;
/// How far back a saved funnel's snapshot goes when it is first computed: a year.
pub const FUNNEL_HISTORY_DAYS: i32 = 366;

/// A funnel to keep: snapshotted every day by the refresh, read in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewFunnel {
    /// 1 to 100 characters, unique among the saved funnels.
    pub name: String,
    #[serde(flatten)]
    pub spec: FunnelSpec,
    /// By default users.
    #[serde(default)]
    pub by: Option<FunnelSubject>,
}

impl NewFunnel {
    /// Checks the name and the spec; every problem is named with its field.
    pub fn validate(&self) -> Result<()> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > FUNNEL_NAME_MAX {
            return Err(crate::error::Error::invalid(
                "name",
                format!("a funnel's name is 1 to {FUNNEL_NAME_MAX} characters"),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(crate::error::Error::invalid(
                "name",
                "a funnel's name has no control characters",
            ));
        }
        self.spec.validate()
    }
}

/// A saved funnel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SavedFunnel {
    pub id: Uuid,
    pub name: String,
    #[serde(flatten)]
    pub spec: FunnelSpec,
    pub by: FunnelSubject,
    pub created_at: crate::Timestamp,
    /// Who saved it (an actor id).
    pub created_by: String,
    /// The last day its snapshot covers (`None` until the first refresh after it was saved).
    pub snapshot_to: Option<Day>,
}

/// A question about a saved funnel: the subjects that entered it in `[from, to]` (by default
/// the 30 days up to its snapshot's last day), the portal's or one organisation's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(default)]
pub struct SavedFunnelQuery {
    #[serde(deserialize_with = "super::empty_as_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::org_filter), schema(schema_with = crate::schema::org_filter))]
    pub org_id: Option<Uuid>,
    #[serde(deserialize_with = "super::empty_as_none")]
    pub from: Option<Day>,
    #[serde(deserialize_with = "super::empty_as_none")]
    pub to: Option<Day>,
}

/// One day of a saved funnel: the subjects that entered it that day, and how many of them went
/// through every step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FunnelDay {
    pub day: Day,
    pub entered: u64,
    pub converted: u64,
}

/// A saved funnel over a period, from its daily snapshot: the same steps an ad-hoc run of its
/// spec over the period gives, and its conversion day by day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SavedFunnelReport {
    pub funnel: SavedFunnel,
    pub org_id: Option<Uuid>,
    pub from: Day,
    pub to: Day,
    pub steps: Vec<FunnelStep>,
    pub daily: Vec<FunnelDay>,
    pub as_of: Option<Day>,
    pub refreshed_at: Option<crate::Timestamp>,
}

/// A chart's data, as the desktop shows it: what its CSV export and its drawing are made from,
/// so both carry exactly the numbers on the screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "chart", content = "data", rename_all = "snake_case")]
pub enum ChartData {
    Mrr(MrrSeries),
    Growth(GrowthSeries),
    TopClients(TopClients),
    TopUsage(TopUsage),
    TopFeatures(TopFeatures),
    Funnel(FunnelReport),
    Retention(RetentionReport),
    SavedFunnel(SavedFunnelReport),
}

impl ChartData {
    /// The chart's name in file names (`mrr`, `top-features`, …).
    pub fn slug(&self) -> &'static str {
        match self {
            ChartData::Mrr(_) => "mrr",
            ChartData::Growth(_) => "growth",
            ChartData::TopClients(_) => "top-clients",
            ChartData::TopUsage(_) => "top-clients-by-usage",
            ChartData::TopFeatures(_) => "top-features",
            ChartData::Funnel(_) => "funnel",
            ChartData::Retention(_) => "retention",
            ChartData::SavedFunnel(_) => "saved-funnel",
        }
    }
}
