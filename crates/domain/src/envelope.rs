//! Envelope encryption of secrets at rest: AES-256-GCM under a versioned master key.
//!
//! A sealed value is `version (4 bytes, big-endian) ‖ nonce (12 random bytes) ‖ ciphertext+tag`.
//! The associated data binds it to its place — table, column, row id and key version — so a
//! ciphertext copied to another row or column, or relabelled with another version, fails to open.
//!
//! [`lock`] adds a layer under a secret only the requester holds (an idempotency key): what it
//! locks cannot be opened with the master key alone.

use crate::sensitive::Sensitive;
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use data_encoding::BASE64;
use rand::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;

const NONCE_LEN: usize = 12;
const VERSION_LEN: usize = 4;

/// Where a sealed value lives. Part of the associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding<'a> {
    pub table: &'a str,
    pub column: &'a str,
    pub row_id: &'a str,
}

impl Binding<'_> {
    fn associated_data(&self, version: u32) -> Vec<u8> {
        format!(
            "provider-admin/envelope/v1\0{}\0{}\0{}\0{version}",
            self.table, self.column, self.row_id
        )
        .into_bytes()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("the sealed value is too short or malformed")]
    Malformed,
    #[error("master key version {0} is not available: add it to the master key set (keychain, PORTAL_MASTER_KEY or key file)")]
    UnknownVersion(u32),
    #[error("the sealed value does not open here: it was altered, moved from another row, or sealed with another master key")]
    Open,
    #[error("invalid master key set: {0}")]
    KeySet(String),
}

/// The master keys, by version. New values are sealed with the newest version; older versions
/// stay available to open what has not yet been re-encrypted.
#[derive(Clone)]
pub struct MasterKeySet {
    keys: BTreeMap<u32, Sensitive<[u8; 32]>>,
}

