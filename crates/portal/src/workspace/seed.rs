//! Realistic demo data: dozens of clients, keys in every state, OIDC configurations,
//! integrations, key usage, and a few thousand audit events spread over the last 90 days; then
//! three weeks of incidents (`seed_incidents.rs`).
//!
//! Seeding goes through the Portal like any other writer, with a clock that walks forward
//! from 90 days ago, so every row and audit event is real and the chain verifies.

use crate::prelude::*;
use crate::{LocalPortal, NewClient, NewIntegration, NewKey, NewOidc, Progress};
use domain::envelope::MasterKeySet;
use domain::error::Result;
use domain::{Actor, ActorType, Clock, ManualClock, Role, Sensitive, Timestamp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use store::Store;

/// What the seed wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeedReport {
    pub clients: u32,
    pub keys: u32,
    pub oidc_configs: u32,
    pub integrations: u32,
    #[serde(default)]
    pub incidents: u32,
    /// Product events of the analytics history (a year of generated organisations).
    #[serde(default)]
    pub analytics_events: u64,
    pub audit_events: u64,
}

const COMPANIES: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark Industries",
    "Wayne Enterprises",
    "Wonka",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
    "Aperture",
    "Black Mesa",
    "Vandelay",
    "Prestige Worldwide",
    "Pied Piper",
    "Dunder Mifflin",
    "Oscorp",
    "Massive Dynamic",
    "Gringotts",
    "Monsters Inc",
    "Nakatomi",
    "Virtucon",
    "Blue Sun",
    "Weyland",
    "Kringle",
    "Ollivanders",
    "Duff",
    "Bluth",
    "Sterling Cooper",
    "Los Pollos",
    "Gekko",
    "Rekall",
    "Zorg",
    "Ingen",
    "Tricell",
    "Abstergo",
    "Sirius",
    "Yoyodyne",
    "Omni",
    "Planet Express",
    "Krusty",
    "Mom Corp",
    "Spacely",
    "Cogswell",
    "Buy n Large",
    "Vault-Tec",
    "Nuka",
    "Fontaine",
    "Ryan",
];
const SUFFIXES: &[&str] = &["Corp", "Ltd", "GmbH", "Labs", "Group", "Systems"];

