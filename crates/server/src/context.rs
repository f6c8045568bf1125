//! The middleware every request passes: a request id and a tracing span for it, the client's
//! address (believing `X-Forwarded-For` only from trusted proxies), authentication, rate limits,
//! and the in-flight guard of idempotency keys.

use crate::auth::{partner_actor, user_actor};
use crate::config::Budget;
use crate::guards::Guard;
use crate::limits::{Charge, Decision};
use crate::problem::{ApiError, REQUEST_ID};
use crate::AppState;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain::error::Error;
use domain::key::FullKey;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;
use tracing::Instrument;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// Outermost: gives the request an id (the caller's `X-Request-Id` when it is sane), opens the
/// span every log line of the request is written in, and logs the outcome.
pub async fn request_context(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    if let Ok(v) = HeaderValue::from_str(&id) {
        req.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.uri().path(),
    );
    let started = Instant::now();
    let mut response = REQUEST_ID
        .scope(id.clone(), next.run(req))
        .instrument(span.clone())
        .await;
    let status = response.status().as_u16();
    span.in_scope(|| {
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        if status >= 500 {
            tracing::error!(status, ms, "served");
        } else {
            tracing::info!(status, ms, "served");
        }
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    response
}

/// The client's address: the peer, or — when the peer is a trusted proxy — the last address
/// in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|ip| !is_trusted(ip))
            .unwrap_or(peer),
    )
}

fn request_ip(state: &AppState, req: &Request) -> Option<String> {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    client_ip(peer, req.headers(), &state.trusted_proxies).map(|ip| ip.to_string())
}

fn user_agent(req: &Request) -> Option<String> {
    req.headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(256).collect())
}

fn bearer(req: &Request) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn with_limit_headers(mut response: Response, d: Decision) -> Response {
    let h = response.headers_mut();
    h.insert("ratelimit-limit", HeaderValue::from(d.limit));
    h.insert("ratelimit-remaining", HeaderValue::from(d.remaining));
    h.insert("ratelimit-reset", HeaderValue::from(d.reset_secs));
    response
}

async fn spend(state: &AppState, buckets: &[(&str, Budget)]) -> Result<Decision, Response> {
    let d = state.limiter.check_all(buckets).await;
    match refusal(d) {
        None => Ok(d),
        Some(refused) => Err(refused),
    }
}

/// The 429 that says when to come back, when the decision refuses.
fn refusal(d: Decision) -> Option<Response> {
    (!d.allowed).then(|| {
        let refused = ApiError(Error::RateLimited {
            retry_after_secs: d.retry_after_secs,
        })
        .into_response();
        with_limit_headers(refused, d)
    })
}

/// Guards the admin and user routes: a valid OIDC access token, then the principal's rate
/// limit, then (for POSTs with an `Idempotency-Key`) the in-flight guard. The actor, with the
/// request's IP and user agent for the audit trail, is handed to the handler.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_default();
    let needed = match state.guards.get(&(req.method().clone(), route.clone())) {
        Some(Guard::User(p)) => *p,
        _ => {
            tracing::error!(route, "route without a declared guard refused");
            return ApiError(Error::Forbidden(
                "this route declares no guard, so nobody may call it".into(),
            ))
            .into_response();
        }
    };
    let Some(token) = bearer(&req) else {
        return ApiError(Error::Unauthenticated(
            "sign in first: send `Authorization: Bearer <access token>` from the portal's identity provider".into(),
        ))
        .into_response();
    };
    if token.starts_with("pak_") {
        return ApiError(Error::Unauthenticated(
            "a federation key is accepted only on the partner routes (/v1/federation/…); admin routes need an access token".into(),
        ))
        .into_response();
    }
    let principal = match state.tokens.verify(token).await {
        Ok(p) => p,
        Err(e) => return ApiError(e).into_response(),
    };
    let actor = user_actor(&principal, request_ip(&state, &req), user_agent(&req));
    if let Some(p) = needed {
        if !actor.role.permissions().contains(&p) {
            return ApiError(Error::Forbidden(format!(
                "your role ({}) may not do this (needs {}); ask a provider admin",
                actor.role.name(),
                p.as_str()
            )))
            .into_response();
        }
    }
    let bucket = format!("principal:{}", actor.id);
    let decision = match spend(&state, &[(&bucket, state.limits.principal)]).await {
        Ok(d) => d,
        Err(refused) => return refused,
    };
    let claim = if req.method() == Method::POST {
        match req
            .headers()
            .get(IDEMPOTENCY_KEY_HEADER)
            .and_then(|v| v.to_str().ok())
        {
            Some(key) => match state.inflight.claim(inflight_key(&actor.id, key)).await {
                Some(c) => Some(c),
                None => {
                    return with_limit_headers(
                        ApiError(Error::conflict("a request with this Idempotency-Key is still in progress; retry when it has finished to get its result"))
                        .into_response(),
                        decision,
                    )
                }
            },
            None => None,
        }
    } else {
        None
    };
    tracing::debug!(actor = %actor.id, role = actor.role.name(), "authenticated");
    req.extensions_mut().insert(actor);
    // If the timeout layer (or a client going away) drops this future here, `claim` is dropped
    // with it, and its `Drop` releases it.
    let response = next.run(req).await;
    if let Some(c) = claim {
        c.release().await;
    }
    with_limit_headers(response, decision)
}

