//! A real OpenID Provider for the sign-in tests: panva/oidc-provider (tests/oidc) started with
//! Node on a loopback port, and a scripted browser that signs in through its login form —
//! the whole authorization code flow with no real browser.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The provider's users (any password): `alice` (provider), `dev` (developer), `tenant`
/// (client of the organisation given at start).
#[derive(Debug)]
pub struct RealProvider {
    pub issuer: String,
    pub client_id: String,
    child: Child,
}

impl RealProvider {
    /// Starts the provider; `tenant_org` is the organisation of the `tenant` user.
    pub fn start(access_ttl_secs: u64, tenant_org: &str) -> RealProvider {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("oidc");
        assert!(
            dir.join("node_modules/oidc-provider").exists(),
            "the test OIDC provider is not installed: run `npm ci --prefix tests/oidc` (scripts/test.sh does)"
        );
        let mut child = Command::new("node")
            .arg(dir.join("provider.mjs"))
            .env("OIDC_ACCESS_TTL", access_ttl_secs.to_string())
            .env("OIDC_TENANT_ORG", tenant_org)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs the test OIDC provider (is Node.js installed?)");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the provider announces itself");
        let v: serde_json::Value = serde_json::from_str(&line).expect("announcement is JSON");
        RealProvider {
            issuer: v["issuer"].as_str().expect("issuer").to_string(),
            client_id: v["client_id"].as_str().expect("client_id").to_string(),
            child,
        }
    }
}

impl Drop for RealProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Plays the user's browser: opens `authorize_url`, signs in as `user` on the provider's login
/// form, and follows the redirects until the app's loopback callback has been called.
pub async fn browse_and_sign_in(authorize_url: &str, user: &str) {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("browser");
    let mut url = reqwest::Url::parse(authorize_url).expect("authorize URL");
    for _ in 0..20 {
        if url.path() == "/callback" {
            let r = http.get(url.clone()).send().await.expect("callback");
            assert!(r.status().is_success(), "the app's callback page answers");
            return;
        }
        let r = http.get(url.clone()).send().await.expect("provider page");
        if r.status().is_redirection() {
            let location = r.headers()["location"]
                .to_str()
                .expect("location")
                .to_string();
            url = url.join(&location).expect("redirect URL");
            continue;
        }
        let page = r.text().await.unwrap_or_default();
        let form: Vec<(&str, &str)> = if page.contains("name=\"prompt\" value=\"consent\"") {
            vec![("prompt", "consent")]
        } else {
            vec![("prompt", "login"), ("login", user), ("password", "any")]
        };
        let r = http
            .post(url.clone())
            .form(&form)
            .send()
            .await
            .expect("submit");
        assert!(
            r.status().is_redirection(),
            "the provider accepted the form: {}",
            r.status()
        );
        let location = r.headers()["location"]
            .to_str()
            .expect("location")
            .to_string();
        url = url.join(&location).expect("redirect URL");
    }
    panic!("the sign-in did not come back to the app within 20 redirects");
}