/// Seeds demo data into `store`. `now` is the real current time; history is laid out before it.
pub async fn demo(
    store: Arc<dyn Store>,
    keys: MasterKeySet,
    now: Timestamp,
    progress: Progress<'_>,
) -> Result<SeedReport> {
    let start = now.minus_secs(90 * 86400);
    let clock = Arc::new(ManualClock::at(start));
    let portal = LocalPortal::with_keys(store, keys, clock.clone()).await?;
    let mut rng = StdRng::seed_from_u64(now.millis() as u64);
    let admins = ["alice", "bob", "carol"].map(|n| Actor {
        id: format!("local:{n}"),
        name: n.to_string(),
        actor_type: ActorType::User,
        role: Role::Provider,
        ip: Some(format!("10.0.0.{}", n.len())),
        ua: Some("padmin seed".into()),
        request_id: None,
    });
    let mut report = SeedReport::default();
    let total_steps = COMPANIES.len() as u64 + 40 + 6 + 10 + 2400;
    let mut step = 0u64;
    let mut tick = |clock: &ManualClock, secs: i64| {
        step += 1;
        progress(step, total_steps);
        clock.advance_secs(secs);
    };

    let mut clients = Vec::new();
    for (i, base) in COMPANIES.iter().enumerate() {
        let who = &admins[i % 3];
        let c = portal
            .create_client(
                who,
                NewClient {
                    name: format!("{base} {}", SUFFIXES[i % SUFFIXES.len()]),
                    plan: crate::clients::PLANS[rng.gen_range(0..4)].into(),
                    status: crate::clients::STATUSES[if i % 9 == 0 {
                        1
                    } else if i % 13 == 0 {
                        2
                    } else {
                        0
                    }]
                    .into(),
                },
                None,
            )
            .await?;
        clients.push(c);
        report.clients += 1;
        tick(&clock, 3600);
    }

    let mut key_ids = Vec::new();
    let mut full_keys = Vec::new();
    for i in 0..40 {
        let who = &admins[i % 3];
        let client = &clients[i % clients.len()];
        let expires_in = match i % 5 {
            0 => None,
            1 => Some("3d".to_string()), // some will be expired, some expiring soon
            2 => Some("365d".to_string()),
            3 => Some("90d".to_string()),
            _ => Some("95d".to_string()),
        };
        let k = portal
            .create_key(
                who,
                NewKey {
                    name: format!("{} {}", client.name, ["production", "staging", "ci"][i % 3]),
                    expires_in,
                },
                None,
            )
            .await?;
        key_ids.push(k.key.id.to_string());
        full_keys.push(k.full_key);
        report.keys += 1;
        tick(&clock, 7200);
    }

    for (i, (issuer, client_id)) in [
        ("https://login.microsoftonline.com/acme/v2.0", "acme-portal"),
        ("https://accounts.google.com", "globex-sso"),
        ("https://auth.initech.example", "initech-admin"),
        ("https://idp.umbrella.example/realms/main", "umbrella"),
        ("https://sso.hooli.example", "hooli-portal"),
        ("https://accounts.google.com", "legacy-portal"),
    ]
    .iter()
    .enumerate()
    {
        portal
            .create_oidc(
                &admins[i % 3],
                NewOidc {
                    issuer: issuer.to_string(),
                    client_id: client_id.to_string(),
                    redirect_uri: "https://portal.example.com/oauth/callback".into(),
                    client_secret: Some(Sensitive::new(format!(
                        "demo-secret-{}",
                        rng.gen::<u64>()
                    ))),
                    enabled: i != 5,
                },
                None,
            )
            .await?;
        report.oidc_configs += 1;
        tick(&clock, 600);
    }

    let mut integrations = Vec::new();
    for (i, kind) in [
        "stripe",
        "salesforce",
        "hubspot",
        "slack",
        "zendesk",
        "webhook",
        "custom",
        "stripe",
        "slack",
        "webhook",
    ]
    .iter()
    .enumerate()
    {
        let it = portal
            .create_integration(
                &admins[i % 3],
                NewIntegration {
                    name: format!("{} {}", clients[i].name, kind),
                    kind: kind.to_string(),
                    config: Sensitive::new(serde_json::json!({"api_key": format!("sk_demo_{}", rng.gen::<u64>()), "region": "eu-west-1"})),
                },
                None,
            )
            .await?;
        integrations.push(it.id.to_string());
        report.integrations += 1;
        tick(&clock, 900);
    }

    // Daily life: syncs, renames, rotations and revocations over the following weeks.
    for i in 0..2400usize {
        let who = &admins[i % 3];
        match i % 40 {
            0..=29 => {
                let id = &integrations[i % integrations.len()];
                let error = (i % 97 == 3).then(|| {
                    "401 Unauthorized from the provider: the API key was rejected".to_string()
                });
                if portal
                    .record_integration_sync(who, id, error, None)
                    .await
                    .is_err()
                {
                    portal.set_integration_paused(who, id, false).await?;
                }
            }
            30..=35 => {
                let c = &clients[i % clients.len()];
                let name = if i % 2 == 0 {
                    format!("{} (EU)", c.name)
                } else {
                    c.name.clone()
                };
                portal.rename_client(who, &c.id.to_string(), &name).await?;
            }
            36 if i % 240 == 36 => {
                let id = &key_ids[(i / 40) % key_ids.len()];
                if let Ok(r) = portal
                    .rotate_key(who, id, ["1h", "24h", "15m"][i % 3], None)
                    .await
                {
                    key_ids.push(r.successor.key.id.to_string());
                    report.keys += 1;
                }
            }
            37 if i % 200 == 37 => {
                let id = &key_ids[(i / 7) % key_ids.len()];
                portal.revoke_key(who, id, None).await?;
            }
            38 if i % 400 == 38 => {
                let id = &integrations[(i / 40) % integrations.len()];
                portal.set_integration_paused(who, id, true).await?;
            }
            _ => {
                // A partner system uses one of its keys (records last use; not an audited write).
                let partner = Actor {
                    id: "service:partner-gateway".into(),
                    name: "partner-gateway".into(),
                    actor_type: ActorType::Service,
                    role: Role::Partner,
                    ip: Some(format!("203.0.113.{}", i % 250)),
                    ua: Some("partner-sdk/2.3".into()),
                    request_id: None,
                };
                let key = &full_keys[(i / 40) % full_keys.len()];
                // Revoked and expired keys are rejected, as they would be in production.
                let _ = portal.verify_key(&partner, key.expose()).await;
            }
        }
        let remaining = now.millis() - clock.now().millis();
        tick(
            &clock,
            (remaining / 1000 / (2400 - i as i64 + 1)).clamp(1, 3600),
        );
    }
    // Incidents are laid out back from now, with the clock at now.
    clock.advance_secs((now.millis() - clock.now().millis()) / 1000);
    report.incidents =
        super::seed_incidents::seed(&portal, &admins[0], &clients, now, &mut rng).await?;
    // A year of analytics history (generated organisations, their subscriptions and users'
    // events), refreshed, so the Analytics page is alive.
    let history = crate::analytics::generate::GenerateSpec {
        orgs: 80,
        events: 40_000,
        seed: 1,
        until: domain::analytics::Day::of(now).plus(-1),
        days: 365,
    };
    let loaded =
        crate::analytics::generate::load(&portal, &admins[0], &history, &|_, _| {}).await?;
    report.analytics_events = loaded.events;
    crate::analytics::Analytics::refresh_analytics(&portal, &admins[0], true).await?;
    // Leave one integration failing so the overview has something to show.
    let _ = portal
        .record_integration_sync(
            &admins[0],
            &integrations[1],
            Some("connection timed out after 30 s".into()),
            None,
        )
        .await;
    report.audit_events = portal
        .store()
        .audit_head()
        .await
        .map_err(crate::local::store_err)?
        .0 as u64;
    Ok(report)
}
