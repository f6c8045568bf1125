//! What the sync module's tests share.

use domain::{Actor, ActorType, Role};

/// A person acting with `role`; their id is also their name.
pub(crate) fn person(id: &str, role: Role) -> Actor {
    Actor {
        id: id.into(),
        name: id.into(),
        actor_type: ActorType::User,
        role,
        ip: None,
        ua: None,
        request_id: None,
    }
}
