//! `padmin --portal` offline: incident edits made while the portal is down are saved on this
//! machine (the encrypted replica, its key in a real Secret Service), said to be queued, kept
//! across runs, and reach the portal — audited as the person — with `padmin sync now` once it is
//! back on the same address.

use portal::Incidents;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use stories::oidc::{browse_and_sign_in, RealProvider};
use stories::remote::{redis_url, server_config_for, TestServer};
use stories::{Backend, TestDb};

/// Runs `steps` (shell, `--- name` sections) in a private D-Bus session whose GNOME Keyring
/// keeps its file in `d`, so every run finds what the previous one stored. With `sign_in`,
/// plays the browser for `padmin login` as alice.
async fn run(d: &str, url: &str, steps: &str, sign_in: bool) -> (bool, String, String) {
    let browser = format!("{d}/browser.sh");
    let script = format!(
        "export HOME={d}/home XDG_RUNTIME_DIR={d}/xdg XDG_DATA_HOME={d}/data PADMIN_DATA_DIR={d}/ws; \
         mkdir -p $HOME $XDG_RUNTIME_DIR; chmod 700 $XDG_RUNTIME_DIR; \
         echo -n test | gnome-keyring-daemon --unlock --components=secrets >/dev/null; \
         export BROWSER={browser} PADMIN_PORTAL={url} RUST_LOG=warn; PADMIN={bin}; {steps}",
        bin = env!("CARGO_BIN_EXE_padmin"),
    );
    let child = Command::new("dbus-run-session")
        .args(["--", "sh", "-c", &script])
        .env_remove("PORTAL_MASTER_KEY")
        .env_remove("PORTAL_MASTER_KEY_FILE")
        .env_remove("PADMIN_DB")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dbus-run-session starts (apt packages dbus, gnome-keyring)");
    if sign_in {
        let url_file = format!("{d}/url");
        let mut waited = 0;
        while !Path::new(&url_file).exists() {
            assert!(waited < 600, "padmin login never opened the browser");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            waited += 1;
        }
        let link = std::fs::read_to_string(&url_file).unwrap();
        browse_and_sign_in(&link, "alice").await;
    }
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// The text after `--- name` (the first such section).
fn section(stdout: &str, name: &str) -> String {
    stdout
        .split("--- ")
        .find(|s| s.starts_with(name))
        .map(|s| s[name.len()..].trim().to_string())
        .unwrap_or_default()
}

fn parse(stdout: &str, name: &str) -> Value {
    let text = section(stdout, name);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: not JSON ({e}): {stdout}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn padmin_edits_incidents_offline_and_syncs_them_when_the_portal_is_back() {
    let db = TestDb::new(Backend::Postgres).await;
    let (p, _clock) = stories::portal(&db).await;
    let stories::TestPortal::Local(local) = p else {
        unreachable!()
    };
    let local = Arc::new(*local);
    let provider = RealProvider::start(300, "00000000-0000-4000-8000-000000000001");
    let config = server_config_for(
        &provider.issuer,
        "portal-api",
        Some(&redis_url()),
        &[("OIDC_SCOPES", "portal")],
    );
    let server = TestServer::start(local.clone(), &config).await;
    let url = server.url.clone();
    let addr = url.trim_start_matches("http://").to_string();

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    std::fs::write(
        format!("{d}/browser.sh"),
        format!("#!/bin/sh\nprintf '%s' \"$1\" > {d}/url.tmp && mv {d}/url.tmp {d}/url\n"),
    )
    .unwrap();
    Command::new("chmod")
        .args(["+x", &format!("{d}/browser.sh")])
        .status()
        .unwrap();

    // Online: sign in, open an incident (sent at once), and sync.
    let (ok, out, err) = run(
        &d,
        &url,
        "set -e; echo '--- login'; $PADMIN login; \
         echo '--- open'; $PADMIN incidents open --title 'Checkout fails for Zebra' --severity sev2 --json; \
         echo '--- status'; $PADMIN sync status --json",
        true,
    )
    .await;
    assert!(ok, "{out}\n{err}");
    let id = parse(&out, "open")["incident"]["id"]
        .as_str()
        .expect("the incident's id")
        .to_string();
    assert_eq!(parse(&out, "status")["pending"], 0, "{out}");

    // The portal goes away: the edits are saved here and said to be queued.
    server.stop().await;
    let (ok, out, err) = run(
        &d,
        &url,
        &format!(
            "echo '--- comment'; $PADMIN incidents comment {id} 'customer confirmed on the bridge' --json; echo \"exit=$?\"; \
             echo '--- ack'; $PADMIN incidents ack {id} --json; echo \"exit=$?\"; \
             echo '--- show'; $PADMIN incidents show {id} --json; \
             echo '--- status'; $PADMIN sync status --json; \
             echo '--- people'; $PADMIN incidents people --json; \
             echo '--- replica'; cat $PADMIN_DATA_DIR/replicas/*.sqlite | grep -c 'bridge' || true"
        ),
        false,
    )
    .await;
    assert!(ok, "{out}\n{err}");
    assert!(section(&out, "comment").contains("exit=0"), "{out}\n{err}");
    assert!(section(&out, "ack").contains("exit=0"), "{out}\n{err}");
    assert!(
        err.contains("queued: saved on this machine, not yet on the portal"),
        "says the edit is queued: {err}"
    );
    let shown = parse(&out, "show");
    assert!(
        shown["incident"]["acknowledged_at"].is_string(),
        "the offline edit is shown at once: {shown}"
    );
    assert!(shown
        .to_string()
        .contains("customer confirmed on the bridge"));
    let status = parse(&out, "status");
    assert_eq!(status["pending"], 2, "{status}");
    let people = parse(&out, "people");
    assert_eq!(
        people[0]["id"],
        format!("{}#alice", provider.issuer),
        "whom to assign, offline too: {people}"
    );
    assert_eq!(status["health"], "offline", "{status}");
    assert_eq!(
        section(&out, "replica"),
        "0",
        "the replica on disk is encrypted: the comment is not in it"
    );

    // Back on the same address: `sync now` sends both, audited as alice.
    let server = TestServer::start_on(local.clone(), &config, &addr).await;
    let (ok, out, err) = run(
        &d,
        &url,
        "set -e; echo '--- sync'; $PADMIN sync now --json; echo '--- status'; $PADMIN sync status --json",
        false,
    )
    .await;
    assert!(ok, "{out}\n{err}");
    assert_eq!(parse(&out, "status")["pending"], 0, "{out}");
    let admin = domain::Actor::local_admin("test", "offline.rs");
    let upstream = local
        .get_incident(&admin, &id)
        .await
        .expect("the incident upstream");
    assert!(upstream.incident.acknowledged_at.is_some());
    let comment = upstream
        .timeline
        .iter()
        .find(|e| serde_json::to_string(&e.kind).unwrap().contains("bridge"))
        .expect("the offline comment reached the portal");
    assert_eq!(comment.actor_id, format!("{}#alice", provider.issuer));

    server.stop().await;
    db.drop_db().await;
}
