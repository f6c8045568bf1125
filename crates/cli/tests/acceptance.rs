//! The issue's acceptance story, through the real `padmin` binary, on PostgreSQL and SQLite,
//! plus the OS keychain as the master-key store.

mod common;

use common::{json, padmin};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use stories::{Backend, TestDb};

/// The acceptance scenario on the database `db`; `dump` returns everything stored, as text.
fn scenario(db: &str, key_file: &Path, dump: &dyn Fn() -> String, tamper: &dyn Fn()) {
    let kf = key_file.to_str().unwrap();
    let env = [("PORTAL_MASTER_KEY_FILE", kf)];
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut all = vec!["--db", db];
        all.extend_from_slice(args);
        padmin(&env, &all, stdin)
    };
    let created = json(&run(&["keys", "create", "--name", "acme", "--json"], None));
    let full = created["full_key"].as_str().unwrap().to_string();
    let id = created["key"]["id"].as_str().unwrap().to_string();
    assert_eq!(full.len(), 80);
    let listed = run(&["keys", "list", "--json"], None).stdout;
    assert!(
        !listed.contains(&full),
        "the key is printed once, never again"
    );

    json(&run(
        &[
            "oidc",
            "create",
            "--issuer",
            "https://idp.example.com",
            "--client-id",
            "portal",
            "--redirect-uri",
            "https://portal.example.com/cb",
            "--client-secret-stdin",
            "--json",
        ],
        Some("oidc-secret-PLAINTEXT-42\n"),
    ));
    let cfg = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(cfg.path(), r#"{"api_key": "sk_live_PLAINTEXT_77"}"#).unwrap();
    json(&run(
        &[
            "integrations",
            "create",
            "--name",
            "Stripe",
            "--type",
            "stripe",
            "--config",
            cfg.path().to_str().unwrap(),
            "--json",
        ],
        None,
    ));

    let everything = dump();
    for secret in [
        full.as_str(),
        &full[21..73],
        "oidc-secret-PLAINTEXT-42",
        "sk_live_PLAINTEXT_77",
    ] {
        assert!(
            !everything.contains(secret),
            "{secret} must not be stored in plaintext"
        );
    }

    let ok = run(&["keys", "verify", "--json"], Some(&format!("{full}\n")));
    assert_eq!(json(&ok)["key_id"], id.as_str());
    let revoked = json(&run(&["keys", "revoke", &id, "--json"], None));
    assert_eq!(revoked[0]["status"], "revoked");
    let rejected = run(&["keys", "verify"], Some(&full));
    assert_eq!(
        rejected.code, 6,
        "a revoked key does not verify: {}",
        rejected.stderr
    );
    assert!(
        rejected.stderr.contains("this federation key is not valid"),
        "a revoked key gets the answer a wrong secret gets, not its state: {}",
        rejected.stderr
    );

    let trail = json(&run(
        &[
            "audit",
            "list",
            "--entity-type",
            "federation_key",
            "--entity-id",
            &id,
            "--json",
        ],
        None,
    ));
    let actions: Vec<&str> = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec!["revoke", "create"],
        "each write left exactly one audit event (verify is not a write)"
    );
    let oidc_trail = json(&run(
        &["audit", "list", "--entity-type", "oidc_config", "--json"],
        None,
    ));
    assert_eq!(oidc_trail["items"].as_array().unwrap().len(), 1);

    let intact = run(&["audit", "verify"], None);
    assert_eq!(intact.code, 0, "{}{}", intact.stdout, intact.stderr);
    assert!(intact.stdout.contains("intact"));

    // A signed checkpoint, kept outside the database, and verifications against it.
    let dir = key_file.parent().unwrap();
    let cp_path = dir.join("checkpoint.json");
    let cp_file = cp_path.to_str().unwrap();
    let made = run(&["audit", "checkpoint", "--out", cp_file], None);
    assert_eq!(made.code, 0, "{}{}", made.stdout, made.stderr);
    let holds = json(&run(
        &["audit", "verify", "--against", cp_file, "--json"],
        None,
    ));
    assert_eq!(holds["checkpoint"], "holds");
    let mut forged: Value =
        serde_json::from_str(&std::fs::read_to_string(&cp_path).unwrap()).unwrap();
    forged["mac"] = Value::String("00".repeat(32));
    let forged_path = dir.join("forged.json");
    std::fs::write(&forged_path, forged.to_string()).unwrap();
    let not_signed = run(
        &[
            "audit",
            "verify",
            "--against",
            forged_path.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(not_signed.code, 13, "{}", not_signed.stdout);
    assert!(not_signed.stdout.contains("NOT AUTHENTIC"));
    let garbage_path = dir.join("garbage.json");
    std::fs::write(&garbage_path, "{\"seq\": \"nope\"}").unwrap();
    let garbage = run(
        &[
            "audit",
            "verify",
            "--against",
            garbage_path.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(garbage.code, 3, "not a checkpoint: invalid input");
    assert!(
        garbage.stderr.contains("is not a checkpoint")
            || garbage.stdout.contains("is not a checkpoint")
    );

    tamper();
    let against = run(&["audit", "verify", "--against", cp_file, "--json"], None);
    assert_eq!(against.code, 11, "{}", against.stdout);
    let broken = run(&["audit", "verify", "--json"], None);
    assert_eq!(
        broken.code, 11,
        "a hand-edited trail must fail verification: {}",
        broken.stdout
    );
    let report: Value = serde_json::from_str(&broken.stdout).unwrap();
    assert_eq!(
        report["first_broken"]["seq"], 2,
        "the edited event is the first broken link"
    );

    // Bad input: a clear error naming the field, and a documented exit code.
    let bad = run(&["keys", "create", "--name", "", "--json"], None);
    assert_eq!(bad.code, 3);
    let err: Value = serde_json::from_str(&bad.stdout).unwrap();
    assert_eq!(err["error"]["code"], "invalid");
    assert_eq!(err["error"]["fields"][0]["field"], "name");
    assert_eq!(run(&["keys", "show", "0000000000000000"], None).code, 4);
    assert_eq!(
        run(
            &[
                "oidc",
                "create",
                "--issuer",
                "ftp://x",
                "--client-id",
                "a",
                "--redirect-uri",
                "https://a.example/cb"
            ],
            None
        )
        .code,
        3
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn acceptance_on_postgres() {
    let db = TestDb::new(Backend::Postgres).await;
    let (url, name) = db.pg.clone().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("master.key");
    let (u1, u2) = (url.clone(), url.clone());
    let dump = move || {
        let url = &u1;
        let out = Command::new("pg_dump")
            .arg("--data-only")
            .arg(url)
            .output()
            .expect("pg_dump runs (package postgresql-client)");
        assert!(
            out.status.success(),
            "pg_dump: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(text.contains("federation_keys"), "the dump holds the data");
        text
    };
    let tamper = move || {
        let url = &u2;
        // A superuser bypasses the append-only trigger; the chain must still tell.
        let sql = "SET session_replication_role = replica; UPDATE audit_events SET action = 'nothing' WHERE seq = 2;";
        let out = Command::new("psql")
            .arg(url)
            .arg("-qc")
            .arg(sql)
            .output()
            .expect("psql runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let url2 = url.clone();
    tokio::task::spawn_blocking(move || scenario(&url2, &key_file, &dump, &tamper))
        .await
        .unwrap();
    let _ = name;
    db.drop_db().await;
}

#[test]
fn acceptance_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ws.sqlite");
    let path = file.to_str().unwrap().to_string();
    let dump = || {
        let mut all = Vec::new();
        for ext in ["", "-wal"] {
            if let Ok(b) = std::fs::read(format!("{path}{ext}")) {
                all.extend(b);
            }
        }
        String::from_utf8_lossy(&all).to_string()
    };
    let tamper = || {
        let out = padmin(&[], &["--help"], None); // the binary has no raw SQL; use the store crate's pool instead
        assert_eq!(out.code, 0);
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let s = store::SqlStore::open_sqlite(Path::new(&path)).await.unwrap();
            sqlx::raw_sql("DROP TRIGGER audit_events_no_update; UPDATE audit_events SET action = 'nothing' WHERE seq = 2;")
                .execute(s.pool())
                .await
                .unwrap();
        });
    };
    scenario(&path, &dir.path().join("master.key"), &dump, &tamper);
}

#[test]
fn an_unavailable_keychain_says_how_to_fix_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = padmin(
        &[
            ("PADMIN_DATA_DIR", dir.path().to_str().unwrap()),
            ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus"),
            ("HOME", dir.path().to_str().unwrap()),
        ],
        &["keys", "list"],
        None,
    );
    assert_eq!(out.code, 9, "unavailable: {}", out.stderr);
    assert!(
        out.stderr.contains("keychain"),
        "names the keychain: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("PORTAL_MASTER_KEY"),
        "says how to fix it: {}",
        out.stderr
    );
}

/// The master key in a real Secret Service (GNOME Keyring) on a private D-Bus session.
#[test]
fn the_master_key_lives_in_the_os_keychain() {
    for tool in ["dbus-run-session", "gnome-keyring-daemon"] {
        assert!(
            Command::new("sh").arg("-c").arg(format!("command -v {tool} >/dev/null")).status().map(|s| s.success()).unwrap_or(false),
            "{tool} is required for the keychain test: scripts/test.sh installs it (apt packages dbus, gnome-keyring)"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let bin = env!("CARGO_BIN_EXE_padmin");
    let script = format!(
        "set -e; export HOME={d}/home XDG_RUNTIME_DIR={d}/xdg XDG_DATA_HOME={d}/data PADMIN_DATA_DIR={d}/ws; mkdir -p $HOME $XDG_RUNTIME_DIR; chmod 700 $XDG_RUNTIME_DIR; \
         echo -n test | gnome-keyring-daemon --unlock --components=secrets >/dev/null; \
         {bin} clients create --name Acme --json >/dev/null; \
         {bin} clients list --json; \
         secret-tool lookup service dev.provider-admin username master-key/embedded | wc -c"
    );
    let out = Command::new("dbus-run-session")
        .arg("--")
        .arg("sh")
        .arg("-c")
        .arg(&script)
        .env_remove("PORTAL_MASTER_KEY")
        .env_remove("PORTAL_MASTER_KEY_FILE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Acme"),
        "the second run reopened the workspace with the key from the keychain: {stdout}"
    );
    let len: usize = stdout
        .lines()
        .last()
        .unwrap_or("0")
        .trim()
        .parse()
        .unwrap_or(0);
    assert!(
        len > 40,
        "the key set is stored in the Secret Service under the app's namespace (got {len} bytes)"
    );
    assert!(
        !std::fs::read_dir(format!("{d}/ws")).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains("key")),
        "no key file next to the workspace"
    );
}

/// `secrets rotate-master` killed (SIGKILL) halfway, then run again: every secret still opens,
/// to its original plaintext, under the new version — nothing lost, nothing double-encrypted.
#[tokio::test(flavor = "multi_thread")]
async fn master_key_rotation_survives_a_kill() {
    use domain::envelope::Binding;
    use portal::prelude::*;
    use portal::secrets::{FileKeys, MasterKeySource};
    use sqlx::Row;
    use std::sync::Arc;

    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("ws.sqlite");
    let key_path = dir.path().join("master.key");
    let source = Arc::new(FileKeys::new(key_path.clone()));
    let store = store::SqlStore::open_sqlite(&db_path).await.unwrap();
    let p = portal::LocalPortal::open(
        Arc::new(store.clone()),
        source.clone(),
        Arc::new(domain::SystemClock),
    )
    .await
    .unwrap();
    let a = domain::Actor::system("test");
    const N: usize = 1500;
    for i in 0..N {
        let config = domain::Sensitive::new(serde_json::json!({"token": format!("plain-{i}")}));
        p.create_integration(
            &a,
            portal::NewIntegration {
                name: format!("i{i}"),
                kind: "webhook".into(),
                config,
            },
            None,
        )
        .await
        .unwrap();
    }
    store.pool().close().await;

    let db = db_path.to_str().unwrap().to_string();
    let kf = key_path.to_str().unwrap().to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_padmin"))
        .args(["--db", &db, "secrets", "rotate-master", "--batch-size", "1"])
        .env("PORTAL_MASTER_KEY_FILE", &kf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once some, but not all, secrets have moved to version 2.
    let mut killed_at = None;
    for _ in 0..2000 {
        std::thread::sleep(std::time::Duration::from_millis(5));
        let st = padmin(
            &[("PORTAL_MASTER_KEY_FILE", &kf)],
            &["--db", &db, "secrets", "status", "--json"],
            None,
        );
        if st.code != 0 {
            continue; // the store is busy or the version is not registered yet
        }
        let v: Value = serde_json::from_str(&st.stdout).unwrap();
        let behind = v["behind"].as_u64().unwrap();
        if v["current_version"] == 2 && behind > 0 && behind < N as u64 {
            child.kill().unwrap();
            killed_at = Some(behind);
            break;
        }
    }
    let _ = child.wait();
    let behind = killed_at
        .expect("the rotation was caught halfway (increase N if this machine is very fast)");
    eprintln!("killed with {behind} of {N} secrets still behind");

    let rerun = padmin(
        &[("PORTAL_MASTER_KEY_FILE", &kf)],
        &["--db", &db, "secrets", "rotate-master", "--json"],
        None,
    );
    let report = json(&rerun);
    assert_eq!(
        report["added_version"],
        Value::Null,
        "the second run resumes instead of adding a version"
    );
    assert!(
        report["resealed"].as_u64().unwrap() <= behind,
        "only what was left is re-encrypted"
    );
    assert_eq!(report["status"]["behind"], 0);

    let keys = source.load().unwrap();
    assert_eq!(keys.current(), 2);
    let store = store::SqlStore::open_sqlite(&db_path).await.unwrap();
    let rows = sqlx::query("SELECT id, name, config FROM integrations")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(rows.len(), N);
    for r in rows {
        let id: String = r.try_get("id").unwrap();
        let name: String = r.try_get("name").unwrap();
        let sealed: Vec<u8> = r.try_get("config").unwrap();
        assert_eq!(domain::envelope::sealed_version(&sealed).unwrap(), 2);
        let plain = keys
            .open(
                Binding {
                    table: "integrations",
                    column: "config",
                    row_id: &id,
                },
                &sealed,
            )
            .expect("opens under the new version");
        let v: Value =
            serde_json::from_slice(plain.expose()).expect("a single layer of encryption");
        assert_eq!(v["token"], format!("plain-{}", &name[1..]));
    }
    let verify = padmin(
        &[("PORTAL_MASTER_KEY_FILE", &kf)],
        &["--db", &db, "audit", "verify"],
        None,
    );
    assert_eq!(verify.code, 0, "{}", verify.stdout);
}

/// `padmin --portal URL login|whoami|…|logout` against the API server and a real OIDC provider:
/// the sign-in runs in a (scripted) browser, the tokens live in a real Secret Service, every
/// command then works through the API, and logout revokes and forgets the session.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn padmin_signs_in_to_a_portal_and_works_through_the_api() {
    use std::sync::Arc;
    use stories::oidc::{browse_and_sign_in, RealProvider};
    use stories::remote::{redis_url, server_config_for, TestServer};

    let db = TestDb::new(Backend::Postgres).await;
    let (p, _clock) = stories::portal(&db).await;
    let stories::TestPortal::Local(local) = p else {
        unreachable!()
    };
    let provider = RealProvider::start(300, "00000000-0000-4000-8000-000000000001");
    let config = server_config_for(
        &provider.issuer,
        "portal-api",
        Some(&redis_url()),
        &[("OIDC_SCOPES", "portal")],
    );
    let server = TestServer::start(Arc::new(*local), &config).await;

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    let browser = format!("{d}/browser.sh");
    std::fs::write(
        &browser,
        format!("#!/bin/sh\nprintf '%s' \"$1\" > {d}/url.tmp && mv {d}/url.tmp {d}/url\n"),
    )
    .unwrap();
    Command::new("chmod")
        .args(["+x", &browser])
        .status()
        .unwrap();
    let bin = env!("CARGO_BIN_EXE_padmin");
    let account = format!("portal-session/{}/", server.url);
    let script = format!(
        "set -e; export HOME={d}/home XDG_RUNTIME_DIR={d}/xdg XDG_DATA_HOME={d}/data PADMIN_DATA_DIR={d}/ws; mkdir -p $HOME $XDG_RUNTIME_DIR; chmod 700 $XDG_RUNTIME_DIR; \
         echo -n test | gnome-keyring-daemon --unlock --components=secrets >/dev/null; \
         export BROWSER={browser} PADMIN_PORTAL={url}; \
         echo '--- login'; {bin} login; \
         echo '--- stored'; secret-tool lookup service dev.provider-admin username {account} | wc -c; \
         echo '--- whoami'; {bin} whoami --json; \
         echo '--- create'; {bin} keys create --name via-cli --json; \
         echo '--- list'; {bin} keys list --json; \
         echo '--- logout'; {bin} logout --json; \
         echo '--- stored'; secret-tool lookup service dev.provider-admin username {account} | wc -c; \
         echo '--- whoami'; {bin} whoami --json || echo \"exit=$?\"",
        url = server.url,
    );
    let child = Command::new("dbus-run-session")
        .args(["--", "sh", "-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Play the browser once padmin has opened the sign-in page.
    let url_file = format!("{d}/url");
    let mut waited = 0;
    while !Path::new(&url_file).exists() {
        assert!(waited < 600, "padmin login never opened the browser");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        waited += 1;
    }
    let link = std::fs::read_to_string(&url_file).unwrap();
    browse_and_sign_in(&link, "alice").await;
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let sections: Vec<&str> = stdout.split("--- ").collect();
    let section = |name: &str, nth: usize| -> String {
        sections
            .iter()
            .filter(|s| s.starts_with(name))
            .nth(nth)
            .map(|s| s[name.len()..].trim().to_string())
            .unwrap_or_default()
    };
    assert!(section("login", 0).contains("Signed in to"), "{stdout}");
    assert!(
        section("stored", 0).parse::<usize>().unwrap_or(0) > 100,
        "the session is in the Secret Service: {stdout}"
    );
    let me: Value = serde_json::from_str(&section("whoami", 0)).expect("whoami JSON");
    assert_eq!(
        me["id"],
        format!("{}#alice", provider.issuer),
        "the subject, namespaced by its issuer"
    );
    assert_eq!(me["role"], "provider");
    let created: Value = serde_json::from_str(&section("create", 0)).expect("create JSON");
    assert!(created["full_key"].as_str().unwrap().starts_with("pak_"));
    let listed: Value = serde_json::from_str(&section("list", 0)).expect("list JSON");
    assert!(
        listed.to_string().contains("via-cli"),
        "the key was created on the server"
    );
    let logout: Value = serde_json::from_str(&section("logout", 0)).expect("logout JSON");
    assert_eq!(logout["revoked"], true);
    assert_eq!(logout["deleted"], true);
    assert_eq!(
        section("stored", 1),
        "0",
        "logout deleted the keychain entry"
    );
    assert!(
        section("whoami", 1).contains("exit=6"),
        "signed out: {stdout}"
    );
    assert!(
        section("whoami", 1).contains("not signed in"),
        "says what to do: {stdout}"
    );
    // Nothing of the session reached a file: only the keychain holds it.
    let leaked = Command::new("grep")
        .args(["-rl", "refresh_token", &format!("{d}/ws")])
        .output()
        .unwrap();
    assert!(
        leaked.stdout.is_empty(),
        "no session file in the data folder"
    );

    server.stop().await;
    db.drop_db().await;
}

/// Rules that live in the Portal answer the same from the CLI on a local workspace as through
/// the API: `whoami`, seeding an empty workspace (once), and OIDC *Test connection* against a
/// real loopback issuer (exit 12 when the test finds problems).
#[tokio::test(flavor = "multi_thread")]
async fn whoami_seed_and_oidc_test_on_a_local_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ws.sqlite");
    let db = db.to_str().unwrap();
    let keys = dir.path().join("master.key");
    let env = [("PORTAL_MASTER_KEY_FILE", keys.to_str().unwrap())];
    let run = |args: &[&str]| {
        let mut all = vec!["--db", db, "--json"];
        all.extend_from_slice(args);
        padmin(&env, &all, None)
    };

    let me = json(&run(&["whoami"]));
    assert_eq!(me["role"], "provider", "the local admin: {me}");
    assert!(
        me["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "seed"),
        "{me}"
    );

    let report = json(&run(&["seed", "--demo"]));
    assert_eq!(report["clients"], 50, "{report}");
    let again = run(&["seed", "--demo"]);
    assert_eq!(
        again.code, 5,
        "a workspace with data is a conflict: {}",
        again.stdout
    );

    let issuer = stories::remote::TestIssuer::start().await;
    let create = |issuer: &str| {
        json(&run(&[
            "oidc",
            "create",
            "--issuer",
            issuer,
            "--client-id",
            "probe",
            "--redirect-uri",
            "https://portal.example.com/cb",
            "--disabled",
        ]))["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let good = create(&issuer.url);
    let report = json(&run(&["oidc", "test", &good]));
    assert_eq!(report["problems"], serde_json::json!([]), "{report}");
    assert_eq!(report["found_issuer"], issuer.url.as_str());

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let dead = create(&format!("http://127.0.0.1:{port}"));
    let out = run(&["oidc", "test", &dead]);
    assert_eq!(
        out.code, 12,
        "a failed test has its own exit code: {}{}",
        out.stdout, out.stderr
    );
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(
        !report["problems"].as_array().unwrap().is_empty(),
        "{report}"
    );
}

/// The incidents story through the real binary: open → list → comment → acknowledge (twice: the
/// second is a conflict naming the status) → resolve → the timeline in order; SLA targets that
/// do not hold change nothing; an escalation policy's steps file is checked step by step.
fn incidents_story(db: &str, key_file: &Path) {
    let env = [("PORTAL_MASTER_KEY_FILE", key_file.to_str().unwrap())];
    let run = |args: &[&str]| {
        let mut all = vec!["--db", db];
        all.extend_from_slice(args);
        padmin(&env, &all, None)
    };
    let ok = |args: &[&str]| {
        let out = run(args);
        assert_eq!(out.code, 0, "{args:?}: {}{}", out.stdout, out.stderr);
        out.stdout
    };

    let help = ok(&["--help"]);
    for cmd in ["incidents", "sla", "escalation"] {
        assert!(help.contains(cmd), "`padmin --help` lists {cmd}: {help}");
    }

    let opened = json(&run(&[
        "incidents",
        "open",
        "--title",
        "Checkout fails for EU customers",
        "--severity",
        "sev2",
        "--json",
    ]));
    let id = opened["incident"]["id"].as_str().unwrap().to_string();
    assert_eq!(opened["incident"]["status"], "open");
    assert_eq!(
        opened["target"]["target_response_mins"], 30,
        "sev2's default"
    );

    let listed = ok(&["incidents", "list"]);
    assert!(listed.contains(&id), "the table shows the id: {listed}");
    assert!(
        listed.contains("Checkout fails for EU customers"),
        "{listed}"
    );
    assert!(
        listed.contains("sev2") && listed.contains("open"),
        "{listed}"
    );
    assert!(
        listed.contains("response: ") && listed.contains("m left"),
        "the SLA badge says how much time is left: {listed}"
    );
    let active = json(&run(&["incidents", "list", "--status", "active", "--json"]));
    assert_eq!(active["items"][0]["incident"]["id"], id.as_str());
    let done = json(&run(&["incidents", "list", "--status", "done", "--json"]));
    assert_eq!(done["items"], serde_json::json!([]));
    let bad_filter = run(&["incidents", "list", "--status", "sleeping"]);
    assert_eq!(bad_filter.code, 2, "a bad flag is a usage error");
    assert!(
        bad_filter.stderr.contains("active"),
        "{}",
        bad_filter.stderr
    );

    let commented = ok(&["incidents", "comment", &id, "Payments provider answers 502"]);
    assert!(
        commented.contains(&format!("commented on incident {id}")),
        "{commented}"
    );
    let acked = ok(&["incidents", "ack", &id]);
    assert!(
        acked.contains("acknowledged incident") && acked.contains("now acknowledged, version 3"),
        "{acked}"
    );
    let again = run(&["incidents", "ack", &id]);
    assert_eq!(
        again.code, 5,
        "a conflict: {}{}",
        again.stdout, again.stderr
    );
    assert!(
        again
            .stderr
            .contains("cannot acknowledge: the incident is acknowledged"),
        "the portal's message, naming the status: {}",
        again.stderr
    );
    let again = run(&["incidents", "ack", &id, "--json"]);
    assert_eq!(again.code, 5);
    let err: Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(err["error"]["code"], "conflict");

    ok(&["incidents", "resolve", &id]);
    let shown = json(&run(&["incidents", "show", &id, "--json"]));
    let kinds: Vec<&str> = shown["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["opened", "comment", "acknowledged", "resolved"]);
    assert_eq!(shown["incident"]["status"], "resolved");
    assert_eq!(shown["sla"]["response"]["status"], "met");
    let shown = ok(&["incidents", "show", &id]);
    for text in [
        "status       resolved",
        "respond within 30m, resolve within 8h",
        "resolve cycles",
        "timeline",
        "opened “Checkout fails for EU customers” as sev2",
        "commented: Payments provider answers 502",
    ] {
        assert!(shown.contains(text), "`show` says {text:?}: {shown}");
    }
    let counts = json(&run(&["incidents", "counts", "--json"]));
    assert_eq!(counts["breached"], 0);
    let metrics = json(&run(&["incidents", "metrics", "--json"]));
    assert_eq!(metrics["overall"]["count"], 1);
    assert_eq!(metrics["overall"]["resolved"], 1);
    let metrics = ok(&["incidents", "metrics"]);
    assert!(
        metrics.contains("MTTA  mean ") && metrics.contains("100.0%"),
        "{metrics}"
    );

    // SLA targets: a bad value is invalid input, naming the field, and changes nothing.
    let before = json(&run(&["sla", "show", "--json"]));
    let bad = run(&["sla", "set", "sev2", "--response", "60", "--resolve", "30"]);
    assert_eq!(bad.code, 3, "{}{}", bad.stdout, bad.stderr);
    assert!(
        bad.stderr
            .contains("target_resolve_mins: must be at least the response target"),
        "{}",
        bad.stderr
    );
    assert_eq!(
        json(&run(&["sla", "show", "--json"])),
        before,
        "nothing changed"
    );
    let set = ok(&[
        "sla",
        "set",
        "sev3",
        "--response",
        "120",
        "--resolve",
        "600",
    ]);
    assert!(set.contains("SLA targets of sev3 saved"), "{set}");
    let after = json(&run(&["sla", "show", "--json"]));
    assert_eq!(after[2]["target_resolve_mins"], 600);
    assert_eq!(
        after[2]["at_risk_percent"], 75,
        "--at-risk absent: unchanged"
    );

    // Escalation policies from a steps file.
    let dir = key_file.parent().unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let create = |path: &str| run(&["escalation", "create", "--name", "Default", "--file", path]);
    let not_json = file("not-json.json", "[{\"after_mins\": 15,");
    let out = create(&not_json);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&format!("{not_json} is not valid JSON")),
        "names the file and the JSON problem: {}",
        out.stderr
    );
    let misshapen = file(
        "misshapen.json",
        r#"[{"after_mins":15,"condition":"sometimes","min_severity":"sev2","targets":[{"type":"role","role":"support"}]}]"#,
    );
    let out = create(&misshapen);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "rules[0]: in {misshapen}: unknown variant `sometimes`"
        )),
        "names the step, the file and the problem: {}",
        out.stderr
    );
    let bad_steps = file(
        "bad-steps.json",
        r#"[{"after_mins":0,"condition":"unacknowledged","min_severity":"sev2","targets":[{"type":"role","role":"support"}]},
            {"after_mins":30,"condition":"unresolved","min_severity":"sev1","targets":[]}]"#,
    );
    let out = create(&bad_steps);
    assert_eq!(out.code, 3, "{}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines.iter().any(|l| l
            .trim_start()
            .starts_with("rules[0].after_mins: must be from 1")),
        "each field error on a line of its own: {}",
        out.stderr
    );
    assert!(
        lines
            .iter()
            .any(|l| l.trim_start().starts_with("rules[1].targets: ")),
        "{}",
        out.stderr
    );
    let none = json(&run(&["escalation", "list", "--json"]));
    assert_eq!(none, serde_json::json!([]), "bad files changed nothing");

    let good = file(
        "steps.json",
        r#"[{"after_mins":15,"condition":"unacknowledged","min_severity":"sev2","targets":[{"type":"role","role":"support"}],"repeat":2,"repeat_every_mins":10}]"#,
    );
    let created = create(&good);
    assert_eq!(created.code, 0, "{}", created.stderr);
    assert!(
        created.stdout.contains("created escalation policy"),
        "{}",
        created.stdout
    );
    let policies = json(&run(&["escalation", "list", "--json"]));
    assert_eq!(policies[0]["name"], "Default");
    assert_eq!(policies[0]["rules"][0]["after_mins"], 15);
    let policy_id = policies[0]["id"].as_str().unwrap().to_string();
    let listed = ok(&["escalation", "list"]);
    assert!(
        listed.contains("Default") && listed.contains(&policy_id),
        "{listed}"
    );
    let shown = ok(&["escalation", "show", &policy_id]);
    assert!(
        shown.contains("rules[0]")
            && shown.contains("role support")
            && shown.contains("2× every 10m"),
        "{shown}"
    );
    let renamed = json(&run(&[
        "escalation",
        "update",
        &policy_id,
        "--name",
        "Everyone",
        "--json",
    ]));
    assert_eq!(renamed["name"], "Everyone");
    assert_eq!(renamed["rules"][0]["repeat"], 2, "the steps were kept");
    ok(&["escalation", "delete", &policy_id]);
    assert_eq!(run(&["escalation", "show", &policy_id]).code, 4);
}

#[test]
fn incidents_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ws.sqlite");
    incidents_story(db.to_str().unwrap(), &dir.path().join("master.key"));
}

#[tokio::test(flavor = "multi_thread")]
async fn incidents_on_postgres() {
    let db = TestDb::new(Backend::Postgres).await;
    let (url, _) = db.pg.clone().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("master.key");
    tokio::task::spawn_blocking(move || incidents_story(&url, &key_file))
        .await
        .unwrap();
    db.drop_db().await;
}
