//! The API document's schemas of validated inputs, built from the same constants and patterns
//! the validators use (`#[schema(schema_with = …)]`, `#[param(schema_with = …)]` on the wire
//! types), so what the document states is what the server enforces.

use crate::incident::{
    REPEAT_MAX, RESOLVE_MINS_MAX, RESPONSE_MINS_MAX, STEPS_MAX, STEP_MINS_MAX, TARGETS_MAX,
};
use crate::model::{
    duration_core, Overlap, AUDIT_FILTER_MAX, CLIENT_STATUSES, CONFIG_MAX_BYTES, INTEGRATION_TYPES,
    KEY_FILTER_DAYS_MAX, KEY_LIFETIME_MAX_SECS, PAGE_MAX, PLANS, REVOKE_MAX, ROTATION_BATCH_MAX,
    SEARCH_MAX, SYNC_ERROR_MAX,
};
use crate::model::{ACTOR_ID_MAX, COMMENT_MAX, ESCALATION_ROLES, TITLE_MAX};
use crate::validate::{
    issuer_core, redirect_uri_core, said_text_pattern, trimmed_pattern, webhook_url_core,
    CLIENT_ID_CORE, CLIENT_ID_MAX, IDEMPOTENCY_KEY_MAX, IDEMPOTENCY_KEY_PATTERN, NAME_MAX,
    NAME_PATTERN, SECRET_MAX, TEXT_PATTERN, URL_MAX,
};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType, Type};
use utoipa::openapi::{Object, RefOr, Schema};

fn string(nullable: bool) -> ObjectBuilder {
    let t = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::from(Type::String)
    };
    ObjectBuilder::new().schema_type(t)
}

fn text(nullable: bool, min: usize, max: usize, description: &str) -> Object {
    string(nullable)
        .min_length((min > 0).then_some(min))
        .max_length(Some(max))
        .pattern(Some(TEXT_PATTERN))
        .description(Some(description))
        .build()
}

fn one_of(values: &[&str], description: &str) -> Object {
    string(false)
        .enum_values(Some(values.iter().copied()))
        .description(Some(description))
        .build()
}

fn integer(min: u32, max: u32, description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(min))
        .maximum(Some(max))
        .description(Some(description))
        .build()
}

fn named(nullable: bool) -> Object {
    string(nullable)
        .min_length(Some(1))
        .max_length(Some(NAME_MAX))
        .pattern(Some(NAME_PATTERN))
        .description(Some(format!(
            "1 to {NAME_MAX} characters, not only white space, no control characters; trimmed"
        )))
        .build()
}

/// A display name.
pub fn name() -> Object {
    named(false)
}

/// A display name, or `null` for no change.
pub fn name_or_null() -> Object {
    named(true)
}

fn issuer_of(nullable: bool) -> Object {
    string(nullable)
        .min_length(Some(1))
        .max_length(Some(URL_MAX))
        .pattern(Some(trimmed_pattern(&issuer_core())))
        .description(Some("The issuer URL: https, with an optional port and path (plain http only for localhost), no query, fragment or credentials"))
        .build()
}

pub fn issuer() -> Object {
    issuer_of(false)
}

pub fn issuer_or_null() -> Object {
    issuer_of(true)
}

fn redirect_of(nullable: bool) -> Object {
    string(nullable)
        .min_length(Some(1))
        .max_length(Some(URL_MAX))
        .pattern(Some(trimmed_pattern(&redirect_uri_core())))
        .description(Some("An https URL with an optional port, path and query (plain http only for localhost), or a private-use scheme such as com.example.app:/callback (RFC 8252); no fragment"))
        .build()
}

pub fn redirect_uri() -> Object {
    redirect_of(false)
}

pub fn redirect_uri_or_null() -> Object {
    redirect_of(true)
}

