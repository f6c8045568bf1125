//! What is computed over many incidents, for `LocalPortal`: the MTTA / MTTR report and the
//! overview's counts. Both compute SLA clocks from the timelines with the domain's functions.

use super::local::own_org;
use crate::local::{store_err, LocalPortal};
use domain::error::{Error, Result};
use domain::incident::IncidentMetrics;
use domain::incident::{self, Period};
use domain::model::{
    ClockStatus, IncidentCounts, IncidentEvent, MetricsQuery, Severity, SeverityCount,
};
use domain::{Actor, Permission, Timestamp};
use std::collections::HashMap;
use uuid::Uuid;

/// The longest period a report covers.
const REPORT_DAYS_MAX: i64 = 366;
const DAY_SECS: i64 = 86_400;

impl LocalPortal {
    /// The organisation a report is about: a client's own, whatever it asked for.
    fn report_scope(&self, actor: &Actor, asked: Option<Uuid>) -> Result<Option<Uuid>> {
        match own_org(actor) {
            Some(own) => {
                self.authorize(actor, Permission::ReadIncidents, Some(own))?;
                if asked.is_some_and(|o| o != own) {
                    return Err(Error::NotFound(
                        "no such organisation's incidents exist".into(),
                    ));
                }
                Ok(Some(own))
            }
            None => {
                self.authorize(actor, Permission::ReadIncidents, None)?;
                Ok(asked)
            }
        }
    }

    /// The timelines of `ids`, each oldest first.
    pub(super) async fn timelines(
        &self,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<IncidentEvent>>> {
        let mut by_incident: HashMap<Uuid, Vec<IncidentEvent>> = HashMap::new();
        for e in self
            .store
            .incident_events_of(ids)
            .await
            .map_err(store_err)?
        {
            by_incident.entry(e.incident_id).or_default().push(e);
        }
        Ok(by_incident)
    }

    pub(super) async fn metrics(&self, actor: &Actor, q: MetricsQuery) -> Result<IncidentMetrics> {
        let org = self.report_scope(actor, q.org_id)?;
        let now = self.now();
        // By default up to and including now (`to` is excluded).
        let to =
            q.to.unwrap_or_else(|| Timestamp::from_millis(now.millis().saturating_add(1)));
        let from = q.from.unwrap_or_else(|| to.minus_secs(7 * DAY_SECS));
        let period = Period::new(from, to)?;
        if to.millis() - from.millis() > REPORT_DAYS_MAX * DAY_SECS * 1000 {
            return Err(Error::invalid(
                "from",
                format!("a report covers at most {REPORT_DAYS_MAX} days"),
            ));
        }
        let incidents = self
            .store
            .incidents_opened_between(from, to, org)
            .await
            .map_err(store_err)?;
        let ids: Vec<Uuid> = incidents.iter().map(|i| i.id).collect();
        let mut timelines = self.timelines(&ids).await?;
        let with_events: Vec<_> = incidents
            .into_iter()
            .map(|i| {
                let events = timelines.remove(&i.id).unwrap_or_default();
                (i, events)
            })
            .collect();
        let targets = self.all_targets().await?;
        Ok(incident::mtta_mttr(&with_events, &targets, period, now))
    }

    pub(super) async fn counts(&self, actor: &Actor) -> Result<IncidentCounts> {
        let org = self.report_scope(actor, None)?;
        let snapshot = self.active_snapshot().await?;
        let targets = self.all_targets().await?;
        let now = self.now();
        let mut counts = IncidentCounts {
            active_by_severity: Severity::ALL
                .into_iter()
                .map(|severity| SeverityCount { severity, count: 0 })
                .collect(),
            at_risk: 0,
            breached: 0,
        };
        let scoped = snapshot
            .incidents
            .iter()
            .filter(|(i, _)| org.is_none_or(|o| i.org_id == Some(o)));
        for (i, timeline) in scoped {
            let sla =
                incident::sla_state(timeline, &incident::target_for(&targets, i.severity), now);
            if let Some(c) = counts
                .active_by_severity
                .iter_mut()
                .find(|c| c.severity == i.severity)
            {
                c.count += 1;
            }
            let clocks = [sla.response.status, sla.resolve.status];
            if clocks.contains(&ClockStatus::Breached) {
                counts.breached += 1;
            } else if clocks.contains(&ClockStatus::AtRisk) {
                counts.at_risk += 1;
            }
        }
        Ok(counts)
    }
}
