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
        require_tls: bool,
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
    pub require_tls: bool,
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
                require_tls: self.require_tls,
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

impl ProfileBook {
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join("profiles.json")
    }

    pub fn load(data_dir: &Path) -> Result<Self> {
        match std::fs::read_to_string(Self::path(data_dir)) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
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
            require_tls,
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
            let ssl = if *require_tls { "require" } else { "prefer" };
            Ok(Some(domain::Sensitive::new(format!(
                "postgres://{creds}@{host}:{port}/{}?sslmode={ssl}",
                encode(database)
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
            require_tls: true,
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
            "postgres://admin:p%40ss%2Fw%3Ard@db.internal:5432/portal?sslmode=require"
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
}
