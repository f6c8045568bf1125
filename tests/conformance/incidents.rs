//! Incidents: the life of one (open → comment → acknowledge → assign → wait → resolve → close →
//! reopen), its timeline, SLA clocks and audit trail; retries by id; lists, filters and pages;
//! who sees what; SLA targets and escalation policies; the report and the counts.

use crate::actions;
use domain::model::{
    ClockStatus, EscalationTarget, IncidentChange, IncidentCommand as C, IncidentCounts,
    IncidentFilter, IncidentStatus, MetricsQuery, OpenIncident, PolicyInput, Severity, SlaFilter,
    SlaTarget, StatusFilter,
};
use domain::{Clock, ErrorCode, Role};
use portal::incidents::NewComment;
use portal::NewClient;
use stories::{admin, on_every_portal, portal, TestDb, TestPortal};
use uuid::Uuid;

const MIN: i64 = 60;

fn opening(title: &str, severity: Severity, org: Option<Uuid>) -> OpenIncident {
    OpenIncident {
        id: None,
        title: title.into(),
        severity,
        org_id: org,
        impact_started_at: None,
        occurred_at: None,
    }
}

/// A client organisation named `name` (the incident stories' fixture).
pub(crate) async fn org(p: &TestPortal, name: &str) -> Uuid {
    p.create_client(
        &admin(),
        NewClient {
            name: name.into(),
            plan: "pro".into(),
            status: "active".into(),
        },
        None,
    )
    .await
    .expect("client")
    .id
}

fn now(c: C) -> IncidentChange {
    IncidentChange::now(c)
}

