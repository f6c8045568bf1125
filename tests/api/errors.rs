//! What the API says when things go wrong inside it, and the one route that needs an empty
//! workspace (seeding), which the auth matrix's populated workspace cannot show succeeding.

use crate::{actor, json_of, Fixture};
use domain::Role;
use reqwest::StatusCode;
use serde_json::Value;

/// A 500 says a fixed sentence and the request id; the database's own words stay in the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_internal_error_never_carries_database_text() {
    let f = Fixture::start(&[]).await;
    let token = f.token(&actor("user:alice", Role::Provider));
    assert_eq!(f.get("/v1/clients", &token).await.status(), StatusCode::OK);

    // Break the schema under the running server, as a superuser would by mistake.
    let (url, _) = f.db.pg.clone().expect("a PostgreSQL test database");
    let pool = sqlx::PgPool::connect(&url)
        .await
        .expect("superuser connection");
    sqlx::query("ALTER TABLE clients RENAME COLUMN name TO name_broken_by_test")
        .execute(&pool)
        .await
        .expect("rename a column");
    pool.close().await;

    let r = f.get("/v1/clients", &token).await;
    assert_eq!(
        r.status(),
        StatusCode::INTERNAL_SERVER_ERROR,
        "a broken schema is a 500"
    );
    let request_id = r
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .expect("every answer carries its request id");
    let text = r.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).expect("problem+json");
    assert_eq!(body["code"], "internal");
    assert_eq!(body["detail"], domain::error::INTERNAL_MESSAGE, "{text}");
    assert_eq!(
        body["request_id"],
        request_id.as_str(),
        "the id to quote to an operator"
    );
    for leak in [
        "name_broken_by_test",
        "column",
        "clients",
        "SELECT",
        "sqlx",
        "database",
    ] {
        assert!(
            !text.to_lowercase().contains(&leak.to_lowercase()),
            "the 500 must not carry database text (`{leak}`): {text}"
        );
    }
    f.finish().await;
}

/// `POST /v1/workspace/seed` fills an empty workspace for a provider, and only once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn seeding_an_empty_workspace_through_the_api() {
    // Seeding writes a few thousand events: give it the longest request time a server allows,
    // so a loaded test machine does not turn it into a 503.
    let f = Fixture::start(&[("PORTAL_REQUEST_TIMEOUT_SECS", "50")]).await;
    let provider = f.token(&actor("user:alice", Role::Provider));
    let developer = f.token(&actor("user:dave", Role::Developer));
    let status = json_of(f.get("/v1/workspace", &provider).await).await;
    assert_eq!(status["empty"], true, "{status}");

    let seed = |token: String| {
        let f = &f;
        async move {
            f.http
                .post(f.url("/v1/workspace/seed"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(seed(developer).await.status(), StatusCode::FORBIDDEN);
    let r = seed(provider.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let report = json_of(r).await;
    assert_eq!(report["clients"], 50, "{report}");
    let status = json_of(f.get("/v1/workspace", &provider).await).await;
    assert_eq!(status["empty"], false, "{status}");
    let again = seed(provider).await;
    assert_eq!(
        again.status(),
        StatusCode::CONFLICT,
        "a workspace with data is not seeded twice"
    );
    f.finish().await;
}
