//! Test generators: valid random timelines, built by [`super::apply`] itself (so only valid
//! transitions occur), and shuffles of them.

use super::{apply, open, Change};
use crate::clock::Timestamp;
use crate::model::{
    Incident, IncidentCommand, IncidentEvent, IncidentStatus, NewIncident, Severity,
};
use proptest::prelude::*;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use uuid::Uuid;

/// The instant every generated incident opens.
pub const T0: i64 = 1_800_000_000_000;
pub const MIN: i64 = 60_000;

pub fn at(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

/// One step of a script: after `delta` ms, a command chosen by index among those the status
/// allows, or a given one.
#[derive(Debug, Clone)]
pub enum Step {
    Pick(u32, u8),
    Do(u32, IncidentCommand),
}

/// An incident and its timeline, in the order it happened.
#[derive(Debug, Clone)]
pub struct Built {
    pub incident: Incident,
    pub events: Vec<IncidentEvent>,
    /// When the last event occurred.
    pub end: i64,
}

fn choices(i: &Incident) -> Vec<IncidentCommand> {
    use IncidentCommand as C;
    use IncidentStatus as S;
    // Transitions are listed twice, so timelines move along more than they chatter.
    let transitions: Vec<C> = match i.status {
        S::Open => vec![C::Acknowledge, C::Resolve],
        S::Acknowledged => vec![C::Wait, C::Resolve],
        S::Waiting => vec![C::Resume, C::Resolve],
        S::Resolved => vec![C::Close, C::Reopen],
        S::Closed => vec![C::Reopen],
    };
    let mut all = transitions.clone();
    all.extend(transitions);
    all.push(C::Comment {
        text: "looking".into(),
    });
    if i.status != S::Closed {
        let other = Severity::ALL
            .into_iter()
            .find(|s| *s != i.severity)
            .unwrap_or(Severity::Sev1);
        all.push(C::ChangeSeverity { severity: other });
        all.push(C::Assign {
            assignee: Some(format!("user:{}", i.version)),
        });
    }
    all
}

/// Plays `script` from an incident opened at [`T0`] (its impact `impact_before` ms earlier).
pub fn build(severity: Severity, impact_before: Option<u32>, script: &[Step]) -> Built {
    let new = NewIncident {
        id: Uuid::from_u128(1),
        title: "Generated".into(),
        severity,
        org_id: None,
        impact_started_at: impact_before.map(|b| at(T0 - i64::from(b))),
    };
    let mut n: u128 = 100;
    let mut change = |occurred: i64, recorded: i64, base: i64| {
        n += 1;
        Change {
            event_id: Uuid::from_u128(n),
            actor_id: "user:gen".into(),
            actor_name: "Gen".into(),
            occurred_at: at(occurred),
            recorded_at: at(recorded),
            base_version: base,
        }
    };
    let (mut incident, first) = open(&new, &change(T0, T0, 0)).expect("a valid opening");
    let mut events = vec![first];
    let (mut t, mut recorded) = (T0, T0);
    for step in script {
        let (delta, command) = match step {
            Step::Pick(delta, choice) => {
                let c = choices(&incident);
                (*delta, c[usize::from(*choice) % c.len()].clone())
            }
            Step::Do(delta, command) => (*delta, command.clone()),
        };
        t += i64::from(delta);
        recorded = recorded.max(t) + 1;
        let (next, event) = apply(&incident, &command, &change(t, recorded, incident.version))
            .expect("the script only plays valid commands");
        incident = next;
        events.push(event);
    }
    Built {
        incident,
        events,
        end: t,
    }
}

pub fn severity() -> impl Strategy<Value = Severity> {
    prop::sample::select(Severity::ALL.to_vec())
}

/// Mostly minutes to hours apart, sometimes at the same millisecond.
pub fn delta() -> impl Strategy<Value = u32> {
    prop_oneof![1 => Just(0u32), 9 => 0u32..(6 * 60 * 60_000)]
}

pub fn script(max: usize) -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        (delta(), any::<u8>()).prop_map(|(d, c)| Step::Pick(d, c)),
        0..max,
    )
}

pub fn impact() -> impl Strategy<Value = Option<u32>> {
    prop::option::of(0u32..(60 * 60_000))
}

/// A valid random timeline.
pub fn timeline() -> impl Strategy<Value = Built> {
    (severity(), impact(), script(24)).prop_map(|(s, i, script)| build(s, i, &script))
}

/// The events in an order fixed by `seed`.
pub fn shuffled(events: &[IncidentEvent], seed: u64) -> Vec<IncidentEvent> {
    let mut v = events.to_vec();
    v.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
    v
}
