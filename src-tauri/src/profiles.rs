//! Connection profiles: where the data is. Kept in `profiles.json` in the app's data folder;
//! database passwords and portal sign-ins are never written there — they live in the OS
//! keychain.

use domain::error::{Error, Result, Validator};
use domain::validate::Name;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use ts_rs::TS;

pub const EMBEDDED_ID: &str = "embedded";

/// How a profile reaches its data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Connection {
    /// The SQLite workspace in the app's data folder.
    Embedded,
    /// The portal's PostgreSQL database; the password is in the OS keychain.
    Postgres {
        host: String,
        port: u16,
        database: String,
        user: String,
        /// Profiles saved before this choice existed hold `require_tls: true|false` instead,
        /// read as `require` and `prefer` — what they did then (see `ProfileBook::load`).
        tls: TlsMode,
    },
    /// The portal API, signed in with OIDC; the tokens are in the OS keychain.
    Portal {
        /// The API's base URL.
        url: String,
        /// The identity provider's issuer.
        issuer: String,
        /// This app's public client id at the provider.
        client_id: String,
        /// Scopes to ask for besides `openid`.
        scopes: Vec<String>,
    },
}

/// How a direct-PostgreSQL profile uses TLS: libpq's `sslmode`, as sqlx (rustls) implements it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    /// No TLS: the password and data cross the network in the clear.
    Disable,
    /// TLS when the server offers it, without checking its certificate; plain otherwise. Stops
    /// passive eavesdropping only when the server has TLS, never an active attacker.
    Prefer,
    /// TLS always, but the certificate is not checked: eavesdroppers see nothing, yet anyone
    /// who can intercept the connection can impersonate the server and read everything.
    Require,
    /// TLS always, and the server's certificate must chain to a trusted certificate authority
    /// and name the host the profile connects to. The trusted authorities are the Mozilla list
    /// built into the app (webpki-roots), plus the file named by `PGSSLROOTCERT`, if set.
    #[default]
    VerifyFull,
}

impl TlsMode {
    /// The `sslmode` parameter of the database URL.
    pub fn sslmode(self) -> &'static str {
        match self {
            TlsMode::Disable => "disable",
            TlsMode::Prefer => "prefer",
            TlsMode::Require => "require",
            TlsMode::VerifyFull => "verify-full",
        }
    }
}

/// Reads the choice, or an older profile's `require_tls` flag (`true` → `require`, `false` →
/// `prefer`: the `sslmode` it used to produce, so an upgrade changes no connection).
impl<'de> Deserialize<'de> for TlsMode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stored {
            Old(bool),
            Mode(String),
        }
        match Stored::deserialize(d)? {
            Stored::Old(true) => Ok(TlsMode::Require),
            Stored::Old(false) => Ok(TlsMode::Prefer),
            Stored::Mode(m) => match m.as_str() {
                "disable" => Ok(TlsMode::Disable),
                "prefer" => Ok(TlsMode::Prefer),
                "require" => Ok(TlsMode::Require),
                "verify-full" => Ok(TlsMode::VerifyFull),
                other => Err(serde::de::Error::unknown_variant(
                    other,
                    &["disable", "prefer", "require", "verify-full"],
                )),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Profile {
    pub id: String,
    pub name: String,
    pub connection: Connection,
}

/// The profiles and which one is active.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ProfileBook {
    pub active: String,
    pub profiles: Vec<Profile>,
}

impl Default for ProfileBook {
    fn default() -> Self {
        ProfileBook {
            active: EMBEDDED_ID.into(),
            profiles: vec![Profile {
                id: EMBEDDED_ID.into(),
                name: "Embedded workspace".into(),
                connection: Connection::Embedded,
            }],
        }
    }
}

/// A direct-PostgreSQL profile as typed in the form. The password, when given, goes to the
/// keychain.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct PostgresForm {
    pub id: Option<String>,
    pub name: String,
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
    pub password: Option<String>,
    pub tls: TlsMode,
}