async fn an_incident_lives_its_whole_life_on_its_timeline(db: &TestDb) {
    let (p, clock) = portal(db).await;
    let a = admin();
    let acme = org(&p, "Acme").await;
    let id = Uuid::now_v7();
    let opened = p
        .open_incident(
            &a,
            OpenIncident {
                id: Some(id),
                ..opening(
                    "Checkout fails for EU customers",
                    Severity::Sev2,
                    Some(acme),
                )
            },
        )
        .await
        .unwrap();
    assert_eq!(opened.incident.id, id, "the client's id is kept");
    assert_eq!(opened.incident.status, IncidentStatus::Open);
    assert_eq!(opened.incident.version, 1);
    assert_eq!(opened.incident.created_by, p.actor_id(&a));
    assert_eq!(opened.sla.response.status, ClockStatus::Running);

    // Opening again with the same id and fields is a retry; other fields are a clash.
    let again = p
        .open_incident(
            &a,
            OpenIncident {
                id: Some(id),
                ..opening(
                    "Checkout fails for EU customers",
                    Severity::Sev2,
                    Some(acme),
                )
            },
        )
        .await
        .unwrap();
    assert_eq!(again.incident.version, 1, "a retried opening adds nothing");
    let clash = p
        .open_incident(
            &a,
            OpenIncident {
                id: Some(id),
                ..opening("Something else", Severity::Sev2, Some(acme))
            },
        )
        .await
        .unwrap_err();
    assert_eq!(clash.code(), ErrorCode::Conflict, "{clash}");

    let sid = id.to_string();
    clock.advance_secs(5 * MIN);
    let comment_id = Uuid::now_v7();
    let comment = NewComment {
        text: "Payments provider reports elevated errors".into(),
        event_id: Some(comment_id),
        occurred_at: None,
    };
    p.comment_incident(&a, &sid, comment.clone()).await.unwrap();
    let malformed = NewComment {
        text: "\0".into(),
        ..comment.clone()
    };
    let refused = p.comment_incident(&a, &sid, malformed).await.unwrap_err();
    assert_eq!(
        refused.code(),
        ErrorCode::Invalid,
        "a malformed retry is refused, not answered with the first result: {refused}"
    );
    let retried = p.comment_incident(&a, &sid, comment).await.unwrap();
    assert_eq!(
        retried.incident.version, 2,
        "a retried comment (same event id) is not added twice"
    );
    clock.advance_secs(5 * MIN);
    let acked = p
        .change_incident(&a, &sid, now(C::Acknowledge))
        .await
        .unwrap();
    assert_eq!(acked.incident.status, IncidentStatus::Acknowledged);
    assert_eq!(acked.sla.response.status, ClockStatus::Met);
    assert_eq!(acked.sla.response.elapsed_ms, 10 * MIN * 1000);
    let twice = p
        .change_incident(&a, &sid, now(C::Acknowledge))
        .await
        .unwrap_err();
    assert_eq!(twice.code(), ErrorCode::Conflict);
    assert!(twice.to_string().contains("acknowledged"), "{twice}");

    let assigned = p
        .change_incident(
            &a,
            &sid,
            now(C::Assign {
                assignee: Some("user:bo".into()),
            }),
        )
        .await
        .unwrap();
    assert_eq!(assigned.incident.assignee.as_deref(), Some("user:bo"));
    p.change_incident(
        &a,
        &sid,
        now(C::ChangeSeverity {
            severity: Severity::Sev1,
        }),
    )
    .await
    .unwrap();
    p.change_incident(&a, &sid, now(C::Wait)).await.unwrap();
    clock.advance_secs(60 * MIN);
    let resumed = p.change_incident(&a, &sid, now(C::Resume)).await.unwrap();
    assert_eq!(
        resumed.sla.resolve.elapsed_ms,
        10 * MIN * 1000,
        "an hour waiting on the customer does not count"
    );
    clock.advance_secs(10 * MIN);
    let resolved = p.change_incident(&a, &sid, now(C::Resolve)).await.unwrap();
    assert_eq!(resolved.incident.status, IncidentStatus::Resolved);
    assert!(resolved.incident.resolved_at.is_some());
    p.change_incident(&a, &sid, now(C::Close)).await.unwrap();
    let closed_ack = p
        .change_incident(&a, &sid, now(C::Acknowledge))
        .await
        .unwrap_err();
    assert_eq!(closed_ack.code(), ErrorCode::Conflict);
    assert!(closed_ack.to_string().contains("closed"), "{closed_ack}");
    clock.advance_secs(30 * MIN);
    let reopened = p.change_incident(&a, &sid, now(C::Reopen)).await.unwrap();
    assert_eq!(reopened.incident.status, IncidentStatus::Open);
    assert_eq!(
        reopened.sla.cycles.len(),
        2,
        "a reopen starts a new resolve cycle"
    );
    assert_eq!(reopened.incident.version, 10);

    // A change based on a version the incident has not reached is stale.
    let stale = p
        .change_incident(
            &a,
            &sid,
            IncidentChange {
                base_version: Some(42),
                ..now(C::Acknowledge)
            },
        )
        .await
        .unwrap_err();
    assert_eq!(stale.code(), ErrorCode::Conflict);

    // People cannot forge the server's records.
    let forged = p
        .change_incident(
            &a,
            &sid,
            now(C::RecordEscalation {
                step: 0,
                repeat: 0,
                targets: vec![EscalationTarget::Role {
                    role: "support".into(),
                }],
            }),
        )
        .await
        .unwrap_err();
    assert_eq!(forged.code(), ErrorCode::Forbidden);

    let detail = p.get_incident(&a, &sid).await.unwrap();
    let kinds: Vec<&str> = detail.timeline.iter().map(|e| e.kind.name()).collect();
    assert_eq!(
        kinds,
        [
            "opened",
            "comment",
            "acknowledged",
            "assigned",
            "severity_changed",
            "status_changed",
            "status_changed",
            "resolved",
            "closed",
            "reopened"
        ]
    );
    assert!(detail.timeline.iter().all(|e| e.actor_id == p.actor_id(&a)));
    assert_eq!(detail.target.severity, Severity::Sev1);
    assert_eq!(
        actions(&*p, "incident", &sid).await,
        [
            "open",
            "comment",
            "acknowledged",
            "assigned",
            "severity_changed",
            "status_changed",
            "status_changed",
            "resolved",
            "closed",
            "reopened"
        ],
        "every change is audited once"
    );
    let missing = p
        .get_incident(&a, &Uuid::now_v7().to_string())
        .await
        .unwrap_err();
    assert_eq!(missing.code(), ErrorCode::NotFound);
    let bad = p
        .open_incident(&a, opening("   ", Severity::Sev3, Some(Uuid::now_v7())))
        .await
        .unwrap_err();
    let fields: Vec<&str> = bad.fields().iter().map(|f| f.field.as_str()).collect();
    assert!(
        fields.contains(&"org_id") || fields.contains(&"title"),
        "{bad:?}"
    );
}

