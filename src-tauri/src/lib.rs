//! Provider Admin, the desktop app. Owns the window, the connection profiles, the OS keychain
//! and the Tauri commands — thin adapters over the Portal (`crates/portal`). No SQL and no
//! business rule lives here.

mod bindings;
mod commands;
mod error;
mod grants;
mod ipc;
mod profiles;
mod state;

use commands::*;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Instant;

/// When the process started, for the first-render time (`ui_ready`).
pub(crate) static STARTED: OnceLock<Instant> = OnceLock::new();
use tauri::Manager;

/// Logs to a daily-rotated file in the log folder (7 kept); level from `PADMIN_LOG` (default `info`).
fn init_logging(dir: &std::path::Path) {
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("provider-admin")
        .filename_suffix("log")
        .max_log_files(7)
        .build(dir);
    let Ok(appender) = appender else { return };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PADMIN_LOG")
        .unwrap_or_else(|_| "info,sqlx=warn".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(appender)
        .try_init();
}

fn folders(app: &tauri::AppHandle) -> Result<(PathBuf, PathBuf), Box<dyn std::error::Error>> {
    // PADMIN_DATA_DIR (tests, portable installs) moves everything, logs included.
    if let Some(dir) = std::env::var_os("PADMIN_DATA_DIR") {
        let dir = PathBuf::from(dir);
        return Ok((dir.clone(), dir.join("logs")));
    }
    Ok((app.path().app_data_dir()?, app.path().app_log_dir()?))
}

/// Every command, listed once: Tauri's handler and (in tests) the UI's bindings come from here.
macro_rules! commands {
    ($($module:ident :: $command:ident),* $(,)?) => {
        fn handler() -> impl Fn(tauri::ipc::Invoke<tauri::Wry>) -> bool + Send + Sync + 'static {
            $(let () = $module::$command::DECLARED;)*
            tauri::generate_handler![$($module::$command),*]
        }

        /// What the UI needs to call each command (see `ipc`).
        #[cfg(test)]
        pub(crate) fn command_specs() -> Vec<ipc::CommandSpec> {
            vec![$($module::$command::spec()),*]
        }
    };
}

commands![
    session::app_info,
    session::session_info,
    session::profiles_get,
    session::profile_test_postgres,
    session::profile_save_postgres,
    session::profile_activate,
    session::profile_discover_portal,
    session::profile_save_portal,
    session::portal_sign_in,
    session::portal_sign_in_cancel,
    session::portal_sign_out,
    session::profile_delete,
    session::onboarding_seed_demo,
    session::onboarding_start_empty,
    session::ui_ready,
    session::ui_error,
    overview::overview_get,
    overview::overview_chart,
    keys::keys_list,
    keys::key_get,
    keys::key_create,
    keys::keys_revoke,
    keys::key_rotate,
    keys::key_end_overlap,
    oidc::oidc_list,
    oidc::oidc_create,
    oidc::oidc_update,
    oidc::oidc_set_enabled,
    oidc::oidc_delete,
    oidc::oidc_test,
    integrations::integrations_list,
    integrations::integration_create,
    integrations::integration_update,
    integrations::integration_set_paused,
    integrations::integration_delete,
    clients::clients_list,
    clients::client_get,
    clients::client_rename,
    audit::audit_list,
    audit::audit_verify,
    audit::audit_export_choose,
    audit::audit_export_csv,
    incidents::incidents_list,
    incidents::incident_get,
    incidents::incident_open,
    incidents::incident_comment,
    incidents::incident_change,
    incidents::incident_metrics,
    incidents::incident_counts,
    incidents::incident_people,
    incidents::sla_targets_get,
    incidents::sla_targets_set,
    incidents::escalation_policies_list,
    incidents::escalation_policy_create,
    incidents::escalation_policy_update,
    incidents::escalation_policy_delete,
    sync::sync_status,
    sync::sync_now,
    sync::sync_rebuild,
    sync::sync_settle,
    analytics::analytics_mrr,
    analytics::analytics_movements,
    analytics::analytics_retention,
    analytics::analytics_growth,
    analytics::analytics_top_clients,
    analytics::analytics_top_usage,
    analytics::analytics_top_features,
    analytics::analytics_funnel,
    analytics::analytics_save_funnel,
    analytics::analytics_saved_funnels,
    analytics::analytics_saved_funnel,
    analytics::analytics_delete_funnel,
    analytics::analytics_refresh,
    analytics::analytics_chart,
    analytics::analytics_export_choose,
    analytics::analytics_export_csv,
    analytics::analytics_report_choose,
    analytics::analytics_export_pdf,
];

pub fn run() {
    STARTED.get_or_init(Instant::now);
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .setup(|app| {
            let (data_dir, log_dir) = folders(app.handle())?;
            std::fs::create_dir_all(&log_dir)?;
            init_logging(&log_dir);
            tracing::info!(version = env!("CARGO_PKG_VERSION"), data = %data_dir.display(), "starting");
            app.manage(state::AppState::new(data_dir, log_dir)?);
            Ok(())
        })
        .invoke_handler(handler())
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("Provider Admin could not start: {e}");
            std::process::exit(1);
        });
}
