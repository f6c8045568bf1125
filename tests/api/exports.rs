//! The audit export over HTTP streams (issue 9, finding 12): the response is sent in chunks as
//! the pages are read, not assembled in memory first; a refused export is a problem document,
//! never a 200 that ends early.

use super::*;
use domain::Role;
use reqwest::StatusCode;
use store::prelude::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_audit_export_streams_every_event_in_chunks() {
    let f = Fixture::start(&[]).await;
    let a = admin();
    // More than two pages (500 rows each) of events, cheaply: clients, not keys (no argon2).
    for n in 0..1_100 {
        f.portal()
            .create_client(
                &a,
                NewClient {
                    name: format!("Org {n}"),
                    plan: "pro".into(),
                    status: "active".into(),
                },
                None,
            )
            .await
            .expect("client");
    }
    let events = f.db.store.audit_head().await.unwrap().0;
    let token = f.token(&actor("user:alice", Role::Provider));
    let r = f.get("/v1/audit/export", &token).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers().get("content-length").is_none()
            && r.headers()["transfer-encoding"] == "chunked",
        "streamed, not assembled first: {:?}",
        r.headers()
    );
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let body = r.bytes().await.unwrap();
    let mut csv = csv::Reader::from_reader(body.as_ref());
    let mut rows = 0;
    for record in csv.records() {
        record.expect("a whole record");
        rows += 1;
    }
    assert_eq!(rows as i64, events, "every event, once");

    // Through RemotePortal, chunk by chunk into the file.
    let remote = client::RemotePortal::new(
        &f.server.url,
        Arc::new(stories::remote::MintedTokens(f.issuer.clone())),
    )
    .unwrap();
    let mut out = Vec::new();
    let n = remote
        .export_audit_csv(&a, domain::model::AuditFilter::default(), &mut out)
        .await
        .unwrap();
    assert_eq!(n as i64, events);
    assert_eq!(out, body.to_vec(), "the same bytes");

    // A role without audit read gets a problem document, not a stream.
    let tenant = f.token(&actor("user:tenant", Role::Client(uuid::Uuid::new_v4())));
    let r = f.get("/v1/audit/export", &tenant).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    f.finish().await;
}