fn client_id_of(nullable: bool) -> Object {
    string(nullable)
        .min_length(Some(1))
        .max_length(Some(CLIENT_ID_MAX))
        .pattern(Some(trimmed_pattern(CLIENT_ID_CORE)))
        .description(Some("The OAuth client id: visible ASCII characters"))
        .build()
}

pub fn client_id() -> Object {
    client_id_of(false)
}

pub fn client_id_or_null() -> Object {
    client_id_of(true)
}

/// The `Idempotency-Key` header.
pub fn idempotency_key() -> Object {
    string(false)
        .min_length(Some(1))
        .max_length(Some(IDEMPOTENCY_KEY_MAX))
        .pattern(Some(IDEMPOTENCY_KEY_PATTERN))
        .description(Some("Retries with the same key get the first response (24 h); the same key with another body is a 409; a UUID is a good choice"))
        .build()
}

/// A query parameter naming an instant: RFC 3339, or a date (midnight UTC); empty means absent.
pub fn instant() -> Schema {
    use utoipa::openapi::schema::{AnyOfBuilder, KnownFormat, SchemaFormat};
    let format = |f: KnownFormat| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(f)))
            .build()
    };
    AnyOfBuilder::new()
        .item(format(KnownFormat::DateTime))
        .item(format(KnownFormat::Date))
        .item(string(false).max_length(Some(0)).build())
        .description(Some(
            "An instant: RFC 3339 (2026-11-26T04:51:00Z) or a date (2026-11-26, midnight UTC)",
        ))
        .build()
        .into()
}

/// A client secret (write-only), or `null` for none / no change. Any characters: it is stored
/// sealed, as bytes.
pub fn secret_or_null() -> Object {
    string(true)
        .min_length(Some(1))
        .max_length(Some(SECRET_MAX))
        .description(Some("The client secret (write-only: never returned)"))
        .build()
}

/// `expires_in` of a new key.
pub fn key_lifetime_or_null() -> Object {
    string(true)
        .pattern(Some(trimmed_pattern(&format!(
            "{}?",
            duration_core(KEY_LIFETIME_MAX_SECS)
        ))))
        .description(Some("How long until the key expires: a number and a unit s, m (or min), h or d, e.g. `90d` or `12h`, at most 5 years; none (or empty) for a key that does not expire"))
        .build()
}

/// `overlap` of a rotation.
pub fn overlap() -> Object {
    string(false)
        .pattern(Some(trimmed_pattern(&Overlap::core())))
        .description(Some("How long the old key keeps working: `0`, or a number and a unit s, m (or min), h or d — `1m`, `15m`, `1h`, `6h`, `24h` … at most `7d`"))
        .build()
}

/// The key ids of a bulk revocation.
pub fn revoke_ids() -> utoipa::openapi::Array {
    ArrayBuilder::new()
        .items(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("KeyId")))
        .min_items(Some(1))
        .max_items(Some(REVOKE_MAX))
        .description(Some(format!(
            "1 to {REVOKE_MAX} key ids: all are revoked, or none"
        )))
        .build()
}

pub fn plan() -> Object {
    one_of(PLANS, "The client's plan")
}

pub fn client_status() -> Object {
    one_of(CLIENT_STATUSES, "The client's status")
}

pub fn integration_type() -> Object {
    one_of(INTEGRATION_TYPES, "The kind of integration")
}

fn config_of(nullable: bool) -> Object {
    let t = if nullable {
        SchemaType::from_iter([Type::Object, Type::Null])
    } else {
        SchemaType::from(Type::Object)
    };
    ObjectBuilder::new()
        .schema_type(t)
        .description(Some(format!(
            "The configuration: a JSON object of at most {} KiB, stored sealed (write-only: responses name its fields only)",
            CONFIG_MAX_BYTES / 1024
        )))
        .build()
}

pub fn config() -> Object {
    config_of(false)
}

/// A replacement configuration, or `null` for no change.
pub fn config_or_null() -> Object {
    config_of(true)
}

/// The error a failed synchronisation reports.
pub fn sync_error_or_null() -> Object {
    text(
        true,
        0,
        SYNC_ERROR_MAX,
        "Set when the run failed: the integration goes into error with this message",
    )
}

