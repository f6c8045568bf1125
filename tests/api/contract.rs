//! What the OpenAPI document promises about inputs holds on the wire: undeclared methods are
//! 405 with `Allow`, an empty query parameter is an absent one, and a body is a JSON object.

use crate::{actor, json_of, Fixture};
use domain::Role;
use reqwest::{Method, StatusCode};

/// RFC 9110 §15.5.6: a method the path does not declare is 405 and `Allow` lists those it does
/// — before any guard, so it needs no token — as problem+json.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_undeclared_method_is_405_with_allow() {
    let f = Fixture::start(&[]).await;
    let token = f.token(&actor("user:alice", Role::Provider));
    for (method, path, allowed) in [
        (Method::TRACE, "/v1/sign-in", "GET"),
        (Method::DELETE, "/v1/keys", "POST"),
        (Method::PUT, "/v1/keys", "GET"),
        (
            Method::from_bytes(b"QUERY").expect("a method"),
            "/v1/clients",
            "GET",
        ),
    ] {
        let r = f
            .http
            .request(method.clone(), f.url(path))
            .bearer_auth(&token)
            .send()
            .await
            .expect("the server answers");
        assert_eq!(
            r.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        let allow = r
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(
            allow.split(',').any(|m| m.trim() == allowed),
            "{method} {path}: `Allow` must list the declared methods, got `{allow}`"
        );
        assert_eq!(
            r.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "{method} {path}: errors are problem documents"
        );
        let body = json_of(r).await;
        assert_eq!(body["status"], 405, "{body}");
        assert_eq!(
            body["type"],
            "urn:provider-admin:problem:method_not_allowed"
        );
    }
    f.finish().await;
}

/// `?cursor=` is the first page and `?expiring_within_days=` no filter, on every list: forms
/// and many clients send empty values for the parameters they leave unset.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_empty_query_parameter_is_an_absent_one() {
    let f = Fixture::start(&[]).await;
    let token = f.token(&actor("user:alice", Role::Provider));
    for path in [
        "/v1/keys?cursor=",
        "/v1/keys?expiring_within_days=&unused_for_days=&status=&search=&limit=",
        "/v1/clients?cursor=&limit=&search=",
        "/v1/audit?cursor=&from=&to=&limit=&actor=",
        "/v1/audit/export?from=&to=",
    ] {
        let r = f.get(path, &token).await;
        let status = r.status();
        assert_eq!(status, StatusCode::OK, "{path}: {}", json_of(r).await);
    }
    f.finish().await;
}

/// serde reads a struct from an array too; the API takes JSON objects only.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_body_that_is_not_a_json_object_is_refused() {
    let f = Fixture::start(&[]).await;
    let token = f.token(&actor("user:alice", Role::Provider));
    let r = f
        .http
        .post(f.url("/v1/keys"))
        .bearer_auth(&token)
        .json(&serde_json::json!(["a name", null]))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json_of(r).await;
    assert_eq!(body["fields"][0]["field"], "body", "{body}");
    f.finish().await;
}

/// PostgreSQL cannot store or compare NUL in text: free-text inputs refuse it with 422 (and the
/// document says so) instead of failing with a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_nul_character_in_free_text_is_invalid_not_a_server_error() {
    let f = Fixture::start(&[]).await;
    let token = f.token(&actor("user:alice", Role::Provider));
    for path in [
        "/v1/clients?search=a%00b",
        "/v1/keys?search=%00",
        "/v1/audit?action=%00",
    ] {
        let r = f.get(path, &token).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{path}");
    }
    f.finish().await;
}