/// The in-flight claim of one principal's `Idempotency-Key`.
pub(crate) fn inflight_key(principal: &str, key: &str) -> String {
    format!("{principal}:{key}")
}

/// Guards the partner routes. Before the handler: the client network's budget is spent, and two
/// budgets of the presented key (by its public id, read from the key's format before any
/// hashing) are looked at without spending — its successful verifications, and its failures
/// from this network. After the handler, the outcome pays: a success spends from the key's
/// budget, a failure from (key, network)'s. So someone who forges a well-formed key for a
/// partner's id (the checksum is public) exhausts only their own network's failure budget,
/// never the partner's.
pub async fn partner(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    if !matches!(
        route.and_then(|r| state.guards.get(&(req.method().clone(), r))),
        Some(Guard::Partner)
    ) {
        return ApiError(Error::Forbidden(
            "this route declares no partner guard, so nobody may call it".into(),
        ))
        .into_response();
    }
    let ip = request_ip(&state, &req);
    let network = network_of(ip.as_deref());
    let net_bucket = format!("net:{network}");
    let Some(presented) = bearer(&req)
        .filter(|t| t.starts_with("pak_"))
        .map(str::to_string)
    else {
        let d = state
            .limiter
            .check_fast(&[(&net_bucket, state.limits.ip, Charge::Spend)]);
        if let Some(refused) = refusal(d) {
            return refused;
        }
        return ApiError(Error::Unauthenticated(
            "present your federation key: `Authorization: Bearer pak_…`".into(),
        ))
        .into_response();
    };
    // A malformed key spends only the network's budget: the Portal says precisely what is wrong
    // with it.
    let key_id = FullKey::parse(&presented)
        .map(|k| k.id().as_str().to_string())
        .ok();
    let outcome_buckets = key_id
        .as_ref()
        .map(|id| (format!("key:{id}"), format!("fail:{id}:{network}")));
    let decision = match &outcome_buckets {
        Some((key_bucket, fail_bucket)) => {
            // Decided from this instance's copy of the budgets, settled with Redis every 50 ms:
            // a verification costs no round trip.
            let d = state.limiter.check_fast(&[
                (&net_bucket, state.limits.ip, Charge::Spend),
                (fail_bucket, state.limits.federation_failures, Charge::Peek),
                (key_bucket, state.limits.federation_key, Charge::Peek),
            ]);
            if let Some(refused) = refusal(d) {
                return refused;
            }
            Some(d)
        }
        None => {
            let d = state
                .limiter
                .check_fast(&[(&net_bucket, state.limits.ip, Charge::Spend)]);
            if let Some(refused) = refusal(d) {
                return refused;
            }
            None
        }
    };
    let actor = partner_actor(
        key_id.as_deref().unwrap_or("malformed"),
        ip,
        user_agent(&req),
    );
    req.extensions_mut()
        .insert(PresentedKey(domain::Sensitive::new(presented)));
    req.extensions_mut().insert(actor);
    let response = next.run(req).await;
    if let Some((key_bucket, fail_bucket)) = outcome_buckets {
        match response.status() {
            StatusCode::OK => state.limiter.owe(&key_bucket, state.limits.federation_key),
            StatusCode::UNAUTHORIZED => state
                .limiter
                .owe(&fail_bucket, state.limits.federation_failures),
            _ => {}
        }
    }
    match decision {
        Some(d) => with_limit_headers(response, d),
        None => response,
    }
}

/// The network a client address is budgeted as: an IPv4 address on its own, an IPv6 address
/// by its /64 (one customer's allocation, whose addresses cost nothing to rotate through).
pub(crate) fn network_of(ip: Option<&str>) -> String {
    match ip.and_then(|ip| ip.parse::<IpAddr>().ok()) {
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Some(IpAddr::V4(v4)) => v4.to_string(),
        None => ip.unwrap_or("unknown").to_string(),
    }
}

/// The federation key a partner presented (never logged).
#[derive(Debug, Clone)]
pub struct PresentedKey(pub domain::Sensitive<String>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "203.0.113.9, 10.1.1.1".parse().unwrap());
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let stranger: IpAddr = "198.51.100.7".parse().unwrap();
        assert_eq!(
            client_ip(Some(proxy), &headers, &trusted),
            Some("203.0.113.9".parse().unwrap()),
            "through a trusted proxy, the client is the last untrusted hop"
        );
        assert_eq!(
            client_ip(Some(stranger), &headers, &trusted),
            Some(stranger),
            "an untrusted peer cannot claim another address"
        );
    }

    #[test]
    fn ipv6_clients_are_budgeted_by_their_64_and_ipv4_by_address() {
        assert_eq!(
            network_of(Some("2001:db8:1:2:aaaa::1")),
            network_of(Some("2001:db8:1:2:ffff:1:2:3")),
            "one /64, one budget"
        );
        assert_ne!(
            network_of(Some("2001:db8:1:2::1")),
            network_of(Some("2001:db8:1:3::1"))
        );
        assert_eq!(network_of(Some("::ffff:198.51.100.7")), "198.51.100.7");
        assert_ne!(
            network_of(Some("198.51.100.7")),
            network_of(Some("198.51.100.8"))
        );
        assert_eq!(network_of(None), "unknown");
    }
}
