//! After a run, with faults off and every device synced: what the upstream's tables and each
//! replica say, checked against what each person was told was saved.
//!
//! - **Lost**: an acknowledged edit whose event is neither on its incident's upstream timeline
//!   (with its one audit event) nor listed on its device as rejected (with a reason) or a
//!   conflict (with the fields); also a pushed mutation's outcome with no audit event.
//! - **Duplicated**: an event recorded twice; a mutation audited twice, or applied without its
//!   outcome in the ledger (so it could be applied again); a timeline event no mutation made.
//! - **Diverged**: a replica whose incidents (id, version, status, severity, title, assignee)
//!   or timelines (event ids, in order) differ from the upstream's, or whose outbox would not
//!   empty of pending and applied entries.
//!
//! The upstream's truth is read with SQL from its tables (`incident_events`, `sync_results`,
//! `audit_events`) and through a `LocalPortal` over the same database. What the audit trail
//! holds for a pushed mutation (`portal/src/sync/local.rs`): an applied one, the incident's own
//! event (`entity_type = 'incident'`) whose `after.sync` names `client_id` and `mutation_id`;
//! one answered `already_applied` (its event id was applied by an earlier mutation), a rejected
//! one and a conflict, a `sync_mutation` event `<client_id>:<mutation_id>` with that action.

use crate::device::Device;
use domain::model::{IncidentFilter, MutationOutcome, OutboxState};
use domain::Actor;
use portal::prelude::*;
use portal::LocalPortal;
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use uuid::Uuid;

/// What the checks found.
#[derive(Debug, Default)]
pub struct Verdict {
    pub lost: u64,
    pub duplicated: u64,
    pub diverged: u64,
    /// Acknowledged edits applied upstream, rejected, in conflict.
    pub applied: u64,
    pub rejected: u64,
    pub conflicts: u64,
    /// Rejected or conflicting edits the person settled (not expected upstream any more).
    pub settled: u64,
    /// Mutations answered `already_applied` (a retry of an event applied before).
    pub already_applied: u64,
    /// Retries (same event id) the replica refused although the first attempt was saved.
    pub retries_refused_though_saved: u64,
    /// Each problem, in words.
    pub problems: Vec<String>,
    /// What is worth a look but breaks no rule.
    pub notes: Vec<String>,
}

impl Verdict {
    fn lost(&mut self, what: String) {
        self.lost += 1;
        self.problems.push(format!("LOST: {what}"));
    }
    fn duplicated(&mut self, what: String) {
        self.duplicated += 1;
        self.problems.push(format!("DUPLICATED: {what}"));
    }
    fn diverged(&mut self, what: String) {
        self.diverged += 1;
        self.problems.push(format!("DIVERGED: {what}"));
    }
}

/// One row of the upstream's ledger.
#[derive(Debug)]
struct Ledger {
    client: String,
    mutation: i64,
    incident: Uuid,
    event: Uuid,
    outcome: MutationOutcome,
}

fn uuid(s: &str) -> Uuid {
    Uuid::parse_str(s).unwrap_or_else(|e| panic!("`{s}` is not a uuid: {e}"))
}

/// (id, version, status, severity, title, assignee) of each incident, by id.
type Shown = BTreeMap<Uuid, (i64, String, String, String, Option<String>)>;

async fn shown(p: &dyn Incidents, who: &Actor) -> (Shown, BTreeMap<Uuid, Vec<Uuid>>) {
    let filter = IncidentFilter {
        limit: Some(500),
        ..Default::default()
    };
    let items = p.list_incidents(who, filter).await.expect("list").items;
    let mut incidents = Shown::new();
    let mut timelines = BTreeMap::new();
    for s in items {
        let i = s.incident;
        incidents.insert(
            i.id,
            (
                i.version,
                i.status.as_str().to_string(),
                i.severity.as_str().to_string(),
                i.title.clone(),
                i.assignee.clone(),
            ),
        );
        let d = p
            .get_incident(who, &i.id.to_string())
            .await
            .expect("detail");
        timelines.insert(i.id, d.timeline.iter().map(|e| e.id).collect());
    }
    (incidents, timelines)
}

