//! What the API document states beyond the derived schemas: its security schemes and the rules
//! between fields that the wire types' derives cannot express.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

/// The document's security schemes: OIDC bearer tokens and federation keys.
pub(crate) struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An OIDC access token (JWT) from the portal's identity provider: typed `at+jwt` (RFC 9068), or a plain `JWT` that is not an ID token; ID tokens are refused. Scopes name the permission an operation needs."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "federation_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("pak_…")
                    .description(Some("A federation key (partner systems)."))
                    .build(),
            ),
        );
    }
}

/// Rules between fields of a body, which the derived schemas cannot state, added to them.
pub(crate) fn cross_field_rules(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::AllOfBuilder;
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    let rules = [
        ("OidcChangesBody", portal::wire::oidc_changes_not_both()),
        ("EscalationStep", domain::schema::repeat_needs_interval()),
    ];
    for (name, rule) in rules {
        if let Some(body) = components.schemas.remove(name) {
            let ruled = AllOfBuilder::new().item(body).item(rule);
            components.schemas.insert(
                name.into(),
                utoipa::openapi::schema::Schema::from(ruled.build()).into(),
            );
        }
    }
    people_commands_only(components);
}

/// The incident commands a person may send: the ones only the server's jobs record
/// (`record_escalation`, `record_sla_at_risk`, `record_sla_breached`) are refused on the API
/// (403), so the document leaves them out.
fn people_commands_only(components: &mut utoipa::openapi::Components) {
    use utoipa::openapi::{schema::Schema, RefOr};
    let Some(RefOr::T(Schema::OneOf(one_of))) = components.schemas.get_mut("IncidentCommand")
    else {
        return;
    };
    one_of.items.retain(|item| {
        let value = serde_json::to_value(item).unwrap_or_default();
        !value["properties"]["command"]["enum"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c.as_str().is_some_and(|c| c.starts_with("record_")))
    });
}
