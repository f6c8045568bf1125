//! Whom an incident can be assigned to: whoever acted on a timeline one may see, or was assigned
//! an incident there — the most recently seen first, jobs left out, a client-role user seeing
//! its own organisation's people only.

use crate::incidents::org;
use domain::model::{IncidentChange, IncidentCommand, IncidentPerson, OpenIncident, Severity};
use domain::{Actor, Clock, Role};
use portal::incidents::NewComment;
use stories::{admin, on_every_portal, portal, TestDb};
use uuid::Uuid;

fn opening(title: &str, org: Uuid) -> OpenIncident {
    OpenIncident {
        id: None,
        title: title.into(),
        severity: Severity::Sev2,
        org_id: Some(org),
        impact_started_at: None,
        occurred_at: None,
    }
}

fn person(id: &str, name: &str, role: Role) -> Actor {
    let mut a = admin();
    a.id = id.into();
    a.name = name.into();
    a.role = role;
    a
}

/// The ids listed, with an issuer's namespace (through the API) taken off.
fn ids(people: &[IncidentPerson]) -> Vec<String> {
    people
        .iter()
        .map(|p| p.id.rsplit('#').next().unwrap_or(&p.id).to_string())
        .collect()
}

async fn the_people_who_worked_on_incidents_can_be_assigned(db: &TestDb) {
    let (p, clock) = portal(db).await;
    let a = admin();
    let acme = org(&p, "Acme").await;
    let globex = org(&p, "Globex").await;
    assert!(
        p.incident_people(&a).await.unwrap().is_empty(),
        "nobody yet"
    );

    let ours = p
        .open_incident(&a, opening("Acme exports fail", acme))
        .await
        .unwrap();
    let theirs = p
        .open_incident(&a, opening("Globex outage", globex))
        .await
        .unwrap();
    clock.advance_secs(60);
    let bob = person("user:bob", "Bob Support", Role::Support);
    let comment = NewComment {
        text: "looking".into(),
        event_id: None,
        occurred_at: None,
    };
    p.comment_incident(&bob, &ours.incident.id.to_string(), comment)
        .await
        .unwrap();
    clock.advance_secs(60);
    // Someone who never acted, assigned on the other organisation's incident.
    p.change_incident(
        &a,
        &theirs.incident.id.to_string(),
        IncidentChange::now(IncidentCommand::Assign {
            assignee: Some("user:dana".into()),
        }),
    )
    .await
    .unwrap();

    let people = p.incident_people(&a).await.unwrap();
    let listed = ids(&people);
    assert_eq!(listed.len(), 3, "{people:?}");
    assert!(listed.contains(&"user:dana".to_string()), "{listed:?}");
    let a_id = a.id.clone();
    assert_eq!(
        listed.iter().position(|i| *i == "user:bob"),
        Some(2),
        "the most recently seen first (bob commented before the assignment): {listed:?}"
    );
    assert!(listed[..2].contains(&a_id), "{listed:?}");
    let bob_listed = people.iter().find(|x| x.id.ends_with("user:bob")).unwrap();
    assert_eq!(bob_listed.name, "Bob Support");
    assert!(bob_listed.last_seen_at <= clock.now());
    let dana = people.iter().find(|x| x.id == "user:dana").unwrap();
    assert_eq!(dana.name, "user:dana", "someone only assigned names itself");
    assert!(
        people.iter().all(|x| !x.id.starts_with("system:")),
        "jobs are not people"
    );

    // A client-role user of Acme sees who worked on Acme's incidents only.
    let carol = person("user:carol", "Carol", Role::Client(acme));
    let seen = ids(&p.incident_people(&carol).await.unwrap());
    assert!(seen.contains(&"user:bob".to_string()), "{seen:?}");
    assert!(seen.contains(&a_id), "{seen:?}");
    assert!(
        !seen.contains(&"user:dana".to_string()),
        "Globex's assignee: {seen:?}"
    );
}

on_every_portal!(the_people_who_worked_on_incidents_can_be_assigned);
