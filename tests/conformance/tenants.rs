//! Clients (tenant organisations), roles and isolation.

use domain::model::ClientFilter;
use domain::{ErrorCode, Role};
use portal::{NewClient, NewKey};
use stories::{admin, on_every_portal, portal, TestDb};

fn client(name: &str) -> NewClient {
    NewClient {
        name: name.into(),
        plan: "pro".into(),
        status: "active".into(),
    }
}

async fn clients_search_rename_and_isolation(db: &TestDb) {
    let (p, _) = portal(db).await;
    let a = admin();
    let mut ids = Vec::new();
    for n in ["Acme", "Globex", "Initech", "Acme Labs", "Hooli"] {
        ids.push(p.create_client(&a, client(n), None).await.unwrap().id);
    }
    let found = p
        .list_clients(
            &a,
            ClientFilter {
                search: Some("acme".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        found
            .items
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        vec!["Acme", "Acme Labs"]
    );
    let first = p
        .list_clients(
            &a,
            ClientFilter {
                limit: Some(2),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let second = p
        .list_clients(
            &a,
            ClientFilter {
                limit: Some(2),
                cursor: first.next_cursor.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        first
            .items
            .iter()
            .chain(&second.items)
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        vec!["Acme", "Acme Labs", "Globex", "Hooli"]
    );
    let renamed = p
        .rename_client(&a, &ids[1].to_string(), "Globex Corporation")
        .await
        .unwrap();
    assert_eq!(renamed.name, "Globex Corporation");
    let bad_plan = p
        .create_client(
            &a,
            NewClient {
                name: "x".into(),
                plan: "platinum".into(),
                status: "active".into(),
            },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(bad_plan.fields()[0].field, "plan");

    let mut tenant = admin();
    tenant.role = Role::Client(ids[0]);
    assert_eq!(
        p.get_client(&tenant, &ids[0].to_string())
            .await
            .unwrap()
            .name,
        "Acme"
    );
    let other = p
        .get_client(&tenant, &ids[2].to_string())
        .await
        .unwrap_err();
    assert_eq!(
        other.code(),
        ErrorCode::NotFound,
        "another tenant's organisation reads as not found"
    );
    assert_eq!(
        p.list_clients(&tenant, ClientFilter::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let denied = p
        .create_key(
            &tenant,
            NewKey {
                name: "x".into(),
                expires_in: None,
            },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(denied.code(), ErrorCode::Forbidden);
    let mut dev = admin();
    dev.role = Role::Developer;
    assert_eq!(
        p.rename_client(&dev, &ids[0].to_string(), "y")
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Forbidden
    );
    assert_eq!(
        p.master_key_status(&dev).await.unwrap_err().code(),
        ErrorCode::Forbidden
    );
}

on_every_portal!(clients_search_rename_and_isolation);
