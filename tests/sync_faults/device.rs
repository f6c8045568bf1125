//! A simulated device: one person's `portal::Replica` over its own SQLite file, syncing with the
//! server through its own fault-injecting proxy. Its task edits the shared incidents at random,
//! syncs now and then, and gets killed: mid-sync (the sync task aborted), mid-edit (the edit
//! task aborted, then — as a front end would — retried with the same event id), or between two
//! steps; after each kill the replica is reopened from its file, outbox and all.
//!
//! Every edit the replica answered `Ok` is *acknowledged*: the person was told "saved". The
//! harness keeps each acknowledged edit's event id (chosen here, as the front end does, or —
//! when the edit is made without one — read from the newest outbox entry).

use crate::proxy::{Faults, Proxy};
use domain::model::{
    IncidentChange, IncidentCommand as C, IncidentDetail, IncidentFilter, OpenIncident,
    OutboxState, Severity,
};
use domain::{Actor, ActorType, Clock, Role, SystemClock};
use portal::incidents::NewComment;
use portal::prelude::*;
use portal::Replica;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// The people, one per device.
const PEOPLE: [(&str, Role); 6] = [
    ("user:ana", Role::Support),
    ("user:bo", Role::Provider),
    ("user:cy", Role::Support),
    ("user:di", Role::Provider),
    ("user:ed", Role::Support),
    ("user:flo", Role::Provider),
];

pub fn person(k: usize) -> Actor {
    let (id, role) = PEOPLE[k % PEOPLE.len()];
    Actor {
        id: id.into(),
        name: id.trim_start_matches("user:").into(),
        actor_type: ActorType::User,
        role,
        ip: None,
        ua: Some("sync-faults".into()),
        request_id: None,
    }
}

/// One edit the person was told was saved.
#[derive(Debug, Clone)]
pub struct Ack {
    pub event_id: Uuid,
    pub incident: Uuid,
    pub what: String,
}

/// What a device did in a run.
#[derive(Debug, Default, Clone)]
pub struct DeviceStats {
    pub acked: u32,
    pub refused_locally: u32,
    pub syncs_ok: u32,
    pub syncs_failed: u32,
    pub kills: u32,
    pub retries_acked: u32,
}

#[derive(Debug, Clone)]
enum Edit {
    Comment(String),
    Change(C),
    Open(OpenIncident),
}

impl Edit {
    fn name(&self) -> String {
        match self {
            Edit::Comment(_) => "comment".into(),
            Edit::Change(c) => {
                domain::sync::summary(&domain::model::MutationOp::ChangeIncident(c.clone()))
            }
            Edit::Open(o) => format!("open {}", o.title),
        }
    }
}

pub struct Device {
    pub idx: usize,
    pub actor: Actor,
    path: PathBuf,
    upstream: Arc<dyn Portal>,
    /// `None` only while the device is "dead" between a kill and the restart.
    replica: Option<Arc<Replica>>,
    rng: StdRng,
    pub acks: Vec<Ack>,
    pub stats: DeviceStats,
    /// Edits killed mid-way that the front end will retry later (after syncs, maybe).
    later: Vec<Retry>,
    /// Retried edits the replica refused: their event id and what it said.
    pub refused_retries: Vec<(Uuid, String)>,
    /// Rejected or conflicting edits the person settled (dismissed, or queued again as new).
    pub settled: Vec<Uuid>,
    /// A sync running in the background while the person goes on editing (as the app's loop).
    background: Option<tokio::task::JoinHandle<()>>,
    _proxy: Proxy,
}

/// An edit to retry: the incident, the edit, its event id.
type Retry = (Uuid, Edit, Option<Uuid>);

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("idx", &self.idx)
            .field("actor", &self.actor.id)
            .finish_non_exhaustive()
    }
}

fn clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// Each device's replica key (the desktop keeps its own in the OS keychain).
fn device_key(idx: usize) -> store::ReplicaKey {
    store::ReplicaKey::from_bytes([u8::try_from(idx).unwrap_or(u8::MAX).wrapping_add(1); 32])
}

