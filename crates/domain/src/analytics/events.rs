//! Product events: what organisations and their users did (`signup`, `active`, `feature_used`,
//! and any named step of a funnel), ingested in batches and idempotent by their id.

use crate::clock::Timestamp;
use crate::error::FieldError;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The most events one batch (`POST /v1/events`, an import's chunk) carries.
pub const BATCH_MAX: usize = 10_000;
pub const NAME_MAX: usize = 100;
pub const USER_ID_MAX: usize = 200;

/// The names the growth metrics read; any other name is a funnel step.
pub const SIGNUP: &str = "signup";
pub const ACTIVE: &str = "active";
pub const FEATURE_USED: &str = "feature_used";

/// One product event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProductEvent {
    /// Chosen by the sender: sending the same event again inserts nothing.
    pub id: Uuid,
    pub org_id: Uuid,
    /// The organisation's user, when the event is a person's.
    #[serde(default)]
    pub user_id: Option<String>,
    pub name: String,
    /// The feature of a `feature_used` event (required there, refused elsewhere).
    #[serde(default)]
    pub feature: Option<String>,
    pub at: Timestamp,
}

fn text(field: &str, value: &str, max: usize) -> Option<FieldError> {
    if value.trim().is_empty() || value.chars().count() > max {
        Some(FieldError::new(
            field,
            format!("must be 1 to {max} characters"),
        ))
    } else if value.chars().any(char::is_control) {
        Some(FieldError::new(
            field,
            "must not contain control characters",
        ))
    } else {
        None
    }
}

/// What is wrong with an event (empty when it can be stored). `now` bounds `at`: an event
/// more than a day in the future is a clock error, not a fact.
pub fn check_event(e: &ProductEvent, now: Timestamp) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = Vec::new();
    errors.extend(text("name", &e.name, NAME_MAX));
    if let Some(u) = &e.user_id {
        errors.extend(text("user_id", u, USER_ID_MAX));
    }
    match (&e.feature, e.name == FEATURE_USED) {
        (Some(f), true) => errors.extend(text("feature", f, NAME_MAX)),
        (None, true) => errors.push(FieldError::new(
            "feature",
            "a feature_used event names its feature",
        )),
        (Some(_), false) => errors.push(FieldError::new(
            "feature",
            "only a feature_used event has a feature",
        )),
        (None, false) => {}
    }
    if matches!(e.name.as_str(), SIGNUP | ACTIVE) && e.user_id.is_none() {
        errors.push(FieldError::new(
            "user_id",
            format!("an event {:?} names its user", e.name),
        ));
    }
    let day_ms = 86_400_000;
    if e.at.millis() < 0 || e.at.millis() > now.millis() + day_ms {
        errors.push(FieldError::new(
            "at",
            "must be after 1970 and at most a day ahead of now",
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str) -> ProductEvent {
        ProductEvent {
            id: Uuid::from_u128(1),
            org_id: Uuid::from_u128(2),
            user_id: Some("u-1".into()),
            name: name.into(),
            feature: None,
            at: Timestamp::from_millis(1_000),
        }
    }

    #[test]
    fn good_events_pass_and_bad_ones_name_their_fields() {
        let now = Timestamp::from_millis(10_000);
        assert!(check_event(&event("signup"), now).is_empty());
        assert!(check_event(&event("checkout_started"), now).is_empty());
        let fields = |e: &ProductEvent| -> Vec<String> {
            check_event(e, now).into_iter().map(|f| f.field).collect()
        };
        assert_eq!(fields(&event("feature_used")), ["feature"]);
        assert_eq!(
            fields(&ProductEvent {
                feature: Some("x".into()),
                ..event("active")
            }),
            ["feature"]
        );
        assert_eq!(
            fields(&ProductEvent {
                user_id: None,
                ..event("active")
            }),
            ["user_id"]
        );
        assert_eq!(fields(&event(" ")), ["name"]);
        assert_eq!(fields(&event(&"n".repeat(NAME_MAX + 1))), ["name"]);
        assert_eq!(
            fields(&ProductEvent {
                at: Timestamp::from_millis(10_000 + 86_400_001),
                ..event("x")
            }),
            ["at"]
        );
    }
}
