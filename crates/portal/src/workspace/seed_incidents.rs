//! Demo incidents: three weeks of them across the demo organisations and severities — most
//! resolved or closed, with comments and escalations, and a few live: two breached, two at
//! risk, one waiting on the customer, one reopened — so every incident widget shows something.
//!
//! Written through the Portal at the end of the seed (its clock is then "now"): each change
//! carries the moment it happened (`occurred_at`), as a change made offline would, so the SLA
//! clocks and MTTA / MTTR come out as if the incidents had been worked over those weeks.

use crate::incidents::NewComment;
use crate::prelude::*;
use crate::LocalPortal;
use domain::error::Result;
use domain::model::{
    Client, EscalationCondition, EscalationStep, EscalationTarget, IncidentChange,
    IncidentCommand as C, OpenIncident, PolicyInput, Severity,
};
use domain::{Actor, ActorType, Role, Timestamp};
use rand::rngs::StdRng;
use rand::Rng;
use uuid::Uuid;

const MIN: i64 = 60;
const HOUR: i64 = 3600;

const TITLES: &[&str] = &[
    "Checkout fails with 502 for EU customers",
    "SSO login loops back to the sign-in page",
    "Webhook deliveries delayed by 20 minutes",
    "Invoice PDFs render without line items",
    "API latency p99 above 2 s",
    "Dashboard charts show no data after midnight UTC",
    "Password reset emails not arriving",
    "Partner key verification returns 401 for valid keys",
    "CSV export times out for large organisations",
    "Mobile app cannot refresh tokens",
    "Search results missing recently created records",
    "Billing sync stuck on one organisation",
];

const COMMENTS: &[&str] = &[
    "Looking into it now.",
    "Reproduced on staging; the upstream provider is returning errors.",
    "Customer confirms the workaround helps.",
    "Rolled back the last deploy; watching the error rate.",
    "Root cause found: an expired certificate on the edge proxy.",
    "Asked the customer for a HAR file.",
];

fn lead() -> Actor {
    Actor {
        id: "local:sam".into(),
        name: "sam".into(),
        actor_type: ActorType::User,
        role: Role::Support,
        ip: Some("10.0.0.7".into()),
        ua: Some("padmin seed".into()),
        request_id: None,
    }
}

/// One incident's script: opened `ago` seconds before now, then each step `(after, change)`
/// seconds after opening.
struct Script {
    ago: i64,
    severity: Severity,
    steps: Vec<(i64, C)>,
}

fn comment(rng: &mut StdRng) -> C {
    C::Comment {
        text: COMMENTS[rng.gen_range(0..COMMENTS.len())].into(),
    }
}

