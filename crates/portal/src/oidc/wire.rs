//! The OIDC API's JSON shapes. The client secret is write-only and redacted in `Debug`.

use super::{NewOidc, OidcChanges};
use domain::Sensitive;
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Body of `POST /v1/oidc`. The secret is write-only: no response ever contains it.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewOidcBody {
    #[cfg_attr(feature = "openapi", schema(schema_with = domain::schema::issuer))]
    pub issuer: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = domain::schema::client_id))]
    pub client_id: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = domain::schema::redirect_uri))]
    pub redirect_uri: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = domain::schema::secret_or_null))]
    pub client_secret: Option<String>,
    #[serde(default)]
    pub enabled: bool,
}

impl std::fmt::Debug for NewOidcBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewOidcBody")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl From<NewOidcBody> for NewOidc {
    fn from(b: NewOidcBody) -> Self {
        NewOidc {
            issuer: b.issuer,
            client_id: b.client_id,
            redirect_uri: b.redirect_uri,
            client_secret: b.client_secret.map(Sensitive::new),
            enabled: b.enabled,
        }
    }
}

impl From<&NewOidc> for NewOidcBody {
    fn from(n: &NewOidc) -> Self {
        NewOidcBody {
            issuer: n.issuer.clone(),
            client_id: n.client_id.clone(),
            redirect_uri: n.redirect_uri.clone(),
            client_secret: n.client_secret.as_ref().map(|s| s.expose().clone()),
            enabled: n.enabled,
        }
    }
}

/// Body of `PATCH /v1/oidc/{id}`: only the fields given change.
#[derive(Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OidcChangesBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = domain::schema::issuer_or_null))]
    pub issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = domain::schema::client_id_or_null))]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = domain::schema::redirect_uri_or_null))]
    pub redirect_uri: Option<String>,
    /// A new secret replaces the stored one (not with `clear_client_secret`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = domain::schema::secret_or_null))]
    pub client_secret: Option<String>,
    /// Removes the stored secret.
    #[serde(default)]
    pub clear_client_secret: bool,
}

impl std::fmt::Debug for OidcChangesBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcChangesBody")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("clear_client_secret", &self.clear_client_secret)
            .finish_non_exhaustive()
    }
}

impl From<OidcChangesBody> for OidcChanges {
    fn from(b: OidcChangesBody) -> Self {
        OidcChanges {
            issuer: b.issuer,
            client_id: b.client_id,
            redirect_uri: b.redirect_uri,
            client_secret: b.client_secret.map(Sensitive::new),
            clear_client_secret: b.clear_client_secret,
        }
    }
}

impl From<&OidcChanges> for OidcChangesBody {
    fn from(c: &OidcChanges) -> Self {
        OidcChangesBody {
            issuer: c.issuer.clone(),
            client_id: c.client_id.clone(),
            redirect_uri: c.redirect_uri.clone(),
            client_secret: c.client_secret.as_ref().map(|s| s.expose().clone()),
            clear_client_secret: c.clear_client_secret,
        }
    }
}

/// What the derived schema of [`OidcChangesBody`] cannot state: a new `client_secret` and
/// `clear_client_secret: true` together are refused (`LocalPortal::update_oidc`). The server
/// adds it to the document (`allOf`).
#[cfg(feature = "openapi")]
pub fn oidc_changes_not_both() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Type};
    let only = |field: &str, value: ObjectBuilder| ObjectBuilder::new().property(field, value);
    AnyOfBuilder::new()
        .item(only(
            "clear_client_secret",
            ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .enum_values(Some([false])),
        ))
        .item(only(
            "client_secret",
            ObjectBuilder::new().schema_type(Type::Null),
        ))
        .description(Some(
            "Give a new `client_secret` or `clear_client_secret: true`, not both",
        ))
        .build()
        .into()
}

/// Body of `PUT /v1/oidc/{id}/enabled`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EnabledBody {
    pub enabled: bool,
}