impl fmt::Debug for MasterKeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKeySet")
            .field("versions", &self.keys.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl MasterKeySet {
    /// A new set with one fresh version-1 key.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut set = MasterKeySet {
            keys: BTreeMap::new(),
        };
        set.add_version(rng);
        set
    }

    /// Adds a fresh key as the next version and returns that version.
    pub fn add_version<R: RngCore + CryptoRng>(&mut self, rng: &mut R) -> u32 {
        let mut k = [0u8; 32];
        rng.fill_bytes(&mut k);
        let v = self.current() + 1;
        self.keys.insert(v, Sensitive::new(k));
        v
    }

    /// The newest version (0 for an empty set, which [`MasterKeySet::parse`] never returns).
    pub fn current(&self) -> u32 {
        self.keys.keys().next_back().copied().unwrap_or(0)
    }

    pub fn versions(&self) -> impl Iterator<Item = u32> + '_ {
        self.keys.keys().copied()
    }

    /// A 32-byte MAC of `message` under a key derived from master key `version` for `purpose`:
    /// K = HKDF-SHA256(ikm = master key, info = "provider-admin/mac/v1\0" ‖ purpose), then
    /// HMAC-SHA256 under K (as HKDF-Expand with the message as info). `None` for a version this
    /// set does not hold.
    pub fn mac(&self, version: u32, purpose: &str, message: &[u8]) -> Option<[u8; 32]> {
        let master = self.keys.get(&version)?;
        let mut info = b"provider-admin/mac/v1\0".to_vec();
        info.extend_from_slice(purpose.as_bytes());
        let mut k = [0u8; 32];
        hkdf::Hkdf::<Sha256>::new(None, master.expose())
            .expand(&info, &mut k)
            .ok()?;
        let mut out = [0u8; 32];
        hkdf::Hkdf::<Sha256>::from_prk(&k)
            .ok()?
            .expand(message, &mut out)
            .ok()?;
        Some(out)
    }

    /// Parses `1:<base64 32 bytes>,2:<base64 32 bytes>` (a single bare base64 key means version 1).
    pub fn parse(text: &str) -> Result<Self, EnvelopeError> {
        let mut keys = BTreeMap::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (v, b64) = match part.split_once(':') {
                Some((v, b)) => (
                    v.trim().parse::<u32>().map_err(|_| {
                        EnvelopeError::KeySet("a version must be a positive number".into())
                    })?,
                    b.trim(),
                ),
                None => (1, part),
            };
            if v == 0 {
                return Err(EnvelopeError::KeySet("versions start at 1".into()));
            }
            let bytes = BASE64
                .decode(b64.as_bytes())
                .map_err(|_| EnvelopeError::KeySet(format!("version {v} is not valid base64")))?;
            let key: [u8; 32] = bytes.try_into().map_err(|_| {
                EnvelopeError::KeySet(format!("version {v} must decode to exactly 32 bytes"))
            })?;
            if keys.insert(v, Sensitive::new(key)).is_some() {
                return Err(EnvelopeError::KeySet(format!("version {v} appears twice")));
            }
        }
        if keys.is_empty() {
            return Err(EnvelopeError::KeySet("no key found".into()));
        }
        Ok(MasterKeySet { keys })
    }

    /// The text form [`MasterKeySet::parse`] reads. It is the secret itself: store it only in a
    /// keychain or a file readable by its owner.
    pub fn to_secret_text(&self) -> Sensitive<String> {
        let parts: Vec<String> = self
            .keys
            .iter()
            .map(|(v, k)| format!("{v}:{}", BASE64.encode(k.expose())))
            .collect();
        Sensitive::new(parts.join(","))
    }

    /// A short public fingerprint of one version, safe to store and show, to detect that a
    /// database was sealed with a different master key than the one at hand.
    pub fn fingerprint(&self, version: u32) -> Option<String> {
        self.keys.get(&version).map(|k| {
            let mut h = Sha256::new();
            h.update(b"provider-admin/master-key-fingerprint\0");
            h.update(k.expose());
            hex::encode(&h.finalize()[..8])
        })
    }

    /// Seals `plaintext` with the current version, bound to `binding`.
    pub fn seal<R: RngCore + CryptoRng>(
        &self,
        rng: &mut R,
        binding: Binding<'_>,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, EnvelopeError> {
        let version = self.current();
        let key = self
            .keys
            .get(&version)
            .ok_or(EnvelopeError::UnknownVersion(version))?;
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let cipher = Aes256Gcm::new(key.expose().into());
        let aad = binding.associated_data(version);
        let ct = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| EnvelopeError::Open)?;
        let mut out = Vec::with_capacity(VERSION_LEN + NONCE_LEN + ct.len());
        out.extend_from_slice(&version.to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Opens a sealed value at its binding.
    pub fn open(
        &self,
        binding: Binding<'_>,
        sealed: &[u8],
    ) -> Result<Sensitive<Vec<u8>>, EnvelopeError> {
        let version = sealed_version(sealed)?;
        let key = self
            .keys
            .get(&version)
            .ok_or(EnvelopeError::UnknownVersion(version))?;
        let nonce = &sealed[VERSION_LEN..VERSION_LEN + NONCE_LEN];
        let cipher = Aes256Gcm::new(key.expose().into());
        let aad = binding.associated_data(version);
        cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: &sealed[VERSION_LEN + NONCE_LEN..],
                    aad: &aad,
                },
            )
            .map(Sensitive::new)
            .map_err(|_| EnvelopeError::Open)
    }
}

/// The master-key version a sealed value was made with.
pub fn sealed_version(sealed: &[u8]) -> Result<u32, EnvelopeError> {
    if sealed.len() < VERSION_LEN + NONCE_LEN + 16 {
        return Err(EnvelopeError::Malformed);
    }
    let mut v = [0u8; VERSION_LEN];
    v.copy_from_slice(&sealed[..VERSION_LEN]);
    Ok(u32::from_be_bytes(v))
}

/// The first byte of a [`lock`]ed value (distinct from any JSON text).
const LOCK_TAG: u8 = 1;
const SALT_LEN: usize = 16;
const LOCK_HEADER: usize = 1 + SALT_LEN + NONCE_LEN;

