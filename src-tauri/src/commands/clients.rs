//! Clients (tenant organisations).

use super::portal;
use crate::error::CmdResult;
use crate::ipc::command;
use crate::state::AppState;
use domain::model::{Client, ClientFilter, Page};
use macro_rules_attribute::apply;
use tauri::State;

#[apply(command!)]
pub async fn clients_list(
    state: State<'_, AppState>,
    filter: ClientFilter,
) -> CmdResult<Page<Client>> {
    Ok(portal(&state)
        .await?
        .list_clients(&state.actor, filter)
        .await?)
}

#[apply(command!)]
pub async fn client_get(state: State<'_, AppState>, id: String) -> CmdResult<Client> {
    Ok(portal(&state).await?.get_client(&state.actor, &id).await?)
}

#[apply(command!)]
pub async fn client_rename(
    state: State<'_, AppState>,
    id: String,
    name: String,
) -> CmdResult<Client> {
    Ok(portal(&state)
        .await?
        .rename_client(&state.actor, &id, &name)
        .await?)
}