impl PostgresForm {
    /// Validates every field at once.
    pub fn to_profile(&self) -> Result<Profile> {
        let mut v = Validator::new();
        let name = v.check("name", Name::parse(&self.name));
        let host = self.host.trim();
        if host.is_empty() || host.len() > 253 || host.contains(['/', '@', ' ', '?', '#']) {
            v.push(
                "host",
                "must be a host name or IP address, e.g. db.internal or 10.0.0.5",
            );
        }
        if self.port == 0 {
            v.push("port", "must be between 1 and 65535");
        }
        for (field, val) in [("database", &self.database), ("user", &self.user)] {
            let t = val.trim();
            if t.is_empty() || t.len() > 63 || t.chars().any(char::is_control) {
                v.push(field, "must be 1 to 63 characters");
            }
        }
        v.finish()?;
        Ok(Profile {
            id: self
                .id
                .clone()
                .unwrap_or_else(|| format!("pg-{}", uuid::Uuid::new_v4().simple())),
            name: name.map(|n| n.to_string()).unwrap_or_default(),
            connection: Connection::Postgres {
                host: host.to_string(),
                port: self.port,
                database: self.database.trim().to_string(),
                user: self.user.trim().to_string(),
                tls: self.tls,
            },
        })
    }
}

/// A portal-API profile as typed in the form. Issuer and client id left empty are taken from
/// the portal's own sign-in description (`GET /v1/sign-in`).
#[derive(Debug, Clone, Deserialize, TS)]
pub struct PortalForm {
    pub id: Option<String>,
    pub name: String,
    pub url: String,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
}

impl PortalForm {
    /// Validates every field at once; `advertised` fills what the form leaves empty.
    pub fn to_profile(&self, advertised: Option<&portal::wire::SignInInfo>) -> Result<Profile> {
        let mut v = Validator::new();
        let name = v.check("name", Name::parse(&self.name));
        let url = v.check(
            "url",
            client::parse_base_url(&self.url).map_err(|e| {
                e.fields()
                    .first()
                    .map(|f| f.message.clone())
                    .unwrap_or_else(|| e.to_string())
            }),
        );
        let given = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let issuer = given(&self.issuer).or_else(|| advertised.map(|a| a.issuer.clone()));
        match &issuer {
            None => v.push(
                "issuer",
                "the portal does not say; enter the identity provider's issuer URL",
            ),
            Some(i) => {
                if let Err(e) = check_issuer(i) {
                    v.push("issuer", e);
                }
            }
        }
        let client_id = given(&self.client_id).or_else(|| advertised.map(|a| a.client_id.clone()));
        if client_id.as_deref().is_none_or(|c| c.len() > 255) {
            v.push(
                "client_id",
                "enter this app's client id at the identity provider (e.g. provider-admin)",
            );
        }
        v.finish()?;
        Ok(Profile {
            id: self
                .id
                .clone()
                .unwrap_or_else(|| format!("portal-{}", uuid::Uuid::new_v4().simple())),
            name: name.map(|n| n.to_string()).unwrap_or_default(),
            connection: Connection::Portal {
                url: url.map(|u| u.to_string()).unwrap_or_default(),
                issuer: issuer.unwrap_or_default().trim_end_matches('/').to_string(),
                client_id: client_id.unwrap_or_default(),
                scopes: advertised.map(|a| a.scopes.clone()).unwrap_or_default(),
            },
        })
    }
}

/// An issuer is https, or http on this machine (a provider for development).
fn check_issuer(issuer: &str) -> std::result::Result<(), String> {
    let url = reqwest::Url::parse(issuer).map_err(|e| format!("not a URL ({e})"))?;
    let local = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match url.scheme() {
        "https" => Ok(()),
        "http" if local => Ok(()),
        _ => Err("must be an https URL (http only for a provider on this machine)".into()),
    }
}

/// Brings a `profiles.json` written by an older version to today's form: a PostgreSQL
/// connection's `require_tls` flag becomes `tls` (the flag's value, which `TlsMode` reads).
fn migrate(mut book: serde_json::Value) -> serde_json::Value {
    let connections = book
        .get_mut("profiles")
        .and_then(|p| p.as_array_mut())
        .into_iter()
        .flatten()
        .filter_map(|p| p.get_mut("connection").and_then(|c| c.as_object_mut()));
    for connection in connections {
        if !connection.contains_key("tls") {
            if let Some(flag) = connection.remove("require_tls") {
                connection.insert("tls".into(), flag);
            }
        }
    }
    book
}

