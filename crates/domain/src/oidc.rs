//! Checking an OIDC provider's discovery document and key set (pure: the HTTP fetch is the
//! front end's job). Used by "Test connection" on an OIDC configuration.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a connection test found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OidcProbeReport {
    /// The issuer configured here.
    pub expected_issuer: String,
    pub discovery_url: String,
    /// The issuer the provider announces, if the document was read.
    pub found_issuer: Option<String>,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub jwks_uri: Option<String>,
    /// Signing keys in the JWKS: `kid (kty, alg)`.
    pub signing_keys: Vec<String>,
    pub id_token_algorithms: Vec<String>,
    /// Everything that is wrong, in sentences. Empty means the test passed.
    pub problems: Vec<String>,
}

impl OidcProbeReport {
    pub fn new(expected_issuer: &str, discovery_url: &str) -> Self {
        OidcProbeReport {
            expected_issuer: expected_issuer.to_string(),
            discovery_url: discovery_url.to_string(),
            ..Default::default()
        }
    }

    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// Reads the discovery document. Returns the JWKS address to fetch next, if any.
    pub fn read_discovery(&mut self, doc: &Value) -> Option<String> {
        let s = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_string);
        self.found_issuer = s("issuer");
        self.authorization_endpoint = s("authorization_endpoint");
        self.token_endpoint = s("token_endpoint");
        self.jwks_uri = s("jwks_uri");
        self.id_token_algorithms = doc
            .get("id_token_signing_alg_values_supported")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        match &self.found_issuer {
            None => self.problems.push("the discovery document has no `issuer`".into()),
            Some(found) if found != &self.expected_issuer => self.problems.push(format!(
                "issuer mismatch: configured `{}`, but the provider says `{found}` (OIDC compares them exactly, including a trailing slash)",
                self.expected_issuer
            )),
            Some(_) => {}
        }
        for (k, v) in [
            ("authorization_endpoint", &self.authorization_endpoint),
            ("token_endpoint", &self.token_endpoint),
        ] {
            if v.is_none() {
                self.problems
                    .push(format!("the discovery document has no `{k}`"));
            }
        }
        if self.jwks_uri.is_none() {
            self.problems
                .push("the discovery document has no `jwks_uri`".into());
        }
        self.jwks_uri.clone()
    }

    /// Reads the JSON Web Key Set.
    pub fn read_jwks(&mut self, jwks: &Value) {
        let keys = jwks
            .get("keys")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        self.signing_keys = keys
            .iter()
            .filter(|k| {
                k.get("use")
                    .and_then(Value::as_str)
                    .is_none_or(|u| u == "sig")
            })
            .map(|k| {
                let f = |n: &str| k.get(n).and_then(Value::as_str).unwrap_or("?").to_string();
                format!("{} ({}, {})", f("kid"), f("kty"), f("alg"))
            })
            .collect();
        if self.signing_keys.is_empty() {
            self.problems.push("the JWKS holds no signing key".into());
        }
    }

    pub fn fetch_failed(&mut self, what: &str, url: &str, why: &str) {
        self.problems
            .push(format!("fetching the {what} from {url} failed: {why}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_matching_provider_passes_and_a_mismatch_names_both_issuers() {
        let mut ok = OidcProbeReport::new(
            "https://idp.example.com",
            "https://idp.example.com/.well-known/openid-configuration",
        );
        let jwks = ok.read_discovery(&json!({
            "issuer": "https://idp.example.com", "authorization_endpoint": "https://idp.example.com/auth",
            "token_endpoint": "https://idp.example.com/token", "jwks_uri": "https://idp.example.com/jwks",
            "id_token_signing_alg_values_supported": ["RS256"]
        }));
        assert_eq!(jwks.as_deref(), Some("https://idp.example.com/jwks"));
        ok.read_jwks(&json!({"keys": [{"kid": "k1", "kty": "RSA", "alg": "RS256", "use": "sig"}]}));
        assert!(ok.ok(), "{:?}", ok.problems);
        assert_eq!(ok.signing_keys, vec!["k1 (RSA, RS256)"]);

        let mut bad = OidcProbeReport::new("https://idp.example.com", "u");
        bad.read_discovery(&json!({"issuer": "https://idp.example.com/"}));
        assert!(
            bad.problems[0].contains("`https://idp.example.com`")
                && bad.problems[0].contains("`https://idp.example.com/`")
        );
        bad.read_jwks(&json!({"keys": []}));
        assert!(bad.problems.iter().any(|p| p.contains("no signing key")));
    }
}