pub fn batch_size() -> Object {
    integer(
        1,
        ROTATION_BATCH_MAX,
        &format!("Secrets re-encrypted per transaction (1 to {ROTATION_BATCH_MAX}; default 100)"),
    )
}

/// How many batches a rotation run may do at most, or `null` for all.
pub fn max_batches_or_null() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
        .minimum(Some(0))
        .maximum(Some(u32::MAX))
        .description(Some("Stop after this many batches (0 to 4294967295; absent or null: until done); the rest is resumed by the next run"))
        .build()
}

/// A query parameter's `schema`, or an empty value (which means the parameter is absent).
fn or_empty(schema: impl Into<RefOr<Schema>>, description: &str) -> Schema {
    use utoipa::openapi::schema::AnyOfBuilder;
    AnyOfBuilder::new()
        .item(schema)
        .item(string(false).max_length(Some(0)).build())
        .description(Some(description))
        .build()
        .into()
}

/// Page size of a list.
pub fn page_limit() -> Schema {
    let d = format!("Page size, 1 to {PAGE_MAX} (default 50; empty: the default)");
    or_empty(integer(1, PAGE_MAX, &d), &d)
}

/// A sync pull's cursor: a change-feed position, 0 (the default) for everything.
pub fn sync_cursor() -> Schema {
    let d = "The cursor a previous pull returned; 0 or empty: from the beginning";
    let n = ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(0))
        .maximum(Some(i64::MAX))
        .description(Some(d))
        .build();
    or_empty(n, d)
}

/// How many changes of the feed one pull reads.
pub fn pull_limit() -> Schema {
    let d = format!(
        "Changes to read, 1 to {} (default {}; empty: the default)",
        crate::model::PULL_MAX,
        crate::model::PULL_MAX
    );
    or_empty(integer(1, crate::model::PULL_MAX, &d), &d)
}

/// The `expiring_within_days` and `unused_for_days` filters.
pub fn filter_days() -> Schema {
    let d = format!("Days, 1 to {KEY_FILTER_DAYS_MAX} (empty: no filter)");
    or_empty(integer(1, KEY_FILTER_DAYS_MAX, &d), &d)
}

/// The key list's `status` filter.
pub fn key_status() -> Schema {
    or_empty(
        RefOr::Ref(utoipa::openapi::Ref::from_schema_name("KeyStatus")),
        "Keys in this state (empty: any)",
    )
}

/// An optional query filter naming one of a component's values (empty: no filter).
fn ref_filter(component: &str, description: &str) -> Schema {
    or_empty(
        RefOr::Ref(utoipa::openapi::Ref::from_schema_name(component)),
        description,
    )
}

/// The incident list's `status` filter.
pub fn incident_status_filter() -> Schema {
    ref_filter("StatusFilter", "Incidents in this state (empty: any)")
}

/// The incident list's `severity` filter.
pub fn severity_filter() -> Schema {
    ref_filter("Severity", "Incidents of this severity (empty: any)")
}

/// The incident list's `sla` filter.
pub fn sla_filter() -> Schema {
    ref_filter(
        "SlaFilter",
        "Incidents whose SLA clocks are in this state (empty: any)",
    )
}

/// What `uuid::Uuid` parses: hyphenated, simple (32 hex digits), braced or `urn:uuid:`.
pub const UUID_PATTERN: &str = concat!(
    "^([0-9a-fA-F]{32}|",
    "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|",
    "[{][0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}[}]|",
    "urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
);

fn uuid_string(nullable: bool) -> ObjectBuilder {
    use utoipa::openapi::schema::{KnownFormat, SchemaFormat};
    string(nullable)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
        .pattern(Some(UUID_PATTERN))
}

/// An organisation filter (empty: any organisation).
pub fn org_filter() -> Schema {
    let d = "The organisation's id, a UUID (empty: any)";
    or_empty(uuid_string(false).description(Some(d)).build(), d)
}