impl ProfileBook {
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join("profiles.json")
    }

    pub fn load(data_dir: &Path) -> Result<Self> {
        match std::fs::read_to_string(Self::path(data_dir)) {
            Ok(text) => serde_json::from_str(&text)
                .map(migrate)
                .and_then(serde_json::from_value)
                .map_err(|e| {
                    Error::Unavailable(format!(
                        "{} is damaged ({e}); move it away to start with the embedded workspace",
                        Self::path(data_dir).display()
                    ))
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(Error::Unavailable(format!(
                "cannot read {}: {e}",
                Self::path(data_dir).display()
            ))),
        }
    }

    pub fn save(&self, data_dir: &Path) -> Result<()> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            Error::Unavailable(format!("cannot create {}: {e}", data_dir.display()))
        })?;
        let text =
            serde_json::to_string_pretty(self).map_err(|e| Error::Internal(e.to_string()))?;
        let tmp = Self::path(data_dir).with_extension("tmp");
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::rename(&tmp, Self::path(data_dir)))
            .map_err(|e| Error::Unavailable(format!("cannot save the profiles: {e}")))
    }

    pub fn get(&self, id: &str) -> Result<&Profile> {
        self.profiles
            .iter()
            .find(|p| p.id == id)
            .ok_or_else(|| Error::NotFound(format!("no profile {id}")))
    }

    pub fn active(&self) -> Result<&Profile> {
        self.get(&self.active)
    }

    pub fn upsert(&mut self, p: Profile) {
        match self.profiles.iter_mut().find(|x| x.id == p.id) {
            Some(slot) => *slot = p,
            None => self.profiles.push(p),
        }
    }
}

fn keychain_account(profile_id: &str) -> String {
    format!("pg-password/{profile_id}")
}

/// Stores a profile's database password in the OS keychain.
pub fn save_password(profile_id: &str, password: &str) -> Result<()> {
    portal::os::entry(&keychain_account(profile_id))?
        .set_password(password)
        .map_err(|e| portal::os::unavailable(&e))
}

fn load_password(profile_id: &str) -> Result<Option<String>> {
    match portal::os::entry(&keychain_account(profile_id))?.get_password() {
        Ok(p) => Ok(Some(p)),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(portal::os::unavailable(&e)),
    }
}

pub fn delete_password(profile_id: &str) {
    if let Ok(entry) = portal::os::entry(&keychain_account(profile_id)) {
        let _ = entry.delete_credential();
    }
}