/// Returns how many incidents it opened.
pub(super) async fn seed(
    portal: &LocalPortal,
    admin: &Actor,
    clients: &[Client],
    now: Timestamp,
    rng: &mut StdRng,
) -> Result<u32> {
    portal
        .create_escalation_policy(
            admin,
            PolicyInput {
                name: "Default escalation".into(),
                org_id: None,
                rules: vec![
                    EscalationStep {
                        after_mins: 10,
                        condition: EscalationCondition::Unacknowledged,
                        targets: vec![EscalationTarget::Role {
                            role: "support".into(),
                        }],
                        repeat: 2,
                        repeat_every_mins: Some(10),
                        min_severity: Severity::Sev3,
                    },
                    EscalationStep {
                        after_mins: 30,
                        condition: EscalationCondition::Unresolved,
                        targets: vec![EscalationTarget::User {
                            id: "local:alice".into(),
                        }],
                        repeat: 0,
                        repeat_every_mins: None,
                        min_severity: Severity::Sev1,
                    },
                ],
            },
        )
        .await?;
    if let Some(vip) = clients.first() {
        portal
            .create_escalation_policy(
                admin,
                PolicyInput {
                    name: format!("{} (premium support)", vip.name),
                    org_id: Some(vip.id),
                    rules: vec![EscalationStep {
                        after_mins: 5,
                        condition: EscalationCondition::Unacknowledged,
                        targets: vec![EscalationTarget::User {
                            id: "local:sam".into(),
                        }],
                        repeat: 3,
                        repeat_every_mins: Some(5),
                        min_severity: Severity::Sev4,
                    }],
                },
            )
            .await?;
    }

    let mut scripts = Vec::new();
    // Three weeks of worked incidents.
    for k in 0..22 {
        let severity = Severity::ALL[rng.gen_range(0..4)];
        let ack = rng.gen_range(3..45) * MIN;
        let mut resolve = ack + rng.gen_range(1..30) * HOUR / 2;
        if k % 3 == 0 {
            // Waits on the customer for two hours first.
            resolve = resolve.max(ack + 3 * HOUR);
        }
        let mut steps = vec![(ack / 2, comment(rng)), (ack, C::Acknowledge)];
        if k % 3 == 0 {
            steps.push((ack + 10 * MIN, C::Wait));
            steps.push((ack + 2 * HOUR, C::Resume));
        }
        steps.push((resolve - 5 * MIN, comment(rng)));
        steps.push((resolve, C::Resolve));
        if k % 2 == 0 {
            steps.push((resolve + 6 * HOUR, C::Close));
        }
        scripts.push(Script {
            ago: (21 * 24 - k * 22) * HOUR,
            severity,
            steps,
        });
    }
    // Live ones: breached, at risk, waiting, reopened, fresh.
    scripts.extend([
        Script {
            ago: 50 * MIN,
            severity: Severity::Sev1,
            steps: vec![(5 * MIN, comment(rng))],
        },
        Script {
            ago: 10 * HOUR,
            severity: Severity::Sev2,
            steps: vec![(20 * MIN, C::Acknowledge), (HOUR, comment(rng))],
        },
        Script {
            ago: 12 * MIN,
            severity: Severity::Sev1,
            steps: vec![],
        },
        Script {
            ago: 3 * HOUR + 15 * MIN,
            severity: Severity::Sev3,
            steps: vec![],
        },
        Script {
            ago: 6 * HOUR,
            severity: Severity::Sev3,
            steps: vec![
                (30 * MIN, C::Acknowledge),
                (HOUR, comment(rng)),
                (HOUR + 5 * MIN, C::Wait),
            ],
        },
        Script {
            ago: 2 * 24 * HOUR,
            severity: Severity::Sev2,
            steps: vec![
                (15 * MIN, C::Acknowledge),
                (3 * HOUR, C::Resolve),
                (40 * HOUR, C::Reopen),
                (40 * HOUR + 10 * MIN, comment(rng)),
            ],
        },
        Script {
            ago: 25 * MIN,
            severity: Severity::Sev4,
            steps: vec![(2 * MIN, C::Acknowledge)],
        },
    ]);

    let people = [admin.clone(), lead()];
    let mut opened = 0;
    for (n, script) in scripts.into_iter().enumerate() {
        let at = |secs: i64| Some(Timestamp::from_millis(now.millis() - secs * 1000));
        let org = (n % 5 != 4).then(|| clients[(n * 7) % clients.len()].id);
        let detail = portal
            .open_incident(
                &people[n % 2],
                OpenIncident {
                    id: Some(Uuid::now_v7()),
                    title: TITLES[n % TITLES.len()].into(),
                    severity: script.severity,
                    org_id: org,
                    impact_started_at: None,
                    occurred_at: at(script.ago),
                },
            )
            .await?;
        opened += 1;
        let id = detail.incident.id.to_string();
        for (after, command) in script.steps {
            let when = at(script.ago - after);
            let who = &people[(n + after as usize) % 2];
            match command {
                C::Comment { text } => {
                    portal
                        .comment_incident(
                            who,
                            &id,
                            NewComment {
                                text,
                                event_id: None,
                                occurred_at: when,
                            },
                        )
                        .await?;
                }
                command => {
                    if matches!(command, C::Acknowledge) {
                        portal
                            .change_incident(
                                who,
                                &id,
                                IncidentChange::now(C::Assign {
                                    assignee: Some(who.id.clone()),
                                })
                                .at(when),
                            )
                            .await?;
                    }
                    portal
                        .change_incident(who, &id, IncidentChange::now(command).at(when))
                        .await?;
                }
            }
        }
    }
    // The server's job records what fell due meanwhile (SLA notices, escalations).
    portal
        .run_named(crate::jobs::ESCALATIONS, "demo seed")
        .await?;
    Ok(opened)
}
