//! `padmin secrets`: secrets at rest and the master key.

use super::common::{done, progress_bar, Idem};
use crate::session::Session;
use clap::Subcommand;
use domain::error::Error;

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// How many sealed secrets are behind the current master-key version.
    Status,
    /// Add a master-key version and re-encrypt every secret to it (resumable).
    RotateMaster {
        /// Only report what is behind.
        #[arg(long)]
        dry_run: bool,
        /// Secrets re-encrypted per transaction.
        #[arg(long, default_value_t = 100)]
        batch_size: u32,
        /// Stop after this many batches (spread the work; the next run resumes).
        #[arg(long)]
        max_batches: Option<u32>,
        #[command(flatten)]
        idem: Idem,
    },
}

pub async fn run(s: &Session, c: Cmd) -> Result<u8, Error> {
    let (p, a) = (&s.portal, &s.actor);
    match c {
        Cmd::Status => done(s, &p.master_key_status(a).await?, |st| {
            println!(
                "master key version {}: {} of {} secrets behind it",
                st.current_version, st.behind, st.total
            )
        }),
        Cmd::RotateMaster {
            dry_run,
            batch_size,
            max_batches,
            idem,
        } => {
            let pb = progress_bar(s.json || dry_run, "re-encrypting");
            let progress = |done: u64, total: u64| {
                pb.set_length(total);
                pb.set_position(done);
            };
            let rotation = portal::MasterKeyRotation {
                dry_run,
                batch_size,
                max_batches,
            };
            let report = p
                .rotate_master_key(a, rotation, &progress, idem.idempotency_key.as_deref())
                .await?;
            pb.finish_and_clear();
            done(s, &report, |r| {
                if dry_run {
                    println!(
                        "dry run: {} of {} secrets are behind master key version {}",
                        r.status.behind, r.status.total, r.status.current_version
                    );
                } else {
                    if let Some(v) = r.added_version {
                        println!("added master key version {v}");
                    }
                    println!(
                        "re-encrypted {} secrets; {} behind version {}",
                        r.resealed, r.status.behind, r.status.current_version
                    );
                }
            })
        }
    }
}
