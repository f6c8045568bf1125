//! The replica's file: encrypted at rest by SQLCipher (AES-256, each page authenticated by an
//! HMAC) with a per-device key the caller keeps in the OS keychain. The write-ahead log is
//! encrypted the same way, and temporary tables stay in memory, so no plaintext page reaches
//! the disk. A replica written by a version that did not encrypt is encrypted in place the first
//! time it is opened with a key (its outbox included: nothing queued is lost).

use crate::sql::{map_err, SqlStore};
use crate::{Result, StoreError};
use domain::Sensitive;
use std::path::{Path, PathBuf};

/// A replica's 256-bit key (SQLCipher's raw-key form: no passphrase derivation on open).
#[derive(Clone)]
pub struct ReplicaKey(Sensitive<[u8; 32]>);

impl std::fmt::Debug for ReplicaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReplicaKey(…)")
    }
}

impl ReplicaKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        ReplicaKey(Sensitive::new(bytes))
    }

    /// Parses the 64 hex digits [`Self::to_hex`] writes (as kept in the keychain).
    pub fn from_hex(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Self::from_bytes(bytes))
    }

    pub fn to_hex(&self) -> Sensitive<String> {
        Sensitive::new(self.0.expose().iter().map(|b| format!("{b:02x}")).collect())
    }

    /// `PRAGMA key = "x'…'"`: the statement that unlocks a connection.
    pub(crate) fn pragma(&self) -> Sensitive<String> {
        Sensitive::new(format!("PRAGMA key = \"x'{}'\"", self.to_hex().expose()))
    }
}

/// SQLite's answer when the file is not a database under this key (`SQLITE_NOTADB`).
fn is_wrong_key(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("26"))
}

/// Opens one connection (with the key, if any) and reads the schema: with a key,
/// [`StoreError::WrongKey`] when the file is encrypted with another one; without, a clear
/// error when the file is not a plain SQLite database (an encrypted replica, say).
pub(crate) async fn probe_key(
    options: &sqlx::any::AnyConnectOptions,
    key_statement: Option<&Sensitive<String>>,
    location: &str,
) -> Result<()> {
    use sqlx::{ConnectOptions, Connection, Executor};
    let mut conn = options.connect().await.map_err(map_err)?;
    let read = async {
        if let Some(statement) = key_statement {
            conn.execute(statement.expose().as_str()).await?;
        }
        conn.execute("SELECT count(*) FROM sqlite_master").await
    }
    .await;
    let _ = conn.close().await;
    match read {
        Ok(_) => Ok(()),
        Err(e) if is_wrong_key(&e) && key_statement.is_some() => Err(StoreError::WrongKey),
        Err(e) if is_wrong_key(&e) => Err(StoreError::Unavailable(format!(
            "{location} is not a SQLite database (or it is encrypted: a sync replica opens only with its key)"
        ))),
        Err(e) => Err(map_err(e)),
    }
}

/// The first 16 bytes of every plaintext SQLite file; an encrypted one starts with its salt.
const PLAINTEXT_HEADER: &[u8; 16] = b"SQLite format 3\0";

fn is_plaintext(path: &Path) -> bool {
    use std::io::Read;
    let mut header = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut header))
        .is_ok_and(|()| &header == PLAINTEXT_HEADER)
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

impl SqlStore {
    /// Opens (creating if needed) the replica file at `path`, encrypted with `key`: a SQLite
    /// workspace whose timeline is a rewritable view. [`StoreError::WrongKey`] when the file is
    /// encrypted with another key.
    pub async fn open_replica(path: &Path, key: &ReplicaKey) -> Result<Self> {
        if is_plaintext(path) {
            // Two programs opening the same old replica at once (the app and `padmin`): one
            // encrypts it, the other waits and then finds it encrypted.
            let _lock = encryption_lock(path).await?;
            if is_plaintext(path) {
                encrypt_in_place(path, key).await?;
            }
        }
        let store = Self::open_sqlite_keyed(path, Some(key)).await?;
        store.make_replica().await?;
        Ok(store)
    }