/// Percent-encodes a URL component (user, password, database).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The database address of a profile (`None` for the embedded workspace), with the password
/// from `password` or else the keychain. The result holds a secret: never log it.
pub fn database_url(
    p: &Profile,
    password: Option<&str>,
) -> Result<Option<domain::Sensitive<String>>> {
    match &p.connection {
        Connection::Embedded | Connection::Portal { .. } => Ok(None),
        Connection::Postgres {
            host,
            port,
            database,
            user,
            tls,
        } => {
            let stored;
            let password = match password {
                Some(pw) => Some(pw),
                None => {
                    stored = load_password(&p.id)?;
                    stored.as_deref()
                }
            };
            let creds = match password {
                Some(pw) => format!("{}:{}", encode(user), encode(pw)),
                None => encode(user),
            };
            Ok(Some(domain::Sensitive::new(format!(
                "postgres://{creds}@{host}:{port}/{}?sslmode={}",
                encode(database),
                tls.sslmode()
            ))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> PostgresForm {
        PostgresForm {
            id: None,
            name: "Production".into(),
            host: "db.internal".into(),
            port: 5432,
            database: "portal".into(),
            user: "admin".into(),
            password: None,
            tls: TlsMode::VerifyFull,
        }
    }

    #[test]
    fn the_profile_file_never_holds_the_password() {
        let p = form().to_profile().unwrap();
        let json = serde_json::to_string(&ProfileBook {
            active: p.id.clone(),
            profiles: vec![p.clone()],
        })
        .unwrap();
        assert!(!json.contains("password"));
        let url = database_url(&p, Some("p@ss/w:rd")).unwrap().unwrap();
        assert_eq!(
            url.expose(),
            "postgres://admin:p%40ss%2Fw%3Ard@db.internal:5432/portal?sslmode=verify-full"
        );
        assert_eq!(format!("{url:?}"), "<redacted>");
    }

    #[test]
    fn a_portal_profile_takes_what_the_portal_advertises() {
        let form = PortalForm {
            id: None,
            name: "Production portal".into(),
            url: "https://portal.example.com/api".into(),
            issuer: None,
            client_id: None,
        };
        let info = portal::wire::SignInInfo {
            issuer: "https://id.example.com/".into(),
            client_id: "provider-admin".into(),
            scopes: vec!["portal".into()],
        };
        let p = form.to_profile(Some(&info)).unwrap();
        assert_eq!(
            p.connection,
            Connection::Portal {
                url: "https://portal.example.com/api/".into(),
                issuer: "https://id.example.com".into(),
                client_id: "provider-admin".into(),
                scopes: vec!["portal".into()],
            }
        );
        let bad = PortalForm {
            name: "".into(),
            url: "http://portal.example.com".into(),
            issuer: Some("http://id.example.com".into()),
            ..form
        };
        let fields: Vec<_> = bad
            .to_profile(None)
            .unwrap_err()
            .fields()
            .iter()
            .map(|f| f.field.clone())
            .collect();
        assert_eq!(fields, vec!["name", "url", "issuer", "client_id"]);
    }

    #[test]
    fn bad_fields_are_all_named() {
        let bad = PostgresForm {
            name: "".into(),
            host: "a/b".into(),
            port: 0,
            database: "".into(),
            ..form()
        };
        let err = bad.to_profile().unwrap_err();
        let fields: Vec<_> = err.fields().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["name", "host", "port", "database"]);
    }

    #[test]
    fn each_tls_choice_gives_its_sslmode() {
        for (tls, sslmode) in [
            (TlsMode::Disable, "disable"),
            (TlsMode::Prefer, "prefer"),
            (TlsMode::Require, "require"),
            (TlsMode::VerifyFull, "verify-full"),
        ] {
            let p = PostgresForm { tls, ..form() }.to_profile().unwrap();
            let url = database_url(&p, Some("pw")).unwrap().unwrap();
            assert_eq!(
                url.expose(),
                &format!("postgres://admin:pw@db.internal:5432/portal?sslmode={sslmode}")
            );
            let json = serde_json::to_value(&p).unwrap();
            assert_eq!(
                json["connection"]["tls"], sslmode,
                "stored as the sslmode name"
            );
            let back: Profile = serde_json::from_value(json).unwrap();
            assert_eq!(back, p);
        }
        assert_eq!(
            TlsMode::default(),
            TlsMode::VerifyFull,
            "new profiles verify"
        );
    }

    #[test]
    fn a_profile_file_from_before_the_tls_choice_still_loads() {
        let dir = std::env::temp_dir().join(format!("padmin-profiles-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let old = r#"{
  "active": "pg-old",
  "profiles": [
    { "id": "embedded", "name": "Embedded workspace", "connection": { "kind": "embedded" } },
    { "id": "pg-old", "name": "Production",
      "connection": { "kind": "postgres", "host": "db.internal", "port": 5432,
                      "database": "portal", "user": "admin", "require_tls": true } },
    { "id": "pg-lab", "name": "Lab",
      "connection": { "kind": "postgres", "host": "10.0.0.5", "port": 5433,
                      "database": "lab", "user": "me", "require_tls": false } }
  ]
}"#;
        std::fs::write(ProfileBook::path(&dir), old).unwrap();
        let book = ProfileBook::load(&dir).unwrap();
        let url = |id: &str| {
            database_url(book.get(id).unwrap(), Some("pw"))
                .unwrap()
                .unwrap()
                .expose()
                .clone()
        };
        // The same sslmode as before the upgrade: no connection changes behind the user's back.
        assert_eq!(
            url("pg-old"),
            "postgres://admin:pw@db.internal:5432/portal?sslmode=require"
        );
        assert_eq!(
            url("pg-lab"),
            "postgres://me:pw@10.0.0.5:5433/lab?sslmode=prefer"
        );
        // Saved again, it is written in the new form and reads back the same.
        book.save(&dir).unwrap();
        let text = std::fs::read_to_string(ProfileBook::path(&dir)).unwrap();
        assert!(!text.contains("require_tls"), "{text}");
        assert!(text.contains(r#""tls": "require""#), "{text}");
        assert_eq!(ProfileBook::load(&dir).unwrap(), book);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
