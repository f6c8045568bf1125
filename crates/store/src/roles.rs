//! PostgreSQL roles: who may change the schema, and what the portal may do at run time.
//!
//! A deployment can give the portal two roles. The schema's **owner** runs the migrations
//! (`PORTAL_DATABASE_OWNER_URL`, or `portal-server migrate`) and is used for nothing else; the
//! **runtime** role (`DATABASE_URL`) is granted, by [`SqlStore::prepare_postgres`], read and
//! write access to the portal's ordinary tables but only SELECT and INSERT on the audit trail
//! and the change feed, and only SELECT on the chain's tip. A role that does not own a table
//! can neither disable its triggers nor update, delete or truncate what it may only insert, so
//! the runtime role cannot rewrite history (see ARCHITECTURE.md, "Security").
//!
//! With one role for both (the simple set-up, and SQLite), that role owns everything.

use crate::sql::{map_err, one_connection, POSTGRES_MIGRATIONS};
use crate::{Result, SqlStore, StoreError};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Row};
use std::collections::HashMap;

/// Tables the runtime role may only read and append to.
const APPEND_ONLY: [&str; 3] = ["audit_events", "change_feed", "incident_events"];
/// Tables the runtime role may only read.
const READ_ONLY: [&str; 2] = ["audit_head", "_sqlx_migrations"];
/// Functions the runtime role calls.
const FUNCTIONS: [&str; 1] = ["audit_lock_head()"];

/// How many of `migrator`'s migrations the database has not applied (or applied differently).
/// A database that cannot say (no migrations table, or not readable by this role) has all of
/// them pending.
pub(crate) async fn pending(pool: &AnyPool, migrator: &Migrator) -> usize {
    let rows = match sqlx::query("SELECT version, checksum FROM _sqlx_migrations WHERE success")
        .fetch_all(pool)
        .await
    {
        Ok(rows) => rows,
        Err(_) => return migrator.iter().count(),
    };
    let applied: HashMap<i64, Vec<u8>> = rows
        .iter()
        .filter_map(|r| Some((r.try_get("version").ok()?, r.try_get("checksum").ok()?)))
        .collect();
    migrator
        .iter()
        .filter(|m| applied.get(&m.version) != Some(&m.checksum.to_vec()))
        .count()
}

/// Applies `migrator` unless the database already has every migration: a runtime role that may
/// not change the schema opens an up-to-date database without trying to.
pub(crate) async fn migrate_unless_current(pool: &AnyPool, migrator: &Migrator) -> Result<()> {
    let behind = pending(pool, migrator).await;
    if behind == 0 {
        return Ok(());
    }
    migrator.run(pool).await.map_err(|e| {
        let text = e.to_string();
        if text.contains("permission denied") || text.contains("must be owner") {
            StoreError::Migration(format!(
                "the database schema is {behind} migration(s) behind this version, and this database role may not change it: run the migrations as the schema's owner (`portal-server migrate` with PORTAL_DATABASE_OWNER_URL), then start again"
            ))
        } else {
            StoreError::Migration(text)
        }
    })
}

impl SqlStore {
    /// Migrates the database as its owner (`owner_url`), then grants the role of `runtime_url`
    /// what the portal needs at run time and no more on the audit trail. Returns the runtime
    /// role's name. Idempotent: run it at every start or deployment.
    pub async fn prepare_postgres(owner_url: &str, runtime_url: &str) -> Result<String> {
        let runtime = one_connection(runtime_url).await?;
        let row = sqlx::query("SELECT current_user::text AS r")
            .fetch_one(&runtime)
            .await
            .map_err(map_err)?;
        let role: String = row.try_get("r").map_err(map_err)?;
        runtime.close().await;

        let owner = one_connection(owner_url).await?;
        POSTGRES_MIGRATIONS
            .run(&owner)
            .await
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        let row = sqlx::query(
            "SELECT current_user::text AS o, current_schema()::text AS s, quote_ident($1) AS r",
        )
        .bind(&role)
        .fetch_one(&owner)
        .await
        .map_err(map_err)?;
        let owner_role: String = row.try_get("o").map_err(map_err)?;
        if owner_role == role {
            owner.close().await;
            return Ok(role);
        }
        let schema: String = row.try_get("s").map_err(map_err)?;
        let quoted: String = row.try_get("r").map_err(map_err)?;
        let tables: Vec<String> = sqlx::query(
            "SELECT quote_ident(tablename) AS q, tablename::text AS t FROM pg_tables WHERE schemaname = current_schema()",
        )
        .fetch_all(&owner)
        .await
        .map_err(map_err)?
        .iter()
        .map(|r| -> Result<String> {
            let q: String = r.try_get("q").map_err(map_err)?;
            let t: String = r.try_get("t").map_err(map_err)?;
            let rights = if APPEND_ONLY.contains(&t.as_str()) {
                "SELECT, INSERT"
            } else if READ_ONLY.contains(&t.as_str()) {
                "SELECT"
            } else {
                "SELECT, INSERT, UPDATE, DELETE"
            };
            Ok(format!("REVOKE ALL ON {q} FROM {quoted}; GRANT {rights} ON {q} TO {quoted};"))
        })
        .collect::<Result<_>>()?;
        let mut script = format!(
            "GRANT USAGE ON SCHEMA {s} TO {quoted}; GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {quoted};",
            s = quote(&schema)
        );
        for t in tables {
            script.push_str(&t);
        }
        for f in FUNCTIONS {
            script.push_str(&format!("GRANT EXECUTE ON FUNCTION {f} TO {quoted};"));
        }
        sqlx::raw_sql(&script)
            .execute(&owner)
            .await
            .map_err(map_err)?;
        owner.close().await;
        Ok(role)
    }
}

/// An identifier quoted for SQL (the schema's name comes from the database itself).
fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}
