//! *Test connection*: read the issuer's discovery document, then its key set, through an
//! injected [`JsonFetcher`] (the portal has no HTTP client of its own), and let the pure checks
//! of `domain::oidc` say what is wrong.

use async_trait::async_trait;
use domain::oidc::OidcProbeReport;
use domain::validate::IssuerUrl;

/// Fetches a public JSON document over HTTP(S). Implemented by the front ends' HTTP adapter
/// (`outbound::HttpFetcher`); tests serve documents from memory or from a loopback provider.
#[async_trait]
pub trait JsonFetcher: Send + Sync + std::fmt::Debug {
    /// GETs `url`; an error is a short reason for a person ("HTTP 404", "not JSON", "timed out").
    async fn get_json(&self, url: &str) -> Result<serde_json::Value, String>;
}

/// Probes `issuer`: discovery document, then the JWKS it names. (The `Oidc::test_oidc`
/// operation checks permissions and reads the configuration first; this is its engine.)
pub async fn probe(fetcher: &dyn JsonFetcher, issuer: &IssuerUrl) -> OidcProbeReport {
    let url = issuer.discovery_url();
    let mut report = OidcProbeReport::new(issuer.as_str(), &url);
    let jwks_uri = match fetcher.get_json(&url).await {
        Ok(doc) => report.read_discovery(&doc),
        Err(e) => {
            report.fetch_failed("discovery document", &url, &e);
            None
        }
    };
    if let Some(jwks_uri) = jwks_uri {
        match fetcher.get_json(&jwks_uri).await {
            Ok(jwks) => report.read_jwks(&jwks),
            Err(e) => report.fetch_failed("JWKS", &jwks_uri, &e),
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};
    use std::collections::HashMap;

    #[derive(Debug)]
    struct Documents(HashMap<String, Value>);

    #[async_trait]
    impl JsonFetcher for Documents {
        async fn get_json(&self, url: &str) -> Result<Value, String> {
            self.0.get(url).cloned().ok_or_else(|| "HTTP 404".into())
        }
    }

    fn issuer() -> IssuerUrl {
        IssuerUrl::parse("https://id.example.com").unwrap()
    }

    #[tokio::test]
    async fn a_provider_with_discovery_and_keys_passes() {
        let docs = Documents(HashMap::from([
            (
                "https://id.example.com/.well-known/openid-configuration".to_string(),
                json!({
                    "issuer": "https://id.example.com",
                    "authorization_endpoint": "https://id.example.com/auth",
                    "token_endpoint": "https://id.example.com/token",
                    "jwks_uri": "https://id.example.com/jwks",
                    "id_token_signing_alg_values_supported": ["RS256"],
                }),
            ),
            (
                "https://id.example.com/jwks".to_string(),
                json!({"keys": [{"kid": "k1", "kty": "RSA", "alg": "RS256", "use": "sig", "n": "x", "e": "AQAB"}]}),
            ),
        ]));
        let report = probe(&docs, &issuer()).await;
        assert!(
            report.ok(),
            "a complete provider must pass: {:?}",
            report.problems
        );
        assert_eq!(
            report.signing_keys.len(),
            1,
            "the JWKS's key must be listed"
        );
    }

    #[tokio::test]
    async fn a_missing_discovery_document_is_reported_and_the_jwks_not_fetched() {
        let report = probe(&Documents(HashMap::new()), &issuer()).await;
        assert!(!report.ok(), "no discovery document is a failed test");
        assert!(
            report.problems.iter().any(|p| p.contains("HTTP 404")),
            "the reason must be shown: {:?}",
            report.problems
        );
        assert!(report.jwks_uri.is_none());
    }
}
