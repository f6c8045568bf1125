use super::*;
use std::collections::HashMap;

fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|k| map.get(k).cloned())
}

const GOOD: &[(&str, &str)] = &[
    ("DATABASE_URL", "postgres://portal:pw@db/portal"),
    ("OIDC_ISSUER", "https://id.example.com/"),
    ("OIDC_AUDIENCE", "portal-api"),
    ("PORTAL_MASTER_KEY", "1:AAAA"),
];

#[test]
fn a_complete_environment_starts_and_debug_hides_secrets() {
    let c = config(GOOD).expect("complete");
    assert_eq!(
        c.oidc.issuer, "https://id.example.com/",
        "kept as given: an issuer may end in a slash (Auth0)"
    );
    let shown = format!("{c:?}");
    assert!(
        !shown.contains(":pw@"),
        "the DB password must not show: {shown}"
    );
    assert!(!shown.contains("1:AAAA"), "the master key must not show");
}

#[test]
fn every_problem_is_named_at_once() {
    let e = config(&[
        ("DATABASE_URL", "mysql://x"),
        ("OIDC_ISSUER", "http://id.example.com"),
        ("PORTAL_TRUSTED_PROXIES", "10.0.0.0/8, nonsense"),
        ("PORTAL_RATE_LIMIT_IP", "lots"),
    ])
    .unwrap_err();
    let text = e.to_string();
    for needle in [
        "PostgreSQL only",
        "https",
        "OIDC_AUDIENCE",
        "nonsense",
        "PORTAL_RATE_LIMIT_IP",
        "master key",
    ] {
        assert!(text.contains(needle), "`{needle}` missing from: {text}");
    }
}

#[test]
fn the_request_timeout_defaults_to_30_s_and_stays_below_the_claim_ttl() {
    assert_eq!(
        config(GOOD).unwrap().request_timeout,
        Duration::from_secs(30)
    );
    let with = |v: &str| {
        let mut pairs = GOOD.to_vec();
        pairs.push(("PORTAL_REQUEST_TIMEOUT_SECS", v));
        config(&pairs)
    };
    assert_eq!(with("2").unwrap().request_timeout, Duration::from_secs(2));
    for bad in ["0", "61", "soon"] {
        let e = with(bad).unwrap_err().to_string();
        assert!(e.contains("PORTAL_REQUEST_TIMEOUT_SECS"), "{bad}: {e}");
    }
}

#[test]
fn the_jwks_ttl_floor_and_at_jwt_requirement_are_configurable() {
    let c = config(GOOD).unwrap();
    assert_eq!(
        (
            c.oidc.jwks_ttl_secs,
            c.oidc.jwks_refetch_floor_secs,
            c.oidc.require_at_jwt
        ),
        (600, 10, false)
    );
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut pairs = GOOD.to_vec();
        pairs.extend_from_slice(extra);
        config(&pairs)
    };
    let c = with(&[
        ("OIDC_JWKS_TTL_SECS", "1"),
        ("OIDC_JWKS_REFETCH_FLOOR_SECS", "2"),
        ("OIDC_REQUIRE_AT_JWT", "true"),
    ])
    .unwrap();
    assert_eq!(
        (
            c.oidc.jwks_ttl_secs,
            c.oidc.jwks_refetch_floor_secs,
            c.oidc.require_at_jwt
        ),
        (1, 2, true)
    );
    for (name, bad) in [
        ("OIDC_JWKS_TTL_SECS", "0"),
        ("OIDC_JWKS_TTL_SECS", "soon"),
        ("OIDC_JWKS_REFETCH_FLOOR_SECS", "0"),
        ("OIDC_JWKS_REFETCH_FLOOR_SECS", "61"),
        ("OIDC_REQUIRE_AT_JWT", "maybe"),
    ] {
        let e = with(&[(name, bad)]).unwrap_err().to_string();
        assert!(e.contains(name), "{name}={bad}: {e}");
    }
    // The API's audience is the app's client id: only `typ` can tell an ID token apart.
    let e = with(&[("OIDC_CLIENT_ID", "portal-api")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("OIDC_REQUIRE_AT_JWT"), "{e}");
    assert!(with(&[
        ("OIDC_CLIENT_ID", "portal-api"),
        ("OIDC_REQUIRE_AT_JWT", "1")
    ])
    .is_ok());
}

#[test]
fn budgets_and_proxies_parse() {
    assert_eq!(
        parse_budget("600/min burst 50"),
        Some(Budget {
            per_minute: 600,
            burst: 50
        })
    );
    assert_eq!(parse_budget("0/min"), None);
    assert_eq!(parse_budget("10/s"), None);
    assert!(parse_net("127.0.0.1").is_some());
    assert!(parse_net("10.0.0.0/8").is_some());
    assert!(check_issuer("http://127.0.0.1:9/").is_ok());
    assert!(check_issuer("http://evil.example.com").is_err());
}
