//! Provider integrations.

use super::portal;
use crate::error::CmdResult;
use crate::ipc::command;
use crate::state::AppState;
use domain::model::Integration;
use domain::Sensitive;
use macro_rules_attribute::apply;
use portal::{IntegrationChanges, NewIntegration};
use serde::Deserialize;
use tauri::State;
use ts_rs::TS;

/// The integration form. `config` is JSON text, write-only: empty keeps the stored one.
#[derive(Debug, Deserialize, TS)]
pub struct IntegrationForm {
    pub name: String,
    pub kind: String,
    pub config: Option<String>,
}

fn parse_config(
    text: Option<String>,
) -> Result<Option<Sensitive<serde_json::Value>>, domain::Error> {
    match text.filter(|t| !t.trim().is_empty()) {
        None => Ok(None),
        Some(t) => serde_json::from_str(&t)
            .map(|v| Some(Sensitive::new(v)))
            .map_err(|e| domain::Error::invalid("config", format!("is not valid JSON: {e}"))),
    }
}

#[apply(command!)]
pub async fn integrations_list(state: State<'_, AppState>) -> CmdResult<Vec<Integration>> {
    Ok(portal(&state)
        .await?
        .list_integrations(&state.actor)
        .await?)
}

#[apply(command!)]
pub async fn integration_create(
    state: State<'_, AppState>,
    form: IntegrationForm,
) -> CmdResult<Integration> {
    let config =
        parse_config(form.config)?.unwrap_or_else(|| Sensitive::new(serde_json::json!({})));
    let new = NewIntegration {
        name: form.name,
        kind: form.kind,
        config,
    };
    Ok(portal(&state)
        .await?
        .create_integration(&state.actor, new, None)
        .await?)
}

#[apply(command!)]
pub async fn integration_update(
    state: State<'_, AppState>,
    id: String,
    form: IntegrationForm,
) -> CmdResult<Integration> {
    let changes = IntegrationChanges {
        name: Some(form.name),
        config: parse_config(form.config)?,
    };
    Ok(portal(&state)
        .await?
        .update_integration(&state.actor, &id, changes)
        .await?)
}

#[apply(command!)]
pub async fn integration_set_paused(
    state: State<'_, AppState>,
    id: String,
    paused: bool,
) -> CmdResult<Integration> {
    Ok(portal(&state)
        .await?
        .set_integration_paused(&state.actor, &id, paused)
        .await?)
}

#[apply(command!)]
pub async fn integration_delete(state: State<'_, AppState>, id: String) -> CmdResult<()> {
    Ok(portal(&state)
        .await?
        .delete_integration(&state.actor, &id)
        .await?)
}
