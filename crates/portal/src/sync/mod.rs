//! Sync: how a device's offline edits reach the portal and the portal's changes reach the
//! device. The rules are pure, in `domain::sync`; here are the I/O around them:
//!
//! - [`SyncApi`] — the upstream's two operations, push and pull. `local.rs` implements them for
//!   [`crate::LocalPortal`] (the server's engine, and the direct-PostgreSQL profile's upstream);
//!   `RemotePortal` implements them over `/v1/sync/push` and `/v1/sync/pull`.
//! - [`Replica`] (`replica.rs`) — the device's side: a SQLite replica that serves every
//!   incident read and takes every incident edit offline, appending it to the outbox in the
//!   same local transaction.
//! - `engine.rs` — [`Replica::sync_now`]: push the outbox in order, then pull from the cursor
//!   and rebase, with the retry schedule.

mod engine;
mod local;
mod push;
mod replica;
mod replica_reads;
#[cfg(test)]
pub(crate) mod test_support;
pub mod wire;

use async_trait::async_trait;
use domain::error::Result;
use domain::model::{PullResponse, PushRequest, PushResponse};
use domain::Actor;

pub use engine::SyncReport;
pub use replica::Replica;

/// The upstream of offline sync.
#[async_trait]
pub trait SyncApi: Send + Sync {
    /// Applies a device's mutations in order, each once: one already applied is answered from
    /// its recorded outcome, a gap is refused (`Conflict`, with the last applied id as
    /// `current_version`). Each applied mutation is audited as the person, with when they made
    /// it; a mutation that does not apply is *rejected* (with its reason) or a *conflict* (with
    /// both values), and never takes the others down. One transaction per push.
    async fn sync_push(&self, actor: &Actor, push: PushRequest) -> Result<PushResponse>;
    /// The incidents changed after `cursor` that `actor` may see, with their timelines, and the
    /// SLA targets and policies when they changed.
    async fn sync_pull(
        &self,
        actor: &Actor,
        cursor: i64,
        limit: Option<u32>,
    ) -> Result<PullResponse>;
}
