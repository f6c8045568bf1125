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

// What the API document states about these values (`crate::schema`) is built from the
// constants and patterns below, and the tests below check that the patterns accept exactly what
// the parsers accept: the document and the server cannot drift apart.

/// The characters `str::trim` removes (Unicode `White_Space`), as the body of a regex class.
pub const WHITESPACE: &str =
    r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

/// A display name: 1–100 characters, not only white space, no control characters; kept
/// trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Name(String);
string_newtype!(Name);

pub const NAME_MAX: usize = 100;

/// A [`Name`] (with [`NAME_MAX`] as its length limit): white space around a text with no
/// control character and one character that is neither a control character nor white space.
pub const NAME_PATTERN: &str = r"^[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]*[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$";

impl Name {
    pub fn parse(input: &str) -> Result<Self, String> {
        // The limit counts what was sent (as the API document's `maxLength` does).
        let n = input.chars().count();
        if n > NAME_MAX {
            return Err(format!("must be at most {NAME_MAX} characters (got {n})"));
        }
        let s = input.trim();
        if s.is_empty() {
            return Err("must not be empty".into());
        }
        if s.chars().any(char::is_control) {
            return Err("must not contain control characters (tabs, new lines…)".into());
        }
        Ok(Name(s.to_string()))
    }
}

/// The host of an `https` URL: a domain name (labels of letters and digits joined by single
/// hyphens, the last one starting with a letter) or an IPv4 address.
const HOST: &str = r"(?:(?:[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\.)*[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*|(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9]))";
/// The loopback hosts plain `http` is accepted for (development).
const LOOPBACK: &str = r"(?:localhost|127\.0\.0\.1|\[::1\])";
/// An optional port, 0–65535.
const PORT: &str =
    r"(?::(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?";
/// One character of a path segment (RFC 3986 `pchar`).
const PCHAR: &str = r"(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})";

/// The issuer's form: `https://host[:port][/path]` (plain `http` only on loopback), no query,
/// fragment or credentials. The server also parses it as a URL.
pub fn issuer_core() -> String {
    format!(r"(?:https://{HOST}|http://{LOOPBACK}){PORT}(?:/{PCHAR}*)*")
}

/// A redirect URI's form: `https` (plain `http` only on loopback) with an optional query, or a
/// private-use scheme such as `com.example.app:/callback` (RFC 8252); never a fragment.
pub fn redirect_uri_core() -> String {
    let query = format!(r"(?:\?(?:{PCHAR}|[/?])*)?");
    format!(
        r"(?:(?:https://{HOST}|http://{LOOPBACK}){PORT}(?:/{PCHAR}*)*|[A-Za-z][A-Za-z0-9+-]*(?:\.[A-Za-z0-9+-]+)+:(?:/(?:{PCHAR}+(?:/{PCHAR}*)*)?)?){query}"
    )
}

/// An outbound webhook's form: `https` (plain `http` only on loopback) with an optional query;
/// never a fragment or credentials.
pub fn webhook_url_core() -> String {
    format!(r"(?:https://{HOST}|http://{LOOPBACK}){PORT}(?:/{PCHAR}*)*(?:\?(?:{PCHAR}|[/?])*)?")
}

/// Whether `s` (trimmed) has [`webhook_url_core`]'s form.
pub fn is_webhook_form(s: &str) -> bool {
    static RE: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(&format!("^(?:{})$", webhook_url_core())).ok()
    });
    matches(&RE, s)
}

/// Free text that must say something (a comment): no NUL, and one character that is neither
/// NUL nor white space.
pub fn said_text_pattern() -> String {
    format!(r"^[^\x00]*[^\x00{WHITESPACE}][^\x00]*$")
}

/// `core` with the white space the parsers trim around it, anchored: the pattern the API
/// document states.
pub fn trimmed_pattern(core: &str) -> String {
    format!("^[{WHITESPACE}]*(?:{core})[{WHITESPACE}]*$")
}

fn issuer_form() -> &'static Option<regex::Regex> {
    static RE: std::sync::LazyLock<Option<regex::Regex>> =
        std::sync::LazyLock::new(|| regex::Regex::new(&format!("^(?:{})$", issuer_core())).ok());
    &RE
}

fn redirect_form() -> &'static Option<regex::Regex> {
    static RE: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(&format!("^(?:{})$", redirect_uri_core())).ok()
    });
    &RE
}

fn matches(form: &Option<regex::Regex>, s: &str) -> bool {
    form.as_ref().is_some_and(|re| re.is_match(s))
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
        if input.chars().count() > URL_MAX {
            return Err(format!("must be at most {URL_MAX} characters"));
        }
        let s = input.trim();
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
        if !matches(issuer_form(), s) {
            return Err("must be an https URL (optionally with a port and a path) naming a domain or an IPv4 address, in URL characters (%-encode others); example: https://login.example.com/realms/acme".into());
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
        if input.chars().count() > URL_MAX {
            return Err(format!("must be at most {URL_MAX} characters"));
        }
        let s = input.trim();
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
        if !matches(redirect_form(), s) {
            return Err("must be an https URL (optionally with a port, a path and a query) naming a domain or an IPv4 address, or reverse.domain:/path, in URL characters (%-encode others)".into());
        }
        Ok(RedirectUri(s.to_string()))
    }
}

/// An OAuth client id: 1–255 visible ASCII characters (white space around them is trimmed).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(String);
string_newtype!(ClientId);

pub const CLIENT_ID_MAX: usize = 255;
/// A [`ClientId`]'s form, inside [`trimmed_pattern`].
pub const CLIENT_ID_CORE: &str = r"[\x21-\x7e]+";

impl ClientId {
    pub fn parse(input: &str) -> Result<Self, String> {
        if input.chars().count() > CLIENT_ID_MAX {
            return Err(format!("must be at most {CLIENT_ID_MAX} characters"));
        }
        let s = input.trim();
        if s.is_empty() {
            return Err("must not be empty".into());
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

pub const SECRET_MAX: usize = 4096;

/// Free text (searches, filters, error messages): anything but NUL, which PostgreSQL cannot
/// store or compare in text.
pub const TEXT_PATTERN: &str = r"^[^\x00]*$";

/// Checks free text against [`TEXT_PATTERN`].
pub fn check_text(s: &str) -> Result<(), String> {
    if s.contains('\0') {
        return Err("must not contain NUL characters".into());
    }
    Ok(())
}

/// The longest `Idempotency-Key`.
pub const IDEMPOTENCY_KEY_MAX: usize = 255;
/// An `Idempotency-Key`: visible ASCII characters (with [`IDEMPOTENCY_KEY_MAX`]).
pub const IDEMPOTENCY_KEY_PATTERN: &str = r"^[\x21-\x7e]+$";

/// Checks an `Idempotency-Key`.
pub fn check_idempotency_key(key: &str) -> Result<(), String> {
    if key.is_empty()
        || key.len() > IDEMPOTENCY_KEY_MAX
        || !key.chars().all(|c| c.is_ascii_graphic())
    {
        return Err(format!(
            "must be 1 to {IDEMPOTENCY_KEY_MAX} visible ASCII characters (a UUID is a good choice)"
        ));
    }
    Ok(())
}

/// A secret typed by an admin (an OIDC client secret): 1–4096 characters.
pub fn check_secret(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.chars().count() > SECRET_MAX {
        return Err(format!("must be at most {SECRET_MAX} characters"));
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

#[cfg(test)]
#[path = "contract_tests.rs"]
mod contract_tests;
