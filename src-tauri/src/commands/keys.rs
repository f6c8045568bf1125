//! Federation keys.

use super::portal;
use crate::error::CmdResult;
use crate::ipc::command;
use crate::state::AppState;
use domain::model::{FederationKey, KeyFilter, Page};
use macro_rules_attribute::apply;
use portal::NewKey;
use serde::Serialize;
use tauri::State;
use ts_rs::TS;

/// A key as returned once at creation or rotation: the full key is shown once.
#[derive(Debug, Serialize, TS)]
pub struct CreatedKeyView {
    pub key: FederationKey,
    pub full_key: String,
}

#[derive(Debug, Serialize, TS)]
pub struct RotationView {
    pub old: FederationKey,
    pub successor: CreatedKeyView,
}

#[apply(command!)]
pub async fn keys_list(
    state: State<'_, AppState>,
    filter: KeyFilter,
) -> CmdResult<Page<FederationKey>> {
    Ok(portal(&state)
        .await?
        .list_keys(&state.actor, filter)
        .await?)
}

#[apply(command!)]
pub async fn key_get(state: State<'_, AppState>, id: String) -> CmdResult<FederationKey> {
    Ok(portal(&state).await?.get_key(&state.actor, &id).await?)
}

#[apply(command!)]
pub async fn key_create(
    state: State<'_, AppState>,
    name: String,
    expires_in: Option<String>,
    idempotency_key: Option<String>,
) -> CmdResult<CreatedKeyView> {
    let k = portal(&state)
        .await?
        .create_key(
            &state.actor,
            NewKey { name, expires_in },
            idempotency_key.as_deref(),
        )
        .await?;
    Ok(CreatedKeyView {
        key: k.key,
        full_key: k.full_key.expose().clone(),
    })
}

#[apply(command!)]
pub async fn keys_revoke(
    state: State<'_, AppState>,
    ids: Vec<String>,
    idempotency_key: Option<String>,
) -> CmdResult<Vec<FederationKey>> {
    Ok(portal(&state)
        .await?
        .revoke_keys(&state.actor, &ids, idempotency_key.as_deref())
        .await?)
}

#[apply(command!)]
pub async fn key_rotate(
    state: State<'_, AppState>,
    id: String,
    overlap: String,
    idempotency_key: Option<String>,
) -> CmdResult<RotationView> {
    let r = portal(&state)
        .await?
        .rotate_key(&state.actor, &id, &overlap, idempotency_key.as_deref())
        .await?;
    Ok(RotationView {
        old: r.old,
        successor: CreatedKeyView {
            key: r.successor.key,
            full_key: r.successor.full_key.expose().clone(),
        },
    })
}

#[apply(command!)]
pub async fn key_end_overlap(state: State<'_, AppState>, id: String) -> CmdResult<FederationKey> {
    Ok(portal(&state).await?.end_overlap(&state.actor, &id).await?)
}