fn lock_cipher(secret: &[u8], salt: &[u8], context: &str) -> Result<Aes256Gcm, EnvelopeError> {
    let mut key = [0u8; 32];
    let mut info = b"provider-admin/lock/v1\0".to_vec();
    info.extend_from_slice(context.as_bytes());
    hkdf::Hkdf::<Sha256>::new(Some(salt), secret)
        .expand(&info, &mut key)
        .map_err(|_| EnvelopeError::Malformed)?;
    Ok(Aes256Gcm::new(&key.into()))
}

/// Locks `plaintext` under `secret` (e.g. an idempotency key, which only the caller has):
/// AES-256-GCM under HKDF-SHA256(salt = 16 random bytes, ikm = `secret`, info = `context`), with
/// `context` (e.g. the record's id) also the associated data. The result is
/// `1 ‖ salt ‖ nonce ‖ ciphertext+tag`; [`unlock`] opens it given the same secret and context.
/// It is only as strong as the secret is hard to guess.
pub fn lock<R: RngCore + CryptoRng>(
    rng: &mut R,
    secret: &[u8],
    context: &str,
    plaintext: &[u8],
) -> Result<Vec<u8>, EnvelopeError> {
    let mut header = [0u8; LOCK_HEADER];
    header[0] = LOCK_TAG;
    rng.fill_bytes(&mut header[1..]);
    let (salt, nonce) = header[1..].split_at(SALT_LEN);
    let ct = lock_cipher(secret, salt, context)?
        .encrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: plaintext,
                aad: context.as_bytes(),
            },
        )
        .map_err(|_| EnvelopeError::Open)?;
    let mut out = Vec::with_capacity(LOCK_HEADER + ct.len());
    out.extend_from_slice(&header);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Whether `value` was made by [`lock`] (values stored before it existed were not).
pub fn is_locked(value: &[u8]) -> bool {
    value.first() == Some(&LOCK_TAG)
}