impl Device {
    pub async fn open(
        idx: usize,
        dir: &std::path::Path,
        issuer: Arc<stories::remote::TestIssuer>,
        faults: Arc<Faults>,
        seed: u64,
    ) -> Device {
        let proxy = Proxy::start(faults, seed ^ 0x5eed_0000_0000_0001).await;
        let upstream: Arc<dyn Portal> = Arc::new(
            client::RemotePortal::new(&proxy.url, Arc::new(stories::remote::MintedTokens(issuer)))
                .expect("remote portal"),
        );
        let actor = person(idx);
        let path = dir.join(format!("device-{idx}.sqlite"));
        let replica = Some(Arc::new(
            Replica::open(
                &path,
                &device_key(idx),
                actor.clone(),
                upstream.clone(),
                clock(),
            )
            .await
            .expect("the replica opens"),
        ));
        Device {
            idx,
            actor,
            path,
            upstream,
            replica,
            rng: StdRng::seed_from_u64(seed),
            acks: Vec::new(),
            stats: DeviceStats::default(),
            later: Vec::new(),
            refused_retries: Vec::new(),
            settled: Vec::new(),
            background: None,
            _proxy: proxy,
        }
    }

    /// With `SYNC_FAULT_TRACE` set, says what the device does.
    async fn trace(&self, what: &str) {
        if std::env::var_os("SYNC_FAULT_TRACE").is_none() {
            return;
        }
        let outbox = match &self.replica {
            Some(r) => match r.status().await {
                Ok(st) => st
                    .entries
                    .iter()
                    .map(|e| format!("{}:{}", e.mutation.mutation_id, e.state.as_str()))
                    .collect::<Vec<_>>()
                    .join(" "),
                Err(e) => format!("status: {e}"),
            },
            None => "-".into(),
        };
        println!("    device {}: {what} [outbox {outbox}]", self.idx);
    }

    pub fn replica(&self) -> &Arc<Replica> {
        self.replica.as_ref().expect("the device is running")
    }

    /// Kills the device (drops its replica: nothing else holds it) and starts it again from
    /// its file.
    async fn reopen(&mut self) {
        self.stop_background(true).await;
        self.replica = None;
        let fresh = loop {
            match Replica::open(
                &self.path,
                &device_key(self.idx),
                self.actor.clone(),
                self.upstream.clone(),
                clock(),
            )
            .await
            {
                Ok(r) => break r,
                // The killed replica's connection may still be closing.
                Err(e) if e.code() == domain::ErrorCode::Unavailable => sleep_ms(20).await,
                Err(e) => panic!("device {} cannot reopen its replica: {e}", self.idx),
            }
        };
        self.replica = Some(Arc::new(fresh));
        self.stats.kills += 1;
        self.trace("killed and restarted").await;
    }

    /// The device's task: `steps` random steps while the faults are on.
    pub async fn work(mut self, steps: u32) -> Device {
        for _ in 0..steps {
            if !self.later.is_empty() && self.rng.gen_bool(0.3) {
                let r = self.later.remove(0);
                self.retry(r).await;
            }
            match self.rng.gen_range(0..100) {
                0..=57 => {
                    let (incident, edit) = self.draw_edit().await;
                    // Opening takes no event id (the replica makes one).
                    let event_id = self.rng.gen_bool(0.7).then(Uuid::now_v7);
                    let event_id = event_id.filter(|_| !matches!(edit, Edit::Open(_)));
                    self.edit(incident, edit, event_id).await;
                }
                58..=67 => self.sync().await,
                68..=75 => self.sync_in_background(),
                76..=81 => self.kill_mid_sync().await,
                82..=87 => self.kill_mid_edit().await,
                88..=90 => self.reopen().await,
                91..=93 => self.settle_one().await,
                _ => sleep_ms(self.rng.gen_range(0..80)).await,
            }
        }
        self.stop_background(false).await;
        if !self.later.is_empty() {
            // Late retries, after a sync: the first attempt, if it was saved, is upstream now.
            self.sync().await;
            for r in std::mem::take(&mut self.later) {
                self.retry(r).await;
            }
        }
        self
    }

    /// Starts a sync that runs while the person goes on editing (none if one is running).
    fn sync_in_background(&mut self) {
        if self.background.as_ref().is_some_and(|b| !b.is_finished()) {
            return;
        }
        let replica = self.replica().clone();
        self.background = Some(tokio::task::spawn_local(async move {
            let _ = replica.sync_now().await;
        }));
    }

    /// Waits for the background sync to end, or (a kill) stops it where it is.
    async fn stop_background(&mut self, kill: bool) {
        if let Some(b) = self.background.take() {
            if kill {
                b.abort();
            }
            let _ = b.await;
        }
    }