pub async fn check(
    pool: &sqlx::AnyPool,
    upstream: &LocalPortal,
    admin: &Actor,
    seeded_events: &BTreeSet<Uuid>,
    devices: &[Device],
    settled: &[bool],
) -> Verdict {
    let mut v = Verdict::default();

    // The upstream's timelines.
    let mut events: HashMap<Uuid, (Uuid, u32)> = HashMap::new();
    for r in sqlx::query("SELECT id, incident_id FROM incident_events")
        .fetch_all(pool)
        .await
        .expect("incident_events")
    {
        let id = uuid(&r.get::<String, _>("id"));
        let incident = uuid(&r.get::<String, _>("incident_id"));
        events.entry(id).or_insert((incident, 0)).1 += 1;
    }
    for (e, (i, n)) in &events {
        if *n > 1 {
            v.duplicated(format!("event {e} is on incident {i}'s timeline {n} times"));
        }
    }

    // The ledger: every pushed mutation's outcome.
    let mut ledger = Vec::new();
    for r in sqlx::query(
        "SELECT client_id, mutation_id, incident_id, event_id, outcome FROM sync_results",
    )
    .fetch_all(pool)
    .await
    .expect("sync_results")
    {
        ledger.push(Ledger {
            client: r.get("client_id"),
            mutation: r.get("mutation_id"),
            incident: uuid(&r.get::<String, _>("incident_id")),
            event: uuid(&r.get::<String, _>("event_id")),
            outcome: serde_json::from_str(&r.get::<String, _>("outcome")).expect("an outcome"),
        });
    }

    // The audit trail: incident events made by a pushed mutation, and the other outcomes.
    let mut incident_audits: HashMap<(String, i64), u32> = HashMap::new();
    let mut mutation_audits: HashMap<String, Vec<String>> = HashMap::new();
    for r in sqlx::query(
        "SELECT entity_type, entity_id, action, after FROM audit_events \
         WHERE entity_type IN ('incident', 'sync_mutation')",
    )
    .fetch_all(pool)
    .await
    .expect("audit_events")
    {
        let entity: String = r.get("entity_type");
        let action: String = r.get("action");
        if entity == "sync_mutation" {
            mutation_audits
                .entry(r.get("entity_id"))
                .or_default()
                .push(action);
            continue;
        }
        let after: Option<String> = r.get("after");
        let after: serde_json::Value =
            serde_json::from_str(after.as_deref().unwrap_or("null")).expect("audit after");
        let sync = &after["sync"];
        if sync.is_null() {
            continue; // seeded through the portal, not pushed
        }
        let client = sync["client_id"]
            .as_str()
            .expect("sync.client_id")
            .to_string();
        let mutation = sync["mutation_id"].as_i64().expect("sync.mutation_id");
        *incident_audits.entry((client, mutation)).or_insert(0) += 1;
    }

    // One audit event per pushed mutation, of the kind its outcome says; which mutation made
    // each event.
    let mut made_by: HashMap<Uuid, Vec<(String, i64)>> = HashMap::new();
    let in_ledger: BTreeSet<(String, i64)> = ledger
        .iter()
        .map(|l| (l.client.clone(), l.mutation))
        .collect();
    for l in &ledger {
        let key = (l.client.clone(), l.mutation);
        let inc = incident_audits.get(&key).copied().unwrap_or(0);
        let other = mutation_audits
            .get(&format!("{}:{}", l.client, l.mutation))
            .cloned()
            .unwrap_or_default();
        let total = inc as usize + other.len();
        let name = format!("mutation {}:{}", l.client, l.mutation);
        if total == 0 {
            v.lost(format!("{name} ({:?}) has no audit event", l.outcome));
            continue;
        }
        if total > 1 {
            v.duplicated(format!(
                "{name} has {inc} incident audit events and {other:?} besides"
            ));
            continue;
        }
        let expected = match (&l.outcome, inc) {
            (MutationOutcome::Applied { .. }, 1) => None,
            (MutationOutcome::Applied { .. }, _) => Some("already_applied"),
            (MutationOutcome::Rejected { .. }, _) => Some("rejected"),
            (MutationOutcome::Conflict { .. }, _) => Some("conflict"),
        };
        match expected {
            None => {
                made_by.entry(l.event).or_default().push(key);
                if !events.contains_key(&l.event) {
                    v.lost(format!(
                        "{name} was applied and audited, but its event {} is on no timeline",
                        l.event
                    ));
                }
            }
            Some(action) if other.first().map(String::as_str) != Some(action) || inc > 0 => {
                v.lost(format!(
                    "{name} ({:?}) is audited as {other:?} (incident events: {inc})",
                    l.outcome
                ));
            }
            Some("already_applied") => v.already_applied += 1,
            Some(_) => {}
        }
    }
    for (key, n) in &incident_audits {
        if !in_ledger.contains(key) {
            v.duplicated(format!(
                "mutation {}:{} changed an incident ({n} audit events) but is not in the ledger",
                key.0, key.1
            ));
        }
    }
    for e in events.keys() {
        if seeded_events.contains(e) {
            continue;
        }
        match made_by.get(e).map_or(0, Vec::len) {
            1 => {}
            0 => v.duplicated(format!(
                "event {e} is on a timeline, but no audited mutation made it"
            )),
            n => v.duplicated(format!(
                "event {e} was made by {n} mutations: {:?}",
                made_by[e]
            )),
        }
    }

    // Every acknowledged edit: applied once, or listed as rejected or a conflict.
    for (d, ok) in devices.iter().zip(settled) {
        let st = d.replica().status().await.expect("status");
        if !ok {
            v.diverged(format!(
                "device {} did not settle: {} pending or applied-not-pulled, last error {:?}",
                d.idx, st.pending, st.last_error
            ));
        }
        let outbox: HashMap<Uuid, _> = st
            .entries
            .iter()
            .map(|e| (e.mutation.event_id, e))
            .collect();
        for (e, why) in &d.refused_retries {
            let saved = events.contains_key(e) || outbox.contains_key(e);
            if saved {
                v.retries_refused_though_saved += 1;
                v.notes.push(format!(
                    "device {} retried event {e} ({why}), already saved: refused",
                    d.idx
                ));
            }
        }
        let mut seen: BTreeSet<Uuid> = d.settled.iter().copied().collect();
        v.settled += d.settled.len() as u64;
        for ack in &d.acks {
            if !seen.insert(ack.event_id) {
                continue; // a retry with the same event id, answered "saved" again
            }
            let who = format!(
                "device {} ({}) {} on {} (event {})",
                d.idx, d.actor.id, ack.what, ack.incident, ack.event_id
            );
            if let Some((incident, _)) = events.get(&ack.event_id) {
                if *incident != ack.incident {
                    v.lost(format!("{who} is on incident {incident}'s timeline"));
                } else {
                    v.applied += 1;
                }
                continue;
            }
            match outbox.get(&ack.event_id) {
                Some(e)
                    if e.state == OutboxState::Rejected
                        && e.reason.as_deref().is_some_and(|r| !r.is_empty()) =>
                {
                    v.rejected += 1
                }
                Some(e) if e.state == OutboxState::Conflict && !e.conflicts.is_empty() => {
                    v.conflicts += 1
                }
                other => {
                    let upstream = ledger
                        .iter()
                        .filter(|l| l.incident == ack.incident)
                        .map(|l| format!("{}:{} {} {:?}", l.client, l.mutation, l.event, l.outcome))
                        .collect::<Vec<_>>();
                    let timeline: Vec<&Uuid> = events
                        .iter()
                        .filter(|(_, (i, _))| *i == ack.incident)
                        .map(|(e, _)| e)
                        .collect();
                    v.lost(format!(
                        "{who}: not upstream, outbox: {:?}; device client id {}; the incident's ledger: {upstream:?}; its events upstream: {timeline:?}",
                        other.map(|e| (e.mutation.mutation_id, e.state, &e.reason)),
                        st.client_id
                    ));
                }
            }
        }
    }

    // Every replica equals the upstream.
    let (up, up_timelines) = shown(upstream, admin).await;
    for d in devices {
        let (mine, my_timelines) = shown(&**d.replica(), &d.actor).await;
        if mine != up {
            let differ: Vec<String> = up
                .keys()
                .chain(mine.keys())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .filter(|id| up.get(id) != mine.get(id))
                .map(|id| {
                    format!(
                        "{id}: upstream {:?}, replica {:?}",
                        up.get(id),
                        mine.get(id)
                    )
                })
                .collect();
            v.diverged(format!("device {}'s incidents: {differ:?}", d.idx));
        } else if my_timelines != up_timelines {
            let differ: Vec<&Uuid> = up_timelines
                .keys()
                .filter(|id| up_timelines.get(id) != my_timelines.get(id))
                .collect();
            v.diverged(format!("device {}'s timelines of {differ:?}", d.idx));
        }
    }
    v
}
