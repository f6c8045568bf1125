//! The portal's own outbound HTTP, kept out of the core crates (which must not depend on an
//! HTTP client): [`HttpFetcher`] fetches public JSON documents for OIDC *Test connection*
//! (`portal::JsonFetcher`); [`HttpWebhooks`] sends escalation webhooks (`portal::WebhookSender`). Used by the CLI, the
//! desktop app and the server alike.

use async_trait::async_trait;
use std::time::Duration;

/// Fetches public JSON over HTTP(S) with a 10 s timeout. Reasons never carry the URL's query
/// (which could hold a token) nor a response body.
#[derive(Debug, Clone)]
pub struct HttpFetcher {
    http: reqwest::Client,
}

impl HttpFetcher {
    /// A fetcher, or why none could be built (the TLS roots could not be loaded).
    pub fn new() -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("provider-admin/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.without_url().to_string())?;
        Ok(HttpFetcher { http })
    }

    /// A fetcher as a shared `JsonFetcher`, or `None` (logged) when none could be built.
    pub fn shared() -> Option<std::sync::Arc<dyn portal::JsonFetcher>> {
        match Self::new() {
            Ok(f) => Some(std::sync::Arc::new(f)),
            Err(e) => {
                tracing::warn!(error = %e, "outbound HTTP is unavailable");
                None
            }
        }
    }
}

#[async_trait]
impl portal::JsonFetcher for HttpFetcher {
    async fn get_json(&self, url: &str) -> Result<serde_json::Value, String> {
        let resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        if !resp.status().is_success() {
            return Err(format!("HTTP {}", resp.status()));
        }
        resp.json()
            .await
            .map_err(|e| format!("not JSON: {}", e.without_url()))
    }
}

/// Sends escalation webhooks: a JSON POST with a 10 s timeout and no redirects followed (a
/// receiver that moved must be reconfigured, not silently followed). Reasons never carry the
/// URL's query nor the response body.
#[derive(Debug, Clone)]
pub struct HttpWebhooks {
    http: reqwest::Client,
}

impl HttpWebhooks {
    pub fn new() -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("provider-admin/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.without_url().to_string())?;
        Ok(HttpWebhooks { http })
    }
}

#[async_trait]
impl portal::WebhookSender for HttpWebhooks {
    async fn post(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<u16, String> {
        let mut req = self.http.post(url).body(body.to_vec());
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        let resp = req.send().await.map_err(|e| {
            if e.is_timeout() {
                "timed out".to_string()
            } else {
                e.without_url().to_string()
            }
        })?;
        Ok(resp.status().as_u16())
    }
}

#[cfg(test)]
mod tests {
    use super::HttpFetcher;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    /// A loopback OIDC provider serving a discovery document (announcing `issuer`) and a JWKS.
    fn provider(announce: impl Fn(u16) -> String + Send + 'static) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                reader.read_line(&mut request).unwrap();
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 2 {
                    line.clear();
                }
                let body = if request.contains("/.well-known/openid-configuration") {
                    format!(
                        r#"{{"issuer":"{}","authorization_endpoint":"http://127.0.0.1:{port}/auth","token_endpoint":"http://127.0.0.1:{port}/token","jwks_uri":"http://127.0.0.1:{port}/jwks","id_token_signing_alg_values_supported":["RS256","ES256"]}}"#,
                        announce(port)
                    )
                } else {
                    r#"{"keys":[{"kid":"k1","kty":"RSA","alg":"RS256","use":"sig","n":"x","e":"AQAB"}]}"#.to_string()
                };
                let mut s = stream;
                let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            }
        });
        port
    }

    async fn probe(issuer: &domain::validate::IssuerUrl) -> domain::oidc::OidcProbeReport {
        portal::oidc::probe_with(&HttpFetcher::new().unwrap(), issuer).await
    }

    #[tokio::test]
    async fn a_matching_provider_passes_with_its_keys() {
        let port = provider(|p| format!("http://127.0.0.1:{p}/realm"));
        let issuer =
            domain::validate::IssuerUrl::parse(&format!("http://127.0.0.1:{port}/realm")).unwrap();
        let r = probe(&issuer).await;
        assert!(r.ok(), "{:?}", r.problems);
        assert_eq!(r.signing_keys, vec!["k1 (RSA, RS256)"]);
        assert_eq!(r.id_token_algorithms, vec!["RS256", "ES256"]);
    }

    #[tokio::test]
    async fn an_issuer_mismatch_names_both_values() {
        let port = provider(|p| format!("http://127.0.0.1:{p}/other"));
        let issuer =
            domain::validate::IssuerUrl::parse(&format!("http://127.0.0.1:{port}/realm")).unwrap();
        let r = probe(&issuer).await;
        assert!(
            r.problems
                .iter()
                .any(|p| p.contains("/realm`") && p.contains("/other`")),
            "{:?}",
            r.problems
        );
    }

    #[tokio::test]
    async fn an_unreachable_provider_is_reported_not_raised() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let issuer =
            domain::validate::IssuerUrl::parse(&format!("http://127.0.0.1:{port}")).unwrap();
        let r = probe(&issuer).await;
        assert!(
            r.problems[0].contains("fetching the discovery document"),
            "{:?}",
            r.problems
        );
    }
}