/// An id in a request body: a UUID, or `null`.
pub fn uuid_or_null() -> Object {
    uuid_string(true).description(Some("A UUID")).build()
}

/// A name search.
pub fn search() -> Object {
    text(
        false,
        0,
        SEARCH_MAX,
        "Case-insensitive substring of the name",
    )
}

/// A text filter of the audit list.
pub fn audit_text() -> Object {
    text(false, 0, AUDIT_FILTER_MAX, "Exact match")
}

/// A list's cursor: `next_cursor` of the previous page; empty for the first page.
pub fn cursor() -> Object {
    string(false)
        .description(Some(
            "`next_cursor` of the previous page (absent or empty: the first page)",
        ))
        .build()
}

/// A time in a request body: RFC 3339 only, or `null`.
pub fn rfc3339_or_null() -> Object {
    use utoipa::openapi::schema::{KnownFormat, SchemaFormat};
    string(true)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .description(Some("An instant, RFC 3339 (2026-11-26T04:51:00Z)"))
        .build()
}

fn nullable_integer(min: u32, max: u32, description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
        .minimum(Some(min))
        .maximum(Some(max))
        .description(Some(description))
        .build()
}

/// An incident's title.
pub fn incident_title() -> Object {
    string(false)
        .min_length(Some(1))
        .max_length(Some(TITLE_MAX))
        .pattern(Some(NAME_PATTERN))
        .description(Some(format!(
            "1 to {TITLE_MAX} characters, not only white space, no control characters; trimmed"
        )))
        .build()
}

/// A comment on an incident.
pub fn comment() -> Object {
    string(false)
        .min_length(Some(1))
        .max_length(Some(COMMENT_MAX))
        .pattern(Some(said_text_pattern()))
        .description(Some(format!(
            "1 to {COMMENT_MAX} characters, not only white space, no NUL; trimmed"
        )))
        .build()
}

fn actor_id_of(nullable: bool, description: &str) -> Object {
    string(nullable)
        .min_length(Some(1))
        .max_length(Some(ACTOR_ID_MAX))
        .pattern(Some(NAME_PATTERN))
        .description(Some(format!(
            "{description}: 1 to {ACTOR_ID_MAX} characters, not only white space, no control characters; trimmed"
        )))
        .build()
}

/// A person's actor id (a user an escalation notifies).
pub fn actor_id() -> Object {
    actor_id_of(false, "The person's actor id")
}

/// An assignee's actor id, or `null` to unassign.
pub fn assignee_or_null() -> Object {
    actor_id_of(true, "The assignee's actor id (`null` unassigns)")
}

/// The role an escalation notifies.
pub fn escalation_role() -> Object {
    one_of(ESCALATION_ROLES, "Everyone with this role is notified")
}

/// An outbound webhook's URL.
pub fn webhook_url() -> Object {
    string(false)
        .min_length(Some(1))
        .max_length(Some(URL_MAX))
        .pattern(Some(trimmed_pattern(&webhook_url_core())))
        .description(Some("An https URL with an optional port, path and query (plain http only for localhost), no fragment or credentials"))
        .build()
}

/// A step's delay in minutes.
pub fn step_mins() -> Object {
    integer(
        1,
        STEP_MINS_MAX,
        &format!("Minutes after the incident was opened: 1 to {STEP_MINS_MAX} (a week)"),
    )
}

/// Minutes between a step's repeats.
pub fn repeat_every_mins_or_null() -> Object {
    nullable_integer(
        1,
        STEP_MINS_MAX,
        &format!(
            "Minutes between repeats, 1 to {STEP_MINS_MAX}: required when `repeat` is more than 0"
        ),
    )
}

/// A step's repeats.
pub fn repeat() -> Object {
    integer(
        0,
        REPEAT_MAX,
        &format!("Further notifications after the first: 0 to {REPEAT_MAX} (default 0)"),
    )
}

