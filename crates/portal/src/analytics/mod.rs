//! Analytics (issue 12): product events and billing facts in, daily snapshots out. The rules
//! (MRR, its movement ledger, funnels) are `domain::analytics`; this module ingests facts
//! (validated whole: a batch with one bad row stores nothing), refreshes the snapshots — only
//! the days whose facts changed, or everything on demand — and reads them.
//!
//! The questions and answers (`MrrQuery`, `MrrSeries`, …) are `domain::model::analytics`,
//! re-exported here.

mod cache;
pub mod csv;
mod funnels;
pub mod generate;
pub mod import;
pub(crate) mod local;
mod refresh;
mod retention;
pub(crate) mod usage;
pub mod wire;

pub use cache::{ChartCache, MemoryChartCache, CACHE_SCHEMA};
pub use domain::model::analytics::*;

use async_trait::async_trait;
use domain::analytics::{Day, Movement, ProductEvent};
use domain::error::Result;
use domain::Actor;

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
    /// Net and gross revenue retention over a period and by monthly cohort, from the snapshot.
    async fn retention(&self, actor: &Actor, q: RetentionQuery) -> Result<RetentionReport>;
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
    /// Keeps a funnel: every refresh snapshots it (from its first event, up to a year back the
    /// first time), and it is read in milliseconds. Staff only.
    async fn save_funnel(&self, actor: &Actor, f: NewFunnel) -> Result<SavedFunnel>;
    /// The saved funnels, by name.
    async fn saved_funnels(&self, actor: &Actor) -> Result<Vec<SavedFunnel>>;
    /// A saved funnel over a period, from its snapshot: the subjects that entered it then (a
    /// client: of its own organisation), and its conversion day by day.
    async fn saved_funnel(
        &self,
        actor: &Actor,
        id: &str,
        q: SavedFunnelQuery,
    ) -> Result<SavedFunnelReport>;
    /// Forgets a saved funnel and its snapshot. Staff only.
    async fn delete_funnel(&self, actor: &Actor, id: &str) -> Result<()>;
}