    /// An in-memory replica (tests, benchmarks).
    pub async fn replica_in_memory() -> Result<Self> {
        let store = Self::sqlite_in_memory().await?;
        store.make_replica().await?;
        Ok(store)
    }

    async fn make_replica(&self) -> Result<()> {
        for t in ["incident_events_no_update", "incident_events_no_delete"] {
            sqlx::query(&format!("DROP TRIGGER IF EXISTS {t}"))
                .persistent(false)
                .execute(&self.pool)
                .await
                .map_err(map_err)?;
        }
        Ok(())
    }

    /// Rewrites the file so deleted rows do not linger in its free pages (after a wipe).
    pub async fn vacuum(&self) -> Result<()> {
        sqlx::query("VACUUM")
            .persistent(false)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    /// Closes the pool (the file can then be moved or removed).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// How long a program waits for another one encrypting the same replica.
const ENCRYPTION_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// An exclusive lock on `<replica>.encrypt-lock` (held until dropped): one program at a time
/// encrypts a plaintext replica.
async fn encryption_lock(path: &Path) -> Result<std::fs::File> {
    let lock = sibling(path, ".encrypt-lock");
    let unavailable =
        |e: std::io::Error| StoreError::Unavailable(format!("cannot lock {}: {e}", lock.display()));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock)
        .map_err(unavailable)?;
    let started = std::time::Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < ENCRYPTION_WAIT => {
                tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Unavailable(format!(
                    "{} is being encrypted by another program: try again when it is done",
                    path.display()
                )))
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(unavailable(e)),
        }
    }
}

/// Rewrites a plaintext replica as an encrypted one: exported into an encrypted copy beside it
/// (`sqlcipher_export`), which then replaces it in one rename. A crash before the rename leaves
/// the plaintext file whole (the copy is redone next time); after it, the encrypted one.
async fn encrypt_in_place(path: &Path, key: &ReplicaKey) -> Result<()> {
    let copy = sibling(path, ".encrypting");
    for stale in [copy.clone(), sibling(&copy, "-wal"), sibling(&copy, "-shm")] {
        remove_if_exists(&stale)?;
    }
    let plain = SqlStore::open_sqlite(path).await?;
    // The key is bound, never part of a statement's text (which the driver may log).
    let raw_key = Sensitive::new(format!("x'{}'", key.to_hex().expose()));
    let mut conn = plain.pool.acquire().await.map_err(map_err)?;
    let result = async {
        sqlx::query("ATTACH DATABASE $1 AS encrypted KEY $2")
            .bind(copy.display().to_string())
            .bind(raw_key.expose().clone())
            .persistent(false)
            .execute(&mut *conn)
            .await?;
        sqlx::query("SELECT sqlcipher_export('encrypted')")
            .persistent(false)
            .fetch_all(&mut *conn)
            .await?;
        sqlx::query("DETACH DATABASE encrypted")
            .persistent(false)
            .execute(&mut *conn)
            .await?;
        Ok::<_, sqlx::Error>(())
    }
    .await;
    drop(conn);
    plain.close().await;
    result.map_err(|e| StoreError::Unavailable(format!("cannot encrypt the replica: {e}")))?;
    // Closing checkpointed the plaintext's write-ahead log into it (the copy has everything).
    // A log still there holds frames of another connection: keep the plaintext as it is.
    let wal = sibling(path, "-wal");
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        remove_if_exists(&copy)?;
        return Err(StoreError::Unavailable(format!(
            "{} is still in use by another program (its write-ahead log is open): close it and try again",
            path.display()
        )));
    }
    for stale in [wal, sibling(path, "-shm")] {
        remove_if_exists(&stale)?;
    }
    std::fs::rename(&copy, path).map_err(|e| {
        StoreError::Unavailable(format!(
            "cannot replace {} with its encrypted copy: {e}",
            path.display()
        ))
    })?;
    Ok(())
}

fn remove_if_exists(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StoreError::Unavailable(format!(
            "cannot remove {}: {e}",
            path.display()
        ))),
    }
}
