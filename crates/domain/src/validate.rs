//! Validated newtypes: once parsed, a value is known to be acceptable everywhere.

use serde::{Deserialize, Serialize};
use std::fmt;
use url::Url;

macro_rules! string_newtype {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                Self::parse(&s)
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
    };
}

/// A display name: 1–100 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Name(String);
string_newtype!(Name);

pub const NAME_MAX: usize = 100;

impl Name {
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = input.trim();
        if s.is_empty() {
            return Err("must not be empty".into());
        }
        let n = s.chars().count();
        if n > NAME_MAX {
            return Err(format!("must be at most {NAME_MAX} characters (got {n})"));
        }
        if s.chars().any(char::is_control) {
            return Err("must not contain control characters (tabs, new lines…)".into());
        }
        Ok(Name(s.to_string()))
    }
}

/// An OIDC issuer: an absolute `https` URL (plain `http` only on loopback, for development),
/// with no query or fragment, at most 2048 characters. A trailing slash is kept as given,
/// because issuer comparison in OIDC is exact.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IssuerUrl(String);
string_newtype!(IssuerUrl);

pub const URL_MAX: usize = 2048;

fn is_loopback(u: &Url) -> bool {
    matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
}

impl IssuerUrl {
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = input.trim();
        if s.len() > URL_MAX {
            return Err(format!("must be at most {URL_MAX} characters"));
        }
        let u = Url::parse(s).map_err(|e| {
            format!("is not an absolute URL ({e}); example: https://login.example.com")
        })?;
        match u.scheme() {
            "https" => {}
            "http" if is_loopback(&u) => {}
            _ => return Err("must use https (http is accepted only for localhost)".into()),
        }
        if u.host_str().is_none() {
            return Err("must name a host".into());
        }
        if u.query().is_some() || u.fragment().is_some() {
            return Err("must not contain a query (?…) or a fragment (#…)".into());
        }
        if !u.username().is_empty() || u.password().is_some() {
            return Err("must not contain credentials".into());
        }
        Ok(IssuerUrl(s.to_string()))
    }

    /// The discovery document's address.
    pub fn discovery_url(&self) -> String {
        format!(
            "{}/.well-known/openid-configuration",
            self.0.trim_end_matches('/')
        )
    }
}

/// A redirect URI: absolute, without fragment; `https`, loopback `http`, or a private-use
/// scheme such as `com.example.app:/callback` (RFC 8252).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RedirectUri(String);
string_newtype!(RedirectUri);

impl RedirectUri {
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = input.trim();
        if s.len() > URL_MAX {
            return Err(format!("must be at most {URL_MAX} characters"));
        }
        let u = Url::parse(s).map_err(|e| {
            format!("is not an absolute URI ({e}); example: https://app.example.com/callback")
        })?;
        if u.fragment().is_some() {
            return Err("must not contain a fragment (#…)".into());
        }
        match u.scheme() {
            "https" => {}
            "http" if is_loopback(&u) => {}
            "http" => return Err("must use https (http is accepted only for localhost)".into()),
            "javascript" | "data" | "file" | "about" => {
                return Err(format!("the `{}` scheme is not allowed", u.scheme()))
            }
            s if s.contains('.') => {} // private-use scheme (reverse domain name)
            s => {
                return Err(format!(
                    "the `{s}` scheme is not allowed: use https or a reverse-domain scheme"
                ))
            }
        }
        Ok(RedirectUri(s.to_string()))
    }
}

/// An OAuth client id: 1–255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(String);
string_newtype!(ClientId);

impl ClientId {
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = input.trim();
        if s.is_empty() {
            return Err("must not be empty".into());
        }
        if s.len() > 255 {
            return Err("must be at most 255 characters".into());
        }
        if !s.chars().all(|c| c.is_ascii_graphic()) {
            return Err("must be visible ASCII characters without spaces".into());
        }
        Ok(ClientId(s.to_string()))
    }
}

/// A uuid identifying a stored entity, with a message that names what was expected.
pub fn parse_uuid(input: &str) -> Result<uuid::Uuid, String> {
    uuid::Uuid::parse_str(input.trim()).map_err(|_| {
        format!(
            "`{}` is not an id (expected a UUID such as 0190c9d2-…)",
            input.chars().take(40).collect::<String>()
        )
    })
}

/// A secret typed by an admin (an OIDC client secret): 1–4096 characters.
pub fn check_secret(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > 4096 {
        return Err("must be at most 4096 characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(Name::parse("  Acme  ").unwrap().as_str(), "Acme");
        assert!(Name::parse("   ").unwrap_err().contains("empty"));
        assert!(Name::parse(&"x".repeat(101))
            .unwrap_err()
            .contains("at most 100"));
        assert!(Name::parse("a\nb").is_err());
        assert!(
            Name::parse(&"é".repeat(100)).is_ok(),
            "the limit counts characters, not bytes"
        );
    }

    #[test]
    fn issuers() {
        assert!(IssuerUrl::parse("https://login.example.com").is_ok());
        assert!(IssuerUrl::parse("http://127.0.0.1:8080/realms/x").is_ok());
        assert!(IssuerUrl::parse("http://login.example.com")
            .unwrap_err()
            .contains("https"));
        assert!(IssuerUrl::parse("login.example.com")
            .unwrap_err()
            .contains("absolute"));
        assert!(IssuerUrl::parse("https://x.example.com/?a=1").is_err());
        assert!(IssuerUrl::parse(&format!("https://x.com/{}", "a".repeat(3000))).is_err());
        assert_eq!(
            IssuerUrl::parse("https://x.com/").unwrap().discovery_url(),
            "https://x.com/.well-known/openid-configuration"
        );
    }

    #[test]
    fn redirect_uris() {
        assert!(RedirectUri::parse("https://app.example.com/cb").is_ok());
        assert!(RedirectUri::parse("http://localhost:4321/cb").is_ok());
        assert!(RedirectUri::parse("com.example.app:/cb").is_ok());
        assert!(RedirectUri::parse("javascript:alert(1)").is_err());
        assert!(RedirectUri::parse("https://app.example.com/cb#x").is_err());
        assert!(RedirectUri::parse("http://evil.example.com/cb").is_err());
    }
}