async fn incident_lists_filter_and_page(db: &TestDb) {
    let (p, clock) = portal(db).await;
    let a = admin();
    let acme = org(&p, "Acme").await;
    let globex = org(&p, "Globex").await;
    let mut ids = Vec::new();
    for (i, (title, sev, o)) in [
        ("Login slow", Severity::Sev3, Some(acme)),
        ("API down", Severity::Sev1, Some(globex)),
        ("Billing emails late", Severity::Sev4, None),
        ("Login fails on SSO", Severity::Sev2, Some(acme)),
        ("Webhooks delayed", Severity::Sev3, Some(globex)),
    ]
    .into_iter()
    .enumerate()
    {
        clock.advance_secs(MIN * (i as i64 + 1));
        ids.push(
            p.open_incident(&a, opening(title, sev, o))
                .await
                .unwrap()
                .incident
                .id,
        );
    }
    p.change_incident(&a, &ids[1].to_string(), now(C::Acknowledge))
        .await
        .unwrap();
    p.change_incident(&a, &ids[2].to_string(), now(C::Resolve))
        .await
        .unwrap();
    p.change_incident(
        &a,
        &ids[3].to_string(),
        now(C::Assign {
            assignee: Some("user:bo".into()),
        }),
    )
    .await
    .unwrap();
    let list = |f: IncidentFilter| {
        let p = &p;
        let a = a.clone();
        async move {
            p.list_incidents(&a, f)
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|s| s.incident.title)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list(IncidentFilter::default()).await,
        [
            "Webhooks delayed",
            "Login fails on SSO",
            "Billing emails late",
            "API down",
            "Login slow"
        ],
        "newest first"
    );
    assert_eq!(
        list(IncidentFilter {
            status: Some(StatusFilter::Active),
            org_id: Some(acme),
            ..Default::default()
        })
        .await,
        ["Login fails on SSO", "Login slow"]
    );
    assert_eq!(
        list(IncidentFilter {
            status: Some(StatusFilter::Done),
            ..Default::default()
        })
        .await,
        ["Billing emails late"]
    );
    assert_eq!(
        list(IncidentFilter {
            severity: Some(Severity::Sev3),
            search: Some("WEBHOOK".into()),
            ..Default::default()
        })
        .await,
        ["Webhooks delayed"]
    );
    assert_eq!(
        list(IncidentFilter {
            assignee: Some("user:bo".into()),
            ..Default::default()
        })
        .await,
        ["Login fails on SSO"]
    );
    // Pages of two cover the list once, in order.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = p
            .list_incidents(
                &a,
                IncidentFilter {
                    limit: Some(2),
                    cursor: cursor.clone(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        seen.extend(page.items.into_iter().map(|s| s.incident.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(seen, expected);
    let bad_cursor = p
        .list_incidents(
            &a,
            IncidentFilter {
                cursor: Some("zz".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(bad_cursor.fields()[0].field, "cursor");

    // SLA standing: sev1 responds in 15 minutes by default. After 12 minutes the open sev1 is at
    // risk; after a day everything unacknowledged has breached.
    let urgent = p
        .open_incident(&a, opening("Database failover", Severity::Sev1, None))
        .await
        .unwrap()
        .incident
        .id;
    clock.advance_secs(12 * MIN);
    let at_risk = p
        .list_incidents(
            &a,
            IncidentFilter {
                sla: Some(SlaFilter::AtRisk),
                limit: Some(1),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        at_risk
            .items
            .iter()
            .map(|s| s.incident.id)
            .collect::<Vec<_>>(),
        [urgent]
    );
    clock.advance_secs(24 * 60 * MIN);
    let breached = p
        .list_incidents(
            &a,
            IncidentFilter {
                sla: Some(SlaFilter::Breached),
                status: Some(StatusFilter::Active),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        breached.items.len(),
        5,
        "every active incident has breached"
    );
    assert!(breached
        .items
        .iter()
        .all(|s| s.sla.response.status == ClockStatus::Breached
            || s.sla.resolve.status == ClockStatus::Breached));
    let counts = p.incident_counts(&a).await.unwrap();
    assert_eq!(counts.breached, 5);
    assert_eq!(
        counts
            .active_by_severity
            .iter()
            .map(|c| (c.severity, c.count))
            .collect::<Vec<_>>(),
        [
            (Severity::Sev1, 2),
            (Severity::Sev2, 1),
            (Severity::Sev3, 2),
            (Severity::Sev4, 0)
        ]
    );
    // The counts' working set is kept between calls (keyed by the audit head): a write by
    // another instance on the same database is seen at once, and time alone moves the clocks.
    let other = p.another_instance(db, clock.clone()).await;
    let elsewhere = other
        .open_incident(&a, opening("Seen from elsewhere", Severity::Sev4, None))
        .await
        .unwrap()
        .incident
        .id
        .to_string();
    let counts = p.incident_counts(&a).await.unwrap();
    let sev4 = |c: &IncidentCounts| c.active_by_severity[3].count;
    assert_eq!((sev4(&counts), counts.breached), (1, 5), "{counts:?}");
    clock.advance_secs(31 * 24 * 60 * MIN);
    let counts = p.incident_counts(&a).await.unwrap();
    assert_eq!((sev4(&counts), counts.breached), (1, 6), "{counts:?}");
    // Leaving the active set elsewhere (a resolve), and one breached incident resolved here.
    other
        .change_incident(&a, &elsewhere, now(C::Resolve))
        .await
        .unwrap();
    p.change_incident(
        &a,
        &breached.items[0].incident.id.to_string(),
        now(C::Resolve),
    )
    .await
    .unwrap();
    let counts = p.incident_counts(&a).await.unwrap();
    assert_eq!((sev4(&counts), counts.breached), (0, 4), "{counts:?}");
}

async fn each_role_sees_and_does_what_it_may(db: &TestDb) {
    let (p, _) = portal(db).await;
    let a = admin();
    let acme = org(&p, "Acme").await;
    let globex = org(&p, "Globex").await;
    let theirs = p
        .open_incident(&a, opening("Globex outage", Severity::Sev2, Some(globex)))
        .await
        .unwrap()
        .incident
        .id;
    let mut tenant = admin();
    tenant.id = "user:carol".into();
    tenant.role = Role::Client(acme);
    let mine = p
        .open_incident(&tenant, opening("Our exports fail", Severity::Sev3, None))
        .await
        .unwrap();
    assert_eq!(
        mine.incident.org_id,
        Some(acme),
        "a client opens for its own organisation"
    );
    let mine = mine.incident.id.to_string();
    let elsewhere = p
        .open_incident(&tenant, opening("Not ours", Severity::Sev3, Some(globex)))
        .await
        .unwrap_err();
    assert_eq!(elsewhere.code(), ErrorCode::Forbidden);
    let listed = p
        .list_incidents(&tenant, IncidentFilter::default())
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1, "only its own organisation's");
    assert!(p
        .list_incidents(
            &tenant,
            IncidentFilter {
                org_id: Some(globex),
                ..Default::default()
            }
        )
        .await
        .unwrap()
        .items
        .is_empty());
    let hidden = p
        .get_incident(&tenant, &theirs.to_string())
        .await
        .unwrap_err();
    assert_eq!(
        hidden.code(),
        ErrorCode::NotFound,
        "another's reads as absent"
    );
    let hidden = p
        .comment_incident(
            &tenant,
            &theirs.to_string(),
            NewComment {
                text: "hello".into(),
                event_id: None,
                occurred_at: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), ErrorCode::NotFound);
    p.comment_incident(
        &tenant,
        &mine,
        NewComment {
            text: "It started at 9:00".into(),
            event_id: None,
            occurred_at: None,
        },
    )
    .await
    .unwrap();
    let denied = p
        .change_incident(&tenant, &mine, now(C::Resolve))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), ErrorCode::Forbidden);
    assert_eq!(p.sla_targets(&tenant).await.unwrap().len(), 4);
    assert_eq!(
        p.list_escalation_policies(&tenant)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Forbidden
    );
    let report = p
        .incident_metrics(&tenant, MetricsQuery::default())
        .await
        .unwrap();
    assert_eq!(report.overall.count, 1, "its own organisation's only");

    let mut lead = admin();
    lead.id = "user:sam".into();
    lead.role = Role::Support;
    p.change_incident(&lead, &mine, now(C::Acknowledge))
        .await
        .unwrap();
    p.change_incident(&lead, &theirs.to_string(), now(C::Resolve))
        .await
        .unwrap();
    assert!(p.get_client(&lead, &acme.to_string()).await.is_ok());
    for denied in [
        p.set_sla_targets(
            &lead,
            vec![domain::incident::default_target(Severity::Sev1)],
        )
        .await
        .unwrap_err(),
        p.list_keys(&lead, Default::default()).await.unwrap_err(),
        p.list_oidc(&lead).await.unwrap_err(),
    ] {
        assert_eq!(denied.code(), ErrorCode::Forbidden, "{denied}");
    }
    let mut dev = admin();
    dev.role = Role::Developer;
    assert_eq!(
        p.change_incident(&dev, &mine, now(C::Resolve))
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Forbidden,
        "developers read and comment, support leads manage"
    );
}

fn step(after: u32, targets: Vec<EscalationTarget>) -> domain::model::EscalationStep {
    domain::model::EscalationStep {
        after_mins: after,
        condition: domain::model::EscalationCondition::Unacknowledged,
        targets,
        repeat: 0,
        repeat_every_mins: None,
        min_severity: Severity::Sev2,
    }
}

async fn sla_targets_and_escalation_policies_are_validated_whole(db: &TestDb) {
    let (p, _) = portal(db).await;
    let a = admin();
    let defaults = p.sla_targets(&a).await.unwrap();
    assert_eq!(
        defaults.iter().map(|t| t.severity).collect::<Vec<_>>(),
        Severity::ALL
    );
    let bad = p
        .set_sla_targets(
            &a,
            vec![
                SlaTarget {
                    severity: Severity::Sev2,
                    target_response_mins: 30,
                    target_resolve_mins: 240,
                    at_risk_percent: 80,
                },
                SlaTarget {
                    severity: Severity::Sev3,
                    target_response_mins: 0,
                    target_resolve_mins: 10,
                    at_risk_percent: 100,
                },
            ],
        )
        .await
        .unwrap_err();
    let fields: Vec<&str> = bad.fields().iter().map(|f| f.field.as_str()).collect();
    assert!(
        fields.contains(&"targets[1].target_response_mins")
            && fields.contains(&"targets[1].at_risk_percent"),
        "{fields:?}"
    );
    assert_eq!(
        p.sla_targets(&a).await.unwrap(),
        defaults,
        "nothing was stored"
    );
    let set = p
        .set_sla_targets(
            &a,
            vec![SlaTarget {
                severity: Severity::Sev2,
                target_response_mins: 30,
                target_resolve_mins: 240,
                at_risk_percent: 80,
            }],
        )
        .await
        .unwrap();
    assert_eq!(set[1].target_response_mins, 30);
    assert_eq!(set[0], defaults[0], "other severities keep theirs");

    let bad = p
        .create_escalation_policy(
            &a,
            PolicyInput {
                name: "Default".into(),
                org_id: None,
                rules: vec![
                    step(
                        15,
                        vec![EscalationTarget::Role {
                            role: "support".into(),
                        }],
                    ),
                    step(
                        0,
                        vec![EscalationTarget::Webhook {
                            url: "ftp://hooks.example.com".into(),
                        }],
                    ),
                ],
            },
        )
        .await
        .unwrap_err();
    let fields: Vec<&str> = bad.fields().iter().map(|f| f.field.as_str()).collect();
    assert!(
        fields.contains(&"rules[1].after_mins") && fields.contains(&"rules[1].targets[0].url"),
        "{fields:?}"
    );
    assert!(p.list_escalation_policies(&a).await.unwrap().is_empty());
    let default = p
        .create_escalation_policy(
            &a,
            PolicyInput {
                name: "Default".into(),
                org_id: None,
                rules: vec![step(
                    15,
                    vec![EscalationTarget::Role {
                        role: "support".into(),
                    }],
                )],
            },
        )
        .await
        .unwrap();
    let second = p
        .create_escalation_policy(
            &a,
            PolicyInput {
                name: "Another default".into(),
                org_id: None,
                rules: vec![step(
                    5,
                    vec![EscalationTarget::User {
                        id: "user:bo".into(),
                    }],
                )],
            },
        )
        .await
        .unwrap_err();
    assert_eq!(second.code(), ErrorCode::Conflict, "one default policy");
    let acme = org(&p, "Acme").await;
    let override_ = p
        .create_escalation_policy(
            &a,
            PolicyInput {
                name: "Acme (premium)".into(),
                org_id: Some(acme),
                rules: vec![step(
                    5,
                    vec![EscalationTarget::User {
                        id: "user:bo".into(),
                    }],
                )],
            },
        )
        .await
        .unwrap();
    let renamed = p
        .update_escalation_policy(
            &a,
            &default.id.to_string(),
            PolicyInput {
                name: "Everyone else".into(),
                org_id: None,
                rules: default.rules.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "Everyone else");
    let listed = p.list_escalation_policies(&a).await.unwrap();
    assert_eq!(
        listed.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        ["Everyone else", "Acme (premium)"],
        "the default first"
    );
    p.delete_escalation_policy(&a, &override_.id.to_string())
        .await
        .unwrap();
    assert_eq!(
        p.delete_escalation_policy(&a, &override_.id.to_string())
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        actions(&*p, "escalation_policy", &default.id.to_string()).await,
        ["create", "update"]
    );
    assert_eq!(actions(&*p, "sla_targets", "all").await, ["update"]);
}

async fn the_report_measures_the_timelines(db: &TestDb) {
    let (p, clock) = portal(db).await;
    let a = admin();
    let start = clock.now();
    // Two sev2 incidents: acknowledged after 10 and 20 minutes, resolved after 60 and 120.
    for (ack, resolve) in [(10, 60), (20, 120)] {
        let id = p
            .open_incident(&a, opening("Slow pages", Severity::Sev2, None))
            .await
            .unwrap()
            .incident
            .id
            .to_string();
        clock.advance_secs(ack * MIN);
        p.change_incident(&a, &id, now(C::Acknowledge))
            .await
            .unwrap();
        clock.advance_secs((resolve - ack) * MIN);
        p.change_incident(&a, &id, now(C::Resolve)).await.unwrap();
    }
    let report = p
        .incident_metrics(
            &a,
            MetricsQuery {
                from: Some(start),
                to: Some(clock.now()),
                org_id: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(report.overall.count, 2);
    assert_eq!(report.overall.mtta_mean_ms, Some(15 * MIN * 1000));
    assert_eq!(report.overall.mttr_mean_ms, Some(90 * MIN * 1000));
    let sev2 = &report.by_severity[1];
    assert_eq!(sev2.severity, Severity::Sev2);
    assert_eq!(sev2.metrics.count, 2);
    let backwards = p
        .incident_metrics(
            &a,
            MetricsQuery {
                from: Some(clock.now()),
                to: Some(start),
                org_id: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(backwards.code(), ErrorCode::Invalid);
}

on_every_portal!(
    an_incident_lives_its_whole_life_on_its_timeline,
    incident_lists_filter_and_page,
    each_role_sees_and_does_what_it_may,
    sla_targets_and_escalation_policies_are_validated_whole,
    the_report_measures_the_timelines,
);
