//! `portal-server`: reads its configuration from the environment (see README), applies the
//! migrations, serves the portal API and shuts down gracefully on SIGTERM or Ctrl-C.
//!
//! `portal-server migrate` only applies the migrations as the schema's owner
//! (`PORTAL_DATABASE_OWNER_URL`) and grants `DATABASE_URL`'s role its run-time rights, so the
//! serving process need never hold the owner's credentials.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let json = std::env::var("PORTAL_LOG_FORMAT").is_ok_and(|v| v == "json");
    let filter = tracing_subscriber::EnvFilter::try_from_env("PORTAL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    if json {
        tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }

    if std::env::args().nth(1).as_deref() == Some("migrate") {
        return migrate().await;
    }
    let config = match server::Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let state = match server::start(&config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("portal-server cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    let listener = match tokio::net::TcpListener::bind(config.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("portal-server cannot listen on {}: {e}", config.listen);
            return ExitCode::from(1);
        }
    };
    tracing::info!(listen = %config.listen, "portal API ready");
    match server::serve(listener, server::app(state), shutdown_signal()).await {
        Ok(()) => {
            tracing::info!("stopped: every in-flight request finished");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("portal-server stopped: {e}");
            ExitCode::from(1)
        }
    }
}

async fn migrate() -> ExitCode {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (Some(owner), Some(runtime)) = (var("PORTAL_DATABASE_OWNER_URL"), var("DATABASE_URL"))
    else {
        eprintln!("portal-server migrate needs PORTAL_DATABASE_OWNER_URL (the schema's owner) and DATABASE_URL (the role the server runs as)");
        return ExitCode::from(2);
    };
    match store::SqlStore::prepare_postgres(&owner, &runtime).await {
        Ok(role) => {
            println!("migrations applied; `{role}` may read and write the portal's tables and only append to the audit trail");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("portal-server migrate failed: {e}");
            ExitCode::from(1)
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown requested: finishing in-flight requests");
}
