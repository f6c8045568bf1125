//! `padmin keys`: federation keys.

use super::common::{done, read_stdin, Idem};
use crate::output;
use crate::session::Session;
use clap::Subcommand;
use domain::error::Error;
use domain::model::{KeyFilter, KeyStatus};

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Create a key. The full key is printed once and cannot be shown again.
    Create {
        #[arg(long)]
        name: String,
        /// Lifetime, e.g. 90d or 12h. Default: no expiry.
        #[arg(long)]
        expires_in: Option<String>,
        #[command(flatten)]
        idem: Idem,
    },
    /// List keys, newest first.
    List {
        /// active, revoked or expired
        #[arg(long, value_parser = KeyStatus::parse)]
        status: Option<KeyStatus>,
        /// Active keys expiring within this many days.
        #[arg(long)]
        expiring_within: Option<u32>,
        /// Keys not used for at least this many days.
        #[arg(long)]
        unused_for: Option<u32>,
        #[arg(long)]
        search: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Show one key.
    Show { id: String },
    /// Revoke one or more keys (all or none).
    Revoke {
        #[arg(required = true)]
        ids: Vec<String>,
        #[command(flatten)]
        idem: Idem,
    },
    /// Mint a successor; the old key keeps working during the overlap.
    Rotate {
        id: String,
        /// 0, 1m, 15m, 1h, 6h, 24h (at most 7d).
        #[arg(long)]
        overlap: String,
        #[command(flatten)]
        idem: Idem,
    },
    /// End a rotated key's overlap now.
    EndOverlap { id: String },
    /// Verify a key read from standard input (never from the command line).
    Verify,
}

pub async fn run(s: &Session, c: Cmd) -> Result<u8, Error> {
    let (p, a) = (&s.portal, &s.actor);
    match c {
        Cmd::Create {
            name,
            expires_in,
            idem,
        } => {
            let k = p
                .create_key(
                    a,
                    portal::NewKey { name, expires_in },
                    idem.idempotency_key.as_deref(),
                )
                .await?;
            let shown = serde_json::json!({"key": k.key, "full_key": k.full_key.expose()});
            done(s, &shown, |_| {
                output::keys(std::slice::from_ref(&k.key));
                println!(
                    "\n{}\n\nCopy this key now: it is shown only once and cannot be recovered.",
                    k.full_key.expose()
                );
            })
        }
        Cmd::List {
            status,
            expiring_within,
            unused_for,
            search,
            limit,
            cursor,
        } => {
            let f = KeyFilter {
                status,
                expiring_within_days: expiring_within,
                unused_for_days: unused_for,
                search,
                limit,
                cursor,
            };
            let page = p.list_keys(a, f).await?;
            done(s, &page, |p| {
                output::keys(&p.items);
                output::next_page(&p.next_cursor);
            })
        }
        Cmd::Show { id } => done(s, &p.get_key(a, &id).await?, |k| {
            output::keys(std::slice::from_ref(k))
        }),
        Cmd::Revoke { ids, idem } => done(
            s,
            &p.revoke_keys(a, &ids, idem.idempotency_key.as_deref())
                .await?,
            |v| output::keys(v),
        ),
        Cmd::Rotate { id, overlap, idem } => {
            let r = p
                .rotate_key(a, &id, &overlap, idem.idempotency_key.as_deref())
                .await?;
            let shown = serde_json::json!({"old": r.old, "successor": {"key": r.successor.key, "full_key": r.successor.full_key.expose()}});
            done(s, &shown, |_| {
                output::keys(&[r.old.clone(), r.successor.key.clone()]);
                let until = r.old.expires_at.map(|t| t.to_rfc3339()).unwrap_or_default();
                println!("\n{}\n\nCopy the successor now: it is shown only once. The old key works until {until}.", r.successor.full_key.expose());
            })
        }
        Cmd::EndOverlap { id } => done(s, &p.end_overlap(a, &id).await?, |k| {
            output::keys(std::slice::from_ref(k))
        }),
        Cmd::Verify => {
            let key = read_stdin("key")?;
            let v = p.verify_key(a, &key).await?;
            done(s, &v, |v| {
                println!("valid: {} ({})", v.key_id.display_prefix(), v.name)
            })
        }
    }
}