/// Opens a [`lock`]ed value with its secret and context.
pub fn unlock(
    secret: &[u8],
    context: &str,
    locked: &[u8],
) -> Result<Sensitive<Vec<u8>>, EnvelopeError> {
    if locked.len() < LOCK_HEADER + 16 || !is_locked(locked) {
        return Err(EnvelopeError::Malformed);
    }
    let (salt, nonce) = locked[1..LOCK_HEADER].split_at(SALT_LEN);
    lock_cipher(secret, salt, context)?
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: &locked[LOCK_HEADER..],
                aad: context.as_bytes(),
            },
        )
        .map(Sensitive::new)
        .map_err(|_| EnvelopeError::Open)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    const AT: Binding<'static> = Binding {
        table: "oidc_configs",
        column: "client_secret",
        row_id: "row-1",
    };

    fn set(seed: u64) -> MasterKeySet {
        MasterKeySet::generate(&mut StdRng::seed_from_u64(seed))
    }

    #[test]
    fn a_ciphertext_moved_to_another_row_or_column_does_not_open() {
        let keys = set(1);
        let sealed = keys
            .seal(&mut StdRng::seed_from_u64(2), AT, b"s3cret")
            .unwrap();
        assert_eq!(keys.open(AT, &sealed).unwrap().expose(), b"s3cret");
        let other_row = Binding {
            row_id: "row-2",
            ..AT
        };
        let other_col = Binding {
            column: "issuer",
            ..AT
        };
        let other_table = Binding {
            table: "integrations",
            ..AT
        };
        for b in [other_row, other_col, other_table] {
            assert_eq!(keys.open(b, &sealed).unwrap_err(), EnvelopeError::Open);
        }
    }

    #[test]
    fn nonces_are_fresh_and_old_versions_still_open() {
        let mut rng = StdRng::seed_from_u64(3);
        let mut keys = set(4);
        let a = keys.seal(&mut rng, AT, b"x").unwrap();
        let b = keys.seal(&mut rng, AT, b"x").unwrap();
        assert_ne!(a, b, "two seals of one value must differ (fresh nonce)");
        assert_eq!(keys.add_version(&mut rng), 2);
        let c = keys.seal(&mut rng, AT, b"y").unwrap();
        assert_eq!(sealed_version(&a).unwrap(), 1);
        assert_eq!(sealed_version(&c).unwrap(), 2);
        assert_eq!(keys.open(AT, &a).unwrap().expose(), b"x");
        let reparsed = MasterKeySet::parse(keys.to_secret_text().expose()).unwrap();
        assert_eq!(reparsed.current(), 2);
        assert_eq!(reparsed.open(AT, &c).unwrap().expose(), b"y");
        assert_eq!(
            set(9).open(AT, &a).unwrap_err(),
            EnvelopeError::Open,
            "another master key must not open it"
        );
    }

    #[test]
    fn relabelling_the_version_fails() {
        let mut rng = StdRng::seed_from_u64(5);
        let mut keys = set(6);
        keys.add_version(&mut rng);
        let mut sealed = keys.seal(&mut rng, AT, b"z").unwrap();
        sealed[3] = 1; // claim version 1
        assert_eq!(keys.open(AT, &sealed).unwrap_err(), EnvelopeError::Open);
        sealed[3] = 7;
        assert_eq!(
            keys.open(AT, &sealed).unwrap_err(),
            EnvelopeError::UnknownVersion(7)
        );
    }

    #[test]
    fn key_set_text_is_validated_and_never_debug_printed() {
        assert!(MasterKeySet::parse("").is_err());
        assert!(MasterKeySet::parse("1:abc").is_err());
        assert!(MasterKeySet::parse("0:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").is_err());
        let keys = set(7);
        let dbg = format!("{keys:?}");
        assert!(!dbg.contains(&keys.to_secret_text().expose()[2..]), "{dbg}");
        assert_eq!(keys.fingerprint(1).unwrap().len(), 16);
    }

    #[test]
    fn a_locked_value_opens_only_with_its_secret_and_context() {
        let mut rng = StdRng::seed_from_u64(8);
        let locked = lock(&mut rng, b"idem-key-1", "row-1", b"pak_secret").unwrap();
        assert!(is_locked(&locked));
        assert!(!is_locked(b"{\"json\": 1}"));
        assert!(
            !locked.windows(10).any(|w| w == b"pak_secret"),
            "the plaintext is not in the locked value"
        );
        assert_eq!(
            unlock(b"idem-key-1", "row-1", &locked).unwrap().expose(),
            b"pak_secret"
        );
        assert_eq!(
            unlock(b"idem-key-2", "row-1", &locked).unwrap_err(),
            EnvelopeError::Open,
            "another secret"
        );
        assert_eq!(
            unlock(b"idem-key-1", "row-2", &locked).unwrap_err(),
            EnvelopeError::Open,
            "moved to another row"
        );
        let again = lock(&mut rng, b"idem-key-1", "row-1", b"pak_secret").unwrap();
        assert_ne!(locked, again, "a fresh salt and nonce every time");
        assert_eq!(
            unlock(b"idem-key-1", "row-1", &locked[..20]).unwrap_err(),
            EnvelopeError::Malformed
        );
    }

    proptest! {
        #[test]
        fn round_trip(plain in proptest::collection::vec(any::<u8>(), 0..512), seed in any::<u64>()) {
            let keys = set(seed);
            let sealed = keys.seal(&mut StdRng::seed_from_u64(seed ^ 1), AT, &plain).unwrap();
            let opened = keys.open(AT, &sealed).unwrap();
            prop_assert_eq!(opened.expose(), &plain);
        }

        #[test]
        fn any_changed_byte_is_rejected(plain in proptest::collection::vec(any::<u8>(), 0..64), seed in any::<u64>(), pos in any::<prop::sample::Index>(), flip in 1u8..=255) {
            let keys = set(seed);
            let mut sealed = keys.seal(&mut StdRng::seed_from_u64(seed ^ 1), AT, &plain).unwrap();
            let i = pos.index(sealed.len());
            sealed[i] ^= flip;
            prop_assert!(keys.open(AT, &sealed).is_err());
        }
    }
}
