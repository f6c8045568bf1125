//! `impl Analytics for RemotePortal`: `/v1/events`, `/v1/analytics/*`.

use crate::{q, RemotePortal};
use async_trait::async_trait;
use domain::analytics::{Day, Movement, ProductEvent};
use domain::error::Result;
use domain::Actor;
use portal::analytics::{
    FunnelQuery, FunnelReport, GrowthSeries, IngestReport, MovementQuery, MrrQuery, MrrSeries,
    NewFunnel, NewSubscriptionChange, RefreshReport, RetentionQuery, RetentionReport, SavedFunnel,
    SavedFunnelQuery, SavedFunnelReport, TopClients, TopFeatures, TopUsage, UsageQuery,
};
use portal::wire::{EventBatch, RefreshRequest, SubscriptionChangeBatch};
use portal::Analytics;
use reqwest::Method;

/// A value as its query text: its JSON string (days, intervals, kinds), or its JSON form.
fn text<T: serde::Serialize>(name: &'static str, v: &Option<T>) -> Option<(&'static str, String)> {
    v.as_ref()
        .and_then(|v| match serde_json::to_value(v).ok()? {
            serde_json::Value::String(s) => Some((name, s)),
            other => Some((name, other.to_string())),
        })
}

fn usage_query(u: &UsageQuery) -> Vec<(&'static str, String)> {
    [
        q("org_id", &u.org_id),
        text("from", &u.from),
        text("to", &u.to),
        text("interval", &u.interval),
        q("limit", &u.limit),
        text("by", &u.by),
    ]
    .into_iter()
    .flatten()
    .collect()
}

impl RemotePortal {
    async fn read<T: serde::de::DeserializeOwned>(
        &self,
        actor: &Actor,
        path: &str,
        query: Vec<(&'static str, String)>,
    ) -> Result<T> {
        self.call(actor, Method::GET, path, None, crate::NO_BODY, &query)
            .await
    }
}

#[async_trait]
impl Analytics for RemotePortal {
    async fn ingest_events(
        &self,
        actor: &Actor,
        events: Vec<ProductEvent>,
    ) -> Result<IngestReport> {
        let body = EventBatch { events };
        self.call(actor, Method::POST, "v1/events", None, Some(&body), &[])
            .await
    }

    async fn record_subscription_changes(
        &self,
        actor: &Actor,
        changes: Vec<NewSubscriptionChange>,
    ) -> Result<IngestReport> {
        let body = SubscriptionChangeBatch { changes };
        let path = "v1/analytics/subscription-changes";
        self.call(actor, Method::POST, path, None, Some(&body), &[])
            .await
    }

    async fn refresh_analytics(&self, actor: &Actor, full: bool) -> Result<RefreshReport> {
        let body = RefreshRequest { full };
        let path = "v1/analytics/refresh";
        self.call(actor, Method::POST, path, None, Some(&body), &[])
            .await
    }

    async fn mrr(&self, actor: &Actor, m: MrrQuery) -> Result<MrrSeries> {
        let query = [
            q("currency", &m.currency),
            text("from", &m.from),
            text("to", &m.to),
            text("interval", &m.interval),
        ];
        let query = query.into_iter().flatten().collect();
        self.read(actor, "v1/analytics/mrr", query).await
    }

    async fn retention(&self, actor: &Actor, r: RetentionQuery) -> Result<RetentionReport> {
        let query = [
            q("currency", &r.currency),
            text("from", &r.from),
            text("to", &r.to),
        ];
        let query = query.into_iter().flatten().collect();
        self.read(actor, "v1/analytics/retention", query).await
    }

    async fn mrr_movements(&self, actor: &Actor, m: MovementQuery) -> Result<Vec<Movement>> {
        let query = [
            q("currency", &m.currency),
            text("from", &m.from),
            text("to", &m.to),
            text("kind", &m.kind),
        ];
        let query = query.into_iter().flatten().collect();
        self.read(actor, "v1/analytics/movements", query).await
    }

    async fn top_clients_by_mrr(
        &self,
        actor: &Actor,
        currency: Option<String>,
        at: Option<Day>,
        limit: Option<u32>,
    ) -> Result<TopClients> {
        let query = [
            q("currency", &currency),
            text("at", &at),
            q("limit", &limit),
        ];
        let query = query.into_iter().flatten().collect();
        self.read(actor, "v1/analytics/top-clients", query).await
    }

    async fn growth(&self, actor: &Actor, u: UsageQuery) -> Result<GrowthSeries> {
        self.read(actor, "v1/analytics/growth", usage_query(&u))
            .await
    }

    async fn top_features(&self, actor: &Actor, u: UsageQuery) -> Result<TopFeatures> {
        self.read(actor, "v1/analytics/top-features", usage_query(&u))
            .await
    }

    async fn top_clients_by_usage(&self, actor: &Actor, u: UsageQuery) -> Result<TopUsage> {
        self.read(actor, "v1/analytics/top-clients/usage", usage_query(&u))
            .await
    }

    async fn funnel(&self, actor: &Actor, f: FunnelQuery) -> Result<FunnelReport> {
        let path = "v1/analytics/funnels/run";
        self.call(actor, Method::POST, path, None, Some(&f), &[])
            .await
    }

    async fn save_funnel(&self, actor: &Actor, f: NewFunnel) -> Result<SavedFunnel> {
        let path = "v1/analytics/funnels";
        self.call(actor, Method::POST, path, None, Some(&f), &[])
            .await
    }

    async fn saved_funnels(&self, actor: &Actor) -> Result<Vec<SavedFunnel>> {
        self.read(actor, "v1/analytics/funnels", Vec::new()).await
    }

    async fn saved_funnel(
        &self,
        actor: &Actor,
        id: &str,
        f: SavedFunnelQuery,
    ) -> Result<SavedFunnelReport> {
        let query = [
            q("org_id", &f.org_id),
            text("from", &f.from),
            text("to", &f.to),
        ];
        let query = query.into_iter().flatten().collect();
        let path = format!("v1/analytics/funnels/{}", crate::seg(id));
        self.read(actor, &path, query).await
    }

    async fn delete_funnel(&self, actor: &Actor, id: &str) -> Result<()> {
        let path = format!("v1/analytics/funnels/{}", crate::seg(id));
        self.send(actor, Method::DELETE, &path, None, crate::NO_BODY, &[])
            .await
            .map(|_| ())
    }
}
