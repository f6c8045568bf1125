//! Usage on `LocalPortal`: growth, top features and organisations by usage, ad-hoc funnels, and
//! the usage half of a refresh. Whose usage a read sees is decided here, once
//! ([`LocalPortal::usage_scope`]): a client its own organisation's, always.

use super::{
    FeatureRank, FunnelQuery, FunnelReport, FunnelSubject, GrowthSeries, TopFeatures, TopUsage,
    UsageQuery, FUNNEL_EVENTS_MAX, TOP_MAX,
};
use crate::local::{store_err, LocalPortal};
use domain::analytics::growth::MONTH_DAYS;
use domain::analytics::revenue::SPAN_MAX_DAYS;
use domain::analytics::{
    progress_entering, rollup_growth, summarize, ActiveWindow, Day, FunnelEvent, GrowthDay,
    Interval, Progress,
};
use domain::error::{Error, Result};
use domain::{Actor, Permission, Role};
use std::collections::{BTreeSet, HashMap};
use store::{DirtyDay, Fact, FeatureOrder};
use uuid::Uuid;

/// What the usage half of a refresh writes.
pub(crate) struct UsagePlan {
    /// The days recomputed (none when nothing changed).
    pub range: Option<(Day, Day)>,
    pub growth: Vec<GrowthDay>,
    /// The dirty marks it covered.
    pub dirty: Vec<DirtyDay>,
}

fn limit_of(limit: Option<u32>) -> Result<u32> {
    let limit = limit.unwrap_or(10);
    if (1..=TOP_MAX).contains(&limit) {
        Ok(limit)
    } else {
        Err(Error::invalid("limit", format!("must be 1 to {TOP_MAX}")))
    }
}

impl LocalPortal {
    /// Whose usage a read is about: a client's own organisation, always (asking for another's is
    /// refused); for staff, the organisation asked for, or the whole portal.
    pub(super) fn usage_scope(&self, actor: &Actor, asked: Option<Uuid>) -> Result<Option<Uuid>> {
        match actor.role {
            Role::Client(own) => {
                if asked.is_some_and(|a| a != own) {
                    return Err(Error::Forbidden(
                        "a client sees only its own organisation's usage".into(),
                    ));
                }
                self.authorize(actor, Permission::ReadUsage, Some(own))?;
                Ok(Some(own))
            }
            _ => {
                self.authorize(actor, Permission::ReadUsage, None)?;
                Ok(asked)
            }
        }
    }

    /// The period of a usage read: by default the 90 days up to the growth snapshot's last day.
    async fn usage_period(&self, from: Option<Day>, to: Option<Day>) -> Result<(Day, Day)> {
        let last = self.store.growth_last_day().await.map_err(store_err)?;
        self.period(from, to, last)
    }

    /// Growth computed from the events (the refresh's computation, and one organisation's read).
    pub(crate) async fn growth_from_events(
        &self,
        org: Option<Uuid>,
        from: Day,
        to: Day,
    ) -> Result<Vec<GrowthDay>> {
        let since = from.plus(1 - MONTH_DAYS);
        let activity = self
            .store
            .activity(org, since, to)
            .await
            .map_err(store_err)?;
        let signups: HashMap<Day, u32> = self
            .store
            .signups(org, from, to)
            .await
            .map_err(store_err)?
            .into_iter()
            .collect();
        let mut users = ActiveWindow::default();
        let mut orgs = ActiveWindow::default();
        let mut rows = activity.iter().peekable();
        let mut out = Vec::new();
        let mut day = since;
        while day <= to {
            let mut today_users = Vec::new();
            let mut today_orgs = BTreeSet::new();
            while let Some((_, o, u)) = rows.next_if(|r| r.0 == day) {
                today_orgs.insert(*o);
                if let Some(u) = u {
                    today_users.push((*o, u.as_str()));
                }
            }
            let users = users.day(day, today_users);
            let orgs = orgs.day(day, today_orgs);
            if day >= from {
                out.push(GrowthDay {
                    day,
                    signups: signups.get(&day).copied().unwrap_or(0),
                    users,
                    orgs,
                });
            }
            day = day.plus(1);
        }
        Ok(out)
    }

    /// The usage half of a refresh: the days whose events changed (and those since the last
    /// refresh), or, `full`, every day since the first event.
    pub(crate) async fn plan_usage(&self, full: bool, today: Day) -> Result<UsagePlan> {
        let dirty = self
            .store
            .dirty_days(Fact::Events)
            .await
            .map_err(store_err)?;
        let first = self.store.first_event_day().await.map_err(store_err)?;
        let last = self.store.growth_last_day().await.map_err(store_err)?;
        let Some(first) = first else {
            return Ok(UsagePlan {
                range: None,
                growth: Vec::new(),
                dirty,
            });
        };
        let earliest = first.max(today.plus(1 - SPAN_MAX_DAYS));
        let from = match (full, last) {
            (false, Some(last)) => dirty
                .first()
                .map_or(last.plus(1), |d| d.day.min(last.plus(1))),
            _ => earliest,
        }
        .max(earliest);
        if from > today {
            return Ok(UsagePlan {
                range: None,
                growth: Vec::new(),
                dirty,
            });
        }
        let growth = self.growth_from_events(None, from, today).await?;
        Ok(UsagePlan {
            range: Some((from, today)),
            growth,
            dirty,
        })
    }

