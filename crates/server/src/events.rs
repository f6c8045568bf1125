//! Key revocations reach every instance: a revoke, rotation or end of overlap on one instance
//! is published on Redis, and every instance (this one included) drops that key from its
//! verification cache on receipt — within milliseconds, well inside the 1 s promise. If the
//! subscription drops, the instance forgets every cached verification and resubscribes, so a
//! missed message can never keep a revoked key alive. Without Redis there is one instance, and
//! the Portal already forgets the key itself.

use domain::key::KeyId;
use portal::LocalPortal;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// The channel key changes are published on, under the deployment's Redis prefix.
pub fn channel(prefix: &str) -> String {
    format!("{prefix}:key-changed")
}

/// Wires `portal` to Redis: its key changes are published, and others' are applied.
/// Returns once the subscription is live, so a revoke elsewhere after this is never missed.
pub async fn connect(
    portal: Arc<LocalPortal>,
    client: redis::Client,
    prefix: &str,
) -> anyhow::Result<()> {
    let channel = channel(prefix);
    // Publisher: the Portal's listener is synchronous; a channel hands ids to a task.
    let publisher = redis::aio::ConnectionManager::new(client.clone()).await?;
    let (tx, mut rx) = mpsc::unbounded_channel::<KeyId>();
    portal.set_key_listener(Arc::new(move |id: &KeyId| {
        let _ = tx.send(id.clone());
    }));
    let publish_to = channel.clone();
    tokio::spawn(async move {
        while let Some(id) = rx.recv().await {
            let mut conn = publisher.clone();
            let sent: redis::RedisResult<i64> = redis::cmd("PUBLISH")
                .arg(&publish_to)
                .arg(id.as_str())
                .query_async(&mut conn)
                .await;
            if let Err(e) = sent {
                tracing::warn!(error = %e, key_id = id.as_str(), "could not broadcast a key change; other instances notice within 60 s");
            }
        }
    });

    // Subscriber.
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(subscribe_forever(portal, client, channel, ready_tx));
    let _ = tokio::time::timeout(Duration::from_secs(5), ready_rx).await;
    Ok(())
}

async fn subscribe_forever(
    portal: Arc<LocalPortal>,
    client: redis::Client,
    channel: String,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    use futures_util::StreamExt;
    let mut ready = Some(ready);
    let mut backoff = Duration::from_millis(100);
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                Ok(()) => {
                    backoff = Duration::from_millis(100);
                    // Anything published while we were not listening is unknown: start clean.
                    portal.forget_all_keys();
                    if let Some(r) = ready.take() {
                        let _ = r.send(());
                    }
                    let mut messages = pubsub.on_message();
                    while let Some(msg) = messages.next().await {
                        let Ok(text) = msg.get_payload::<String>() else {
                            continue;
                        };
                        if let Ok(id) = KeyId::parse(&text) {
                            portal.forget_key(&id);
                        }
                    }
                    tracing::warn!("key-change subscription ended; resubscribing");
                }
                Err(e) => tracing::warn!(error = %e, "cannot subscribe to key changes"),
            },
            Err(e) => tracing::warn!(error = %e, "cannot reach Redis for key changes"),
        }
        portal.forget_all_keys();
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}
