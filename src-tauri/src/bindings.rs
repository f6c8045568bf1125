//! The TypeScript declarations of every type crossing the IPC boundary, generated from the Rust
//! types (ts-rs) into `ui/src/generated/`. The test below fails when the committed files are
//! stale; `UPDATE_BINDINGS=1 cargo test -p provider-admin bindings` rewrites them.

#[cfg(test)]
mod tests {
    use crate::commands::{
        integrations::IntegrationForm, keys::*, oidc::OidcForm, session::AppInfo,
        session::PortalDiscovery,
    };
    use crate::error::CommandError;
    use crate::profiles::{PortalForm, PostgresForm, ProfileBook};
    use crate::state::SessionInfo;
    use domain::audit::AuditEvent;
    use domain::model::*;
    use domain::oidc::OidcProbeReport;
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};
    use ts_rs::{Config, TS};

    fn export_all(dir: &Path) {
        let cfg = Config::new().with_out_dir(dir).with_large_int("number");
        macro_rules! export {
            ($($t:ty),+ $(,)?) => {$( <$t as TS>::export_all(&cfg).expect(concat!("export ", stringify!($t))); )+};
        }
        export!(
            CommandError,
            AppInfo,
            SessionInfo,
            ProfileBook,
            PostgresForm,
            PortalForm,
            PortalDiscovery,
            CreatedKeyView,
            RotationView,
            OidcForm,
            IntegrationForm,
            Page<FederationKey>,
            Page<Client>,
            Page<AuditEvent>,
            FederationKey,
            KeyFilter,
            KeyStatus,
            OidcConfig,
            OidcProbeReport,
            Integration,
            IntegrationStatus,
            Client,
            ClientFilter,
            AuditEvent,
            AuditFilter,
            ChainReport,
            Overview,
            Verified,
            MasterKeyStatus,
        );
    }

    fn read_tree(dir: &Path) -> BTreeMap<PathBuf, String> {
        let mut out = BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if let Ok(text) = std::fs::read_to_string(&p) {
                    out.insert(p.strip_prefix(dir).unwrap_or(&p).to_path_buf(), text);
                }
            }
        }
        out
    }

    #[test]
    fn bindings_are_up_to_date() {
        let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/generated");
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            let _ = std::fs::remove_dir_all(&committed);
            export_all(&committed);
            return;
        }
        let fresh = std::env::temp_dir().join(format!("padmin-bindings-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&fresh);
        export_all(&fresh);
        let (a, b) = (read_tree(&fresh), read_tree(&committed));
        let _ = std::fs::remove_dir_all(&fresh);
        let stale: Vec<_> = a
            .keys()
            .chain(b.keys())
            .filter(|k| a.get(*k) != b.get(*k))
            .collect();
        assert!(stale.is_empty(), "ui/src/generated is stale ({stale:?}): run `UPDATE_BINDINGS=1 cargo test -p provider-admin bindings`");
    }
}