    /// The person settles a rejected or conflicting edit: dismisses it ("take theirs") or
    /// queues it again as a new edit ("keep mine").
    async fn settle_one(&mut self) {
        // The new edit is found as the newest outbox entry: nothing may sync meanwhile.
        self.stop_background(false).await;
        let st = self.replica().status().await.expect("status");
        let waiting: Vec<_> = st
            .entries
            .iter()
            .filter(|e| matches!(e.state, OutboxState::Rejected | OutboxState::Conflict))
            .collect();
        if waiting.is_empty() {
            return;
        }
        let e = waiting[self.rng.gen_range(0..waiting.len())];
        let keep_mine = self.rng.gen_bool(0.5);
        let (mid, old, state) = (e.mutation.mutation_id, e.mutation.event_id, e.state);
        let before = st.entries.iter().map(|e| e.mutation.mutation_id).max();
        match self.replica().settle(mid, keep_mine).await {
            Ok(()) => {
                self.settled.push(old);
                let st = self.replica().status().await.expect("status");
                let new = st
                    .entries
                    .iter()
                    .filter(|n| Some(n.mutation.mutation_id) > before)
                    .max_by_key(|n| n.mutation.mutation_id);
                if let Some(n) = new.filter(|_| keep_mine) {
                    self.acks.push(Ack {
                        event_id: n.mutation.event_id,
                        incident: n.mutation.incident_id,
                        what: format!("{} (kept after {})", n.summary, state.as_str()),
                    });
                    self.stats.acked += 1;
                }
                self.trace(&format!("settled {mid} keep_mine={keep_mine}"))
                    .await;
            }
            // "Keep mine" re-applies the edit on the device, which may refuse it now.
            Err(err) => {
                self.trace(&format!("settling {mid} refused: {err}")).await;
            }
        }
    }

    async fn sync(&mut self) {
        match self.replica().sync_now().await {
            Ok(r) => {
                self.stats.syncs_ok += 1;
                self.trace(&format!("synced {r:?}")).await;
            }
            Err(e) => {
                self.stats.syncs_failed += 1;
                self.trace(&format!("sync failed: {e}")).await;
            }
        }
    }

    /// A sync aborted at a random point (a crash or a force-quit), then the app starts again.
    async fn kill_mid_sync(&mut self) {
        let after = Duration::from_millis(self.rng.gen_range(0..120));
        {
            // Dropping the sync's future at the deadline stops it at whatever it awaits then.
            let replica = self.replica().clone();
            let sync = replica.sync_now();
            let r = tokio::time::timeout(after, sync).await;
            self.trace(&format!("sync killed after {after:?}: {r:?}"))
                .await;
        }
        self.reopen().await;
    }

    /// An edit aborted at a random point; after the restart the front end may retry it with the
    /// same event id (which must not record it twice).
    async fn kill_mid_edit(&mut self) {
        let (incident, edit) = self.draw_edit().await;
        let event_id = match edit {
            Edit::Open(_) => None,
            _ => Some(Uuid::now_v7()),
        };
        let (replica, actor, e) = (self.replica().clone(), self.actor.clone(), edit.clone());
        let task =
            tokio::spawn(async move { apply(&replica, &actor, incident, e, event_id).await });
        // An edit is a local transaction of a few milliseconds: abort somewhere inside it — or
        // (3) after it, the answer lost on its way to the front end.
        match self.rng.gen_range(0..4) {
            0 => {
                for _ in 0..self.rng.gen_range(0..12) {
                    tokio::task::yield_now().await;
                }
            }
            1 => sleep_ms(self.rng.gen_range(1..5)).await,
            2 => sleep_ms(self.rng.gen_range(5..25)).await,
            _ => {
                for _ in 0..200 {
                    if task.is_finished() {
                        break;
                    }
                    sleep_ms(2).await;
                }
            }
        }
        task.abort();
        let r = task.await;
        self.trace(&format!(
            "{} ({event_id:?}) on {incident} killed: {}",
            edit.name(),
            match r {
                Ok(Ok(_)) => "done".to_string(),
                Ok(Err(e)) => e.to_string(),
                Err(_) => "aborted".into(),
            }
        ))
        .await;
        self.reopen().await;
        if event_id.is_some() {
            match self.rng.gen_range(0..10) {
                0..=4 => self.retry((incident, edit, event_id)).await,
                5..=8 => self.later.push((incident, edit, event_id)),
                _ => {}
            }
        }
    }

    /// The front end retries an edit whose answer it never got, with the same event id.
    async fn retry(&mut self, (incident, edit, event_id): Retry) {
        let what = edit.name();
        match self.try_edit(incident, edit, event_id).await {
            Ok(()) => self.stats.retries_acked += 1,
            Err(why) => {
                if let Some(e) = event_id {
                    self.refused_retries.push((e, format!("{what}: {why}")));
                }
            }
        }
    }

    /// Makes one edit; records it as acknowledged when the replica says it was saved.
    async fn edit(&mut self, incident: Uuid, edit: Edit, event_id: Option<Uuid>) -> bool {
        self.try_edit(incident, edit, event_id).await.is_ok()
    }