    pub(crate) async fn read_growth(&self, actor: &Actor, q: UsageQuery) -> Result<GrowthSeries> {
        let org = self.usage_scope(actor, q.org_id)?;
        if org.is_none() {
            // The portal's growth is read from the snapshot; one organisation's from its events.
            return self
                .cached("growth", &q, || self.read_growth_of(None, q.clone()))
                .await;
        }
        self.read_growth_of(org, q).await
    }

    async fn read_growth_of(&self, org: Option<Uuid>, q: UsageQuery) -> Result<GrowthSeries> {
        let (from, to) = self.usage_period(q.from, q.to).await?;
        let interval = q.interval.unwrap_or(Interval::Day);
        let days = match org {
            Some(org) => self.growth_from_events(Some(org), from, to).await?,
            None => self.store.growth_days(from, to).await.map_err(store_err)?,
        };
        let state = self.store.snapshot_state().await.map_err(store_err)?;
        Ok(GrowthSeries {
            org_id: org,
            from,
            to,
            interval,
            points: rollup_growth(&days, interval),
            as_of: self.store.growth_last_day().await.map_err(store_err)?,
            refreshed_at: state.refreshed_at,
        })
    }

    pub(crate) async fn read_top_features(
        &self,
        actor: &Actor,
        q: UsageQuery,
    ) -> Result<TopFeatures> {
        let org = self.usage_scope(actor, q.org_id)?;
        let q = UsageQuery { org_id: org, ..q };
        self.cached("top-features", &q, || self.read_top_features_of(q.clone()))
            .await
    }

    async fn read_top_features_of(&self, q: UsageQuery) -> Result<TopFeatures> {
        let org = q.org_id;
        let limit = limit_of(q.limit)?;
        let (from, to) = self.usage_period(q.from, q.to).await?;
        let by = q.by.unwrap_or_default();
        let order = match by {
            FeatureRank::Uses => FeatureOrder::Uses,
            FeatureRank::Orgs => FeatureOrder::Orgs,
        };
        let features = self
            .store
            .top_features(org, from, to, order, limit)
            .await
            .map_err(store_err)?;
        Ok(TopFeatures {
            org_id: org,
            from,
            to,
            by,
            features,
        })
    }

    pub(crate) async fn read_top_usage(&self, actor: &Actor, q: UsageQuery) -> Result<TopUsage> {
        let org = self.usage_scope(actor, q.org_id)?;
        let q = UsageQuery { org_id: org, ..q };
        self.cached("top-usage", &q, || async {
            let limit = limit_of(q.limit)?;
            let (from, to) = self.usage_period(q.from, q.to).await?;
            let clients = self
                .store
                .top_orgs_by_usage(org, from, to, limit)
                .await
                .map_err(store_err)?;
            Ok(TopUsage { from, to, clients })
        })
        .await
    }

    pub(crate) async fn run_funnel(&self, actor: &Actor, q: FunnelQuery) -> Result<FunnelReport> {
        let org = self.usage_scope(actor, q.org_id)?;
        q.spec.validate()?;
        let (from, to) = self.usage_period(q.from, q.to).await?;
        let by = q.by.unwrap_or_default();
        let entry = from.start().millis()..to.plus(1).start().millis();
        let until = entry.end.saturating_add(q.spec.window_ms);
        let names: Vec<String> = q
            .spec
            .steps
            .iter()
            .chain(q.spec.exclusions.iter().map(|x| &x.event))
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let cost = self
            .store
            .count_named_events(org, &names, entry.start, until)
            .await
            .map_err(store_err)?;
        if cost > FUNNEL_EVENTS_MAX {
            return Err(Error::invalid(
                "from",
                format!(
                    "this funnel would read {cost} events, more than {FUNNEL_EVENTS_MAX}: \
                     shorten the period or run it for one organisation"
                ),
            ));
        }
        let events = self
            .store
            .named_events(org, &names, entry.start, until, by == FunnelSubject::Org)
            .await
            .map_err(store_err)?;
        let mut all: Vec<Progress> = Vec::new();
        for subject in events.chunk_by(|a, b| a.subject == b.subject) {
            let seen: Vec<FunnelEvent<'_>> = subject
                .iter()
                .map(|e| FunnelEvent {
                    name: e.name.as_str(),
                    at: e.at,
                })
                .collect();
            let p = progress_entering(&q.spec, &seen, entry.clone());
            if p.depth > 0 {
                all.push(p);
            }
        }
        Ok(FunnelReport {
            org_id: org,
            from,
            to,
            by,
            steps: summarize(&q.spec, &all),
            events_read: events.len() as u64,
        })
    }
}

#[cfg(test)]
#[path = "usage_tests.rs"]
mod tests;
