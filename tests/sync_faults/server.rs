//! The real `portal-server` process on a run's own PostgreSQL database, killed with SIGKILL
//! (no shutdown: its connections and transactions die with it) and started again on a new port.
//!
//! Cargo builds a package's binaries for that package's own integration tests only, so the
//! stories package cannot name `CARGO_BIN_EXE_portal-server`: the binary is looked up beside this
//! test's (`target/<profile>/portal-server`, which `cargo build -p server` makes, and which
//! `cargo test --workspace` builds anyway), or at `SYNC_FAULT_SERVER_BIN`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The master key set the server and the seeding portal share (`1:<base64 of 32 bytes>`).
pub const MASTER_KEY: &str = "1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// Where the `portal-server` binary is.
pub fn binary() -> Result<PathBuf, String> {
    if let Ok(p) = std::env::var("SYNC_FAULT_SERVER_BIN") {
        return Ok(PathBuf::from(p));
    }
    // target/<profile>/deps/sync_faults-<hash> → target/<profile>/portal-server
    let exe = std::env::current_exe().map_err(|e| format!("this test's path: {e}"))?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("this test is not under target/<profile>/deps")?;
    let bin = profile_dir.join(format!("portal-server{}", std::env::consts::EXE_SUFFIX));
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!(
            "{} is missing: build it first with `cargo build -p server{}` (scripts/sync-faults.sh does), or set SYNC_FAULT_SERVER_BIN",
            bin.display(),
            if profile_dir.ends_with("release") { " --release" } else { "" }
        ))
    }
}

/// One run's server: its settings, the process while it is up, its log.
#[derive(Debug)]
pub struct Server {
    bin: PathBuf,
    env: Vec<(String, String)>,
    pub log: PathBuf,
    child: Option<Child>,
    pub port: u16,
    pub starts: u32,
    pub kills: u32,
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("addr").port()
}

impl Server {
    pub fn new(bin: PathBuf, database_url: &str, issuer: &str, log: PathBuf) -> Server {
        let mut env = vec![
            ("DATABASE_URL", database_url.to_string()),
            ("PORTAL_MASTER_KEY", MASTER_KEY.to_string()),
            // The scheduler would add escalations and SLA notices to the timelines on its own.
            ("PORTAL_SCHEDULER", "off".to_string()),
            ("OIDC_ISSUER", issuer.to_string()),
            ("OIDC_AUDIENCE", stories::remote::AUDIENCE.to_string()),
            ("PORTAL_AUDIT_CHECKPOINT_SECS", "0".to_string()),
            (
                "PORTAL_RATE_LIMIT_PRINCIPAL",
                "100000/min burst 10000".to_string(),
            ),
            ("PORTAL_LOG", "warn".to_string()),
            (
                "PORTAL_REDIS_PREFIX",
                format!("sf{}", uuid::Uuid::new_v4().simple()),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect::<Vec<_>>();
        if let Ok(redis) = std::env::var("REDIS_URL") {
            env.push(("REDIS_URL".into(), redis));
        }
        Server {
            bin,
            env,
            log,
            child: None,
            port: 0,
            starts: 0,
            kills: 0,
        }
    }

    pub fn is_up(&self) -> bool {
        self.child.is_some()
    }

    /// Starts the process on a new free port and waits until it answers `/readyz`.
    pub async fn start(&mut self) {
        assert!(self.child.is_none(), "the server is already running");
        let port = free_port();
        let out = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("server log");
        let err = out.try_clone().expect("server log");
        let mut cmd = Command::new(&self.bin);
        cmd.env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("PORTAL_LISTEN", format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let mut child = cmd.spawn().unwrap_or_else(|e| {
            panic!("{} cannot be started: {e}", self.bin.display());
        });
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .expect("http client");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "portal-server exited at start ({status}); see {}",
                    self.log.display()
                );
            }
            let ok = http
                .get(format!("http://127.0.0.1:{port}/readyz"))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ok {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "portal-server not ready within 30 s; see {}",
                self.log.display()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.child = Some(child);
        self.port = port;
        self.starts += 1;
    }

    /// SIGKILL: no graceful shutdown, in-flight requests and transactions die with it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
            self.kills += 1;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