    async fn try_edit(
        &mut self,
        incident: Uuid,
        edit: Edit,
        event_id: Option<Uuid>,
    ) -> Result<(), String> {
        if event_id.is_none() {
            // Its id is read from the newest outbox entry after: nothing may sync meanwhile.
            self.stop_background(false).await;
        }
        let what = edit.name();
        match apply(self.replica(), &self.actor, incident, edit, event_id).await {
            Ok(_) => {
                let event_id = match event_id {
                    Some(e) => e,
                    None => {
                        // The edit just recorded is the newest outbox entry.
                        let st = self.replica().status().await.expect("status");
                        let newest = st
                            .entries
                            .iter()
                            .max_by_key(|e| e.mutation.mutation_id)
                            .expect("an edit saved without an id is in the outbox");
                        assert_eq!(newest.mutation.incident_id, incident);
                        newest.mutation.event_id
                    }
                };
                self.acks.push(Ack {
                    event_id,
                    incident,
                    what: what.clone(),
                });
                self.stats.acked += 1;
                self.trace(&format!("{what} on {incident} saved as {event_id}"))
                    .await;
                Ok(())
            }
            Err(e) => {
                self.stats.refused_locally += 1;
                self.trace(&format!("{what} on {incident} refused: {e}"))
                    .await;
                Err(e.to_string())
            }
        }
    }

    /// A random incident the device shows, and a random edit of it (sometimes a new incident).
    async fn draw_edit(&mut self) -> (Uuid, Edit) {
        let shown: Vec<Uuid> = self
            .replica()
            .list_incidents(
                &self.actor,
                IncidentFilter {
                    limit: Some(200),
                    ..Default::default()
                },
            )
            .await
            .map(|p| p.items.into_iter().map(|s| s.incident.id).collect())
            .unwrap_or_default();
        let r = &mut self.rng;
        if shown.is_empty() || r.gen_range(0..100) < 3 {
            let id = Uuid::now_v7();
            let open = OpenIncident {
                id: Some(id),
                title: format!("Opened on device {} #{}", self.idx, r.gen_range(0..1000)),
                severity: pick_severity(r),
                org_id: None,
                impact_started_at: None,
                occurred_at: None,
            };
            return (id, Edit::Open(open));
        }
        let incident = shown[r.gen_range(0..shown.len())];
        let edit = match r.gen_range(0..100) {
            0..=24 => Edit::Comment(format!("note {} from {}", r.gen_range(0..10_000), self.idx)),
            25..=34 => Edit::Change(C::Acknowledge),
            35..=45 => Edit::Change(C::Assign {
                assignee: r
                    .gen_bool(0.8)
                    .then(|| PEOPLE[r.gen_range(0..PEOPLE.len())].0.to_string()),
            }),
            46..=56 => Edit::Change(C::ChangeSeverity {
                severity: pick_severity(r),
            }),
            57..=67 => Edit::Change(C::Rename {
                title: format!("Checkout fails ({})", r.gen_range(0..100)),
            }),
            68..=73 => Edit::Change(C::Wait),
            74..=79 => Edit::Change(C::Resume),
            80..=87 => Edit::Change(C::Resolve),
            88..=94 => Edit::Change(C::Reopen),
            _ => Edit::Change(C::Close),
        };
        (incident, edit)
    }
}

/// Syncs until the outbox holds nothing pending or applied-not-pulled (faults off), at most
/// `tries` times. Returns whether it got there.
pub async fn settle(replica: &Replica, tries: u32) -> bool {
    for _ in 0..tries {
        let ok = replica.sync_now().await.is_ok();
        let st = replica.status().await.expect("status");
        if ok && st.pending == 0 {
            return true;
        }
        sleep_ms(50).await;
    }
    false
}

fn pick_severity(r: &mut StdRng) -> Severity {
    Severity::ALL[r.gen_range(0..Severity::ALL.len())]
}

async fn apply(
    replica: &Replica,
    actor: &Actor,
    incident: Uuid,
    edit: Edit,
    event_id: Option<Uuid>,
) -> domain::error::Result<IncidentDetail> {
    let id = incident.to_string();
    match edit {
        Edit::Comment(text) => {
            replica
                .comment_incident(
                    actor,
                    &id,
                    NewComment {
                        text,
                        event_id,
                        occurred_at: None,
                    },
                )
                .await
        }
        Edit::Change(command) => {
            let mut change = IncidentChange::now(command);
            change.event_id = event_id;
            replica.change_incident(actor, &id, change).await
        }
        Edit::Open(open) => replica.open_incident(actor, open).await,
    }
}
