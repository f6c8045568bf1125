//! Rendering results: readable tables for people, JSON (`--json`) for scripts.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use domain::audit::AuditEvent;
use domain::model::{Client, FederationKey, Integration, OidcConfig};
use domain::Timestamp;
use serde::Serialize;

pub fn json<T: Serialize>(v: &T) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("error: cannot render JSON: {e}"),
    }
}

pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    t
}

pub fn when(t: Option<Timestamp>) -> String {
    t.map(|t| t.to_rfc3339()[..16].replace('T', " "))
        .unwrap_or_else(|| "—".into())
}

pub fn keys(items: &[FederationKey]) {
    let mut t = table(&[
        "id",
        "name",
        "status",
        "created",
        "expires",
        "last used",
        "last IP",
    ]);
    for k in items {
        let status = match (&k.rotated_to, k.status) {
            (Some(next), domain::model::KeyStatus::Active) => {
                format!("active (rotated → {})", next)
            }
            _ => k.status.as_str().to_string(),
        };
        t.add_row(vec![
            k.prefix.clone(),
            k.name.clone(),
            status,
            when(Some(k.created_at)),
            when(k.expires_at),
            when(k.last_used_at),
            k.last_used_ip.clone().unwrap_or_else(|| "—".into()),
        ]);
    }
    println!("{t}");
}

pub fn oidc(items: &[OidcConfig]) {
    let mut t = table(&[
        "id",
        "issuer",
        "client id",
        "redirect URI",
        "enabled",
        "secret",
    ]);
    for c in items {
        t.add_row(vec![
            c.id.to_string(),
            c.issuer.clone(),
            c.client_id.clone(),
            c.redirect_uri.clone(),
            if c.enabled { "yes" } else { "no" }.into(),
            if c.has_client_secret { "set" } else { "—" }.into(),
        ]);
    }
    println!("{t}");
}

pub fn integrations(items: &[Integration]) {
    let mut t = table(&[
        "id",
        "name",
        "type",
        "status",
        "config fields",
        "last sync",
        "last error",
    ]);
    for i in items {
        t.add_row(vec![
            i.id.to_string(),
            i.name.clone(),
            i.kind.clone(),
            i.status.as_str().into(),
            i.config_fields.join(", "),
            when(i.last_sync_at),
            i.last_error.clone().unwrap_or_else(|| "—".into()),
        ]);
    }
    println!("{t}");
}

pub fn clients(items: &[Client]) {
    let mut t = table(&["id", "name", "plan", "status", "created"]);
    for c in items {
        t.add_row(vec![
            c.id.to_string(),
            c.name.clone(),
            c.plan.clone(),
            c.status.clone(),
            when(Some(c.created_at)),
        ]);
    }
    println!("{t}");
}

pub fn audit(items: &[AuditEvent]) {
    let mut t = table(&["seq", "time", "actor", "entity", "action", "change"]);
    for e in items {
        let change = match (&e.before, &e.after) {
            (Some(b), Some(a)) => format!("{b} → {a}"),
            (None, Some(a)) => format!("+ {a}"),
            (Some(b), None) => format!("- {b}"),
            (None, None) => String::new(),
        };
        let change: String = if change.chars().count() > 120 {
            format!("{}…", change.chars().take(119).collect::<String>())
        } else {
            change
        };
        t.add_row(vec![
            e.seq.to_string(),
            when(Some(e.ts)),
            e.actor_name.clone(),
            format!("{}/{}", e.entity_type, e.entity_id),
            e.action.clone(),
            change,
        ]);
    }
    println!("{t}");
}

pub fn next_page(cursor: &Option<String>) {
    if let Some(c) = cursor {
        eprintln!("more results: add --cursor {c}");
    }
}

/// An OIDC connection test: what was found, then every problem (or that it passed).
pub fn oidc_test(r: &domain::oidc::OidcProbeReport) {
    println!("issuer      {}", r.expected_issuer);
    println!("discovery   {}", r.discovery_url);
    let found = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    println!("announces   {}", found(&r.found_issuer));
    println!("authorize   {}", found(&r.authorization_endpoint));
    println!("token       {}", found(&r.token_endpoint));
    println!("jwks        {}", found(&r.jwks_uri));
    println!("keys        {}", r.signing_keys.join(", "));
    if r.ok() {
        println!("connection test passed");
    } else {
        for p in &r.problems {
            println!("problem: {p}");
        }
    }
}