/// A step's targets: 1 to [`TARGETS_MAX`], none twice.
pub fn escalation_targets() -> utoipa::openapi::Array {
    ArrayBuilder::new()
        .items(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
            "EscalationTarget",
        )))
        .min_items(Some(1))
        .max_items(Some(TARGETS_MAX))
        .unique_items(true)
        .description(Some(format!("1 to {TARGETS_MAX} targets, none twice")))
        .build()
}

/// A policy's steps: 1 to [`STEPS_MAX`].
pub fn escalation_steps() -> utoipa::openapi::Array {
    ArrayBuilder::new()
        .items(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
            "EscalationStep",
        )))
        .min_items(Some(1))
        .max_items(Some(STEPS_MAX))
        .description(Some(format!(
            "1 to {STEPS_MAX} steps; field errors name the step (`rules[1].after_mins`)"
        )))
        .build()
}

/// An SLA response target.
pub fn response_mins() -> Object {
    integer(
        1,
        RESPONSE_MINS_MAX,
        &format!("Minutes to the first acknowledgement: 1 to {RESPONSE_MINS_MAX} (30 days)"),
    )
}

/// An SLA resolve target.
pub fn resolve_mins() -> Object {
    integer(1, RESOLVE_MINS_MAX, &format!("Minutes to resolution, not counting time waiting on the customer: 1 to {RESOLVE_MINS_MAX} (a year), and at least the response target"))
}

/// An SLA at-risk threshold.
pub fn at_risk_percent() -> Object {
    integer(
        1,
        99,
        "A running clock past this share of its target is at risk: 1 to 99 (default 75)",
    )
}

/// The SLA targets of a `PUT /v1/sla`: 1 to 4 (one per severity).
pub fn sla_targets() -> utoipa::openapi::Array {
    ArrayBuilder::new()
        .items(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
            "SlaTarget",
        )))
        .min_items(Some(1))
        .max_items(Some(4))
        .description(Some(
            "1 to 4 targets, one per severity at most; the severities not given keep theirs",
        ))
        .build()
}

/// A push's mutations.
pub fn push_mutations() -> utoipa::openapi::Array {
    ArrayBuilder::new()
        .items(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
            "Mutation",
        )))
        .min_items(Some(1))
        .max_items(Some(crate::model::PUSH_MAX))
        .description(Some(format!(
            "1 to {} mutations with consecutive ids, oldest first",
            crate::model::PUSH_MAX
        )))
        .build()
}

/// The incident version a change is based on.
pub fn base_version_or_null() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
        .minimum(Some(1))
        .description(Some("The incident's version the change is based on (from 1); a version the incident has not reached is a 409. Absent: the current version"))
        .build()
}

/// An escalation step's rule between fields: a step that repeats (`repeat` above 0) gives
/// `repeat_every_mins`.
pub fn repeat_needs_interval() -> Schema {
    use utoipa::openapi::schema::AnyOfBuilder;
    let only = |field: &str, value: ObjectBuilder| ObjectBuilder::new().property(field, value);
    let with_interval = ObjectBuilder::new()
        .property(
            "repeat_every_mins",
            ObjectBuilder::new().schema_type(Type::Integer),
        )
        .required("repeat_every_mins");
    AnyOfBuilder::new()
        .item(only(
            "repeat",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .enum_values(Some([0])),
        ))
        .item(with_interval)
        .description(Some(
            "A step that repeats (`repeat` above 0) gives `repeat_every_mins`",
        ))
        .build()
        .into()
}

/// A currency filter: an ISO 4217 code (empty: the currency with the most MRR).
pub fn currency_filter() -> Schema {
    let d = "An ISO 4217 currency code, e.g. EUR (empty: the currency with the most MRR)";
    or_empty(
        string(false)
            .min_length(Some(3))
            .max_length(Some(3))
            .pattern(Some("^[A-Z]{3}$"))
            .description(Some(d))
            .build(),
        d,
    )
}
