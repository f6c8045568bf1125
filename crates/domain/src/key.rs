//! The federation key format, its offline checksum and its argon2id hash.
//!
//! A key reads `pak_<key id>_<secret><checksum>`, 80 characters of lowercase base32hex:
//! - `pak_` — a visible prefix, so secret scanners and people recognise the key;
//! - the key id — 10 random bytes (16 characters), public: it names the key in lists and logs;
//! - `_`, then the secret — 32 random bytes from the OS CSPRNG (52 characters);
//! - the checksum — CRC32 of everything before it (7 characters), so a typo or a truncated
//!   paste is rejected offline, before any database lookup or password hashing.
//!
//! Only an argon2id PHC string of the whole key is stored, behind the key id.

use crate::sensitive::Sensitive;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use data_encoding::BASE32_DNSSEC;
use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

pub const PREFIX: &str = "pak_";
const ID_BYTES: usize = 10;
const ID_CHARS: usize = 16;
const SECRET_BYTES: usize = 32;
const SECRET_CHARS: usize = 52;
const CHECKSUM_CHARS: usize = 7;
/// The length of every well-formed key.
pub const KEY_LEN: usize = PREFIX.len() + ID_CHARS + 1 + SECRET_CHARS + CHECKSUM_CHARS;

/// OWASP's minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
pub const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
pub const ARGON2_ITERATIONS: u32 = 2;
pub const ARGON2_LANES: u32 = 1;

/// Why a presented key was rejected before any lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyFormatError {
    #[error("not a federation key: it must start with `pak_` and be {KEY_LEN} characters long")]
    Shape,
    #[error("the key's checksum does not match: it was mistyped or truncated")]
    Checksum,
    #[error("the key contains characters that cannot appear in a federation key")]
    Encoding,
}

/// The public id of a federation key (16 lowercase base32hex characters).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
pub struct KeyId(String);

impl Serialize for KeyId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for KeyId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        KeyId::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl KeyId {
    /// Accepts the bare id (`0123456789abcdef`) or the displayed prefix (`pak_0123456789abcdef`).
    pub fn parse(input: &str) -> Result<Self, String> {
        let trimmed = input.trim().to_ascii_lowercase();
        let s = trimmed.strip_prefix(PREFIX).unwrap_or(&trimmed);
        if s.len() != ID_CHARS || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'v')) {
            return Err(format!(
                "`{}` is not a key id: expected {ID_CHARS} characters of 0-9 and a-v, as shown by `keys list`",
                truncate_for_message(input)
            ));
        }
        Ok(Self(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// What lists show: `pak_<id>`.
    pub fn display_prefix(&self) -> String {
        format!("{PREFIX}{}", self.0)
    }
}

fn truncate_for_message(s: &str) -> String {
    // At most the prefix and the id: never a character of a secret pasted by mistake.
    let t: String = s.chars().take(PREFIX.len() + ID_CHARS).collect();
    if t.len() < s.len() {
        format!("{t}…")
    } else {
        t
    }
}

impl TryFrom<String> for KeyId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}
impl From<KeyId> for String {
    fn from(k: KeyId) -> String {
        k.0
    }
}
impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.0)
    }
}
impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A well-formed full key, as presented by a partner or minted here. The plaintext is held in a
/// [`Sensitive`], so it cannot be logged or serialised by accident.
#[derive(Debug, Clone)]
pub struct FullKey {
    id: KeyId,
    text: Sensitive<String>,
}

impl FullKey {
    /// Mints a fresh key from a cryptographically secure generator.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut id = [0u8; ID_BYTES];
        let mut secret = [0u8; SECRET_BYTES];
        rng.fill_bytes(&mut id);
        rng.fill_bytes(&mut secret);
        let id = BASE32_DNSSEC.encode(&id);
        let body = format!("{PREFIX}{id}_{}", BASE32_DNSSEC.encode(&secret));
        let text = format!("{body}{}", checksum(&body));
        FullKey {
            id: KeyId(id),
            text: Sensitive::new(text),
        }
    }

    /// Checks shape and checksum offline. Surrounding whitespace (a pasted newline) is ignored.
    pub fn parse(input: &str) -> Result<Self, KeyFormatError> {
        let s = input.trim();
        if s.len() != KEY_LEN || !s.is_ascii() || !s.starts_with(PREFIX) {
            return Err(KeyFormatError::Shape);
        }
        let id_end = PREFIX.len() + ID_CHARS;
        if &s[id_end..id_end + 1] != "_" {
            return Err(KeyFormatError::Shape);
        }
        // Only lowercase base32hex after the prefix, and the one separator: the decoder also
        // accepts uppercase, which would let a changed checksum character through.
        let canonical = s[PREFIX.len()..]
            .bytes()
            .enumerate()
            .all(|(i, b)| matches!(b, b'0'..=b'9' | b'a'..=b'v') || (b == b'_' && i == ID_CHARS));
        if !canonical {
            return Err(KeyFormatError::Encoding);
        }
        let (body, sum) = s.split_at(KEY_LEN - CHECKSUM_CHARS);
        let sum = BASE32_DNSSEC
            .decode(sum.as_bytes())
            .map_err(|_| KeyFormatError::Checksum)?;
        if sum != crc32fast::hash(body.as_bytes()).to_be_bytes() {
            return Err(KeyFormatError::Checksum);
        }
        let id = &s[PREFIX.len()..id_end];
        let secret = &s[id_end + 1..KEY_LEN - CHECKSUM_CHARS];
        if BASE32_DNSSEC.decode(id.as_bytes()).is_err()
            || BASE32_DNSSEC.decode(secret.as_bytes()).is_err()
        {
            return Err(KeyFormatError::Encoding);
        }
        Ok(FullKey {
            id: KeyId(id.to_string()),
            text: Sensitive::new(s.to_string()),
        })
    }

    pub fn id(&self) -> &KeyId {
        &self.id
    }

    /// The plaintext key: only for its one-time display to the admin who created it.
    pub fn expose(&self) -> &str {
        self.text.expose()
    }

    /// A fast, non-reversible fingerprint used as the key of the warm-verification cache.
    pub fn fast_digest(&self) -> [u8; 32] {
        Sha256::digest(self.text.expose().as_bytes()).into()
    }

    /// The argon2id PHC string to store.
    pub fn hash<R: RngCore + CryptoRng>(&self, rng: &mut R) -> Result<String, String> {
        let salt = SaltString::generate(rng);
        argon2()
            .hash_password(self.text.expose().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| format!("hashing failed: {e}"))
    }

    /// Checks the key against a stored PHC string. The comparison is constant-time.
    pub fn verify(&self, phc: &str) -> bool {
        match PasswordHash::new(phc) {
            Ok(parsed) => argon2()
                .verify_password(self.text.expose().as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    }
}

fn checksum(body: &str) -> String {
    BASE32_DNSSEC.encode(&crc32fast::hash(body.as_bytes()).to_be_bytes())
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, ARGON2_LANES, None)
        .expect("argon2 parameters are constants within the allowed ranges");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for KeyId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[0-9a-v]{16}$"))
            .description(Some("The public id of a federation key"))
            .into()
    }
}
#[cfg(feature = "openapi")]
impl utoipa::ToSchema for KeyId {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn key(seed: u64) -> FullKey {
        FullKey::generate(&mut StdRng::seed_from_u64(seed))
    }

    #[test]
    fn generated_keys_have_the_documented_shape() {
        let k = key(1);
        assert_eq!(k.expose().len(), KEY_LEN);
        assert!(k.expose().starts_with("pak_"));
        assert_eq!(
            format!("{k:?}").matches("<redacted>").count(),
            1,
            "Debug must hide the key"
        );
        assert!(!format!("{k:?}").contains(&k.expose()[21..40]));
    }

    #[test]
    fn hash_is_argon2id_with_owasp_parameters_and_verifies() {
        let k = key(2);
        let phc = k.hash(&mut StdRng::seed_from_u64(3)).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(!phc.contains(k.expose()));
        assert!(k.verify(&phc));
        assert!(!key(4).verify(&phc), "another key must not verify");
        assert!(!k.verify("not a phc string"));
    }

    #[test]
    fn whitespace_around_a_pasted_key_is_ignored_but_truncation_is_not() {
        let k = key(5);
        assert!(FullKey::parse(&format!("  {}\n", k.expose())).is_ok());
        assert_eq!(
            FullKey::parse(&k.expose()[..KEY_LEN - 1]).unwrap_err(),
            KeyFormatError::Shape
        );
        assert_eq!(FullKey::parse("").unwrap_err(), KeyFormatError::Shape);
    }

    #[test]
    fn an_uppercased_character_is_rejected_even_in_the_checksum() {
        // Found by proptest: the base32 decoder is case-insensitive.
        let k = key(461_687_447_314_587_076);
        for pos in [5, 30, KEY_LEN - 7, KEY_LEN - 1] {
            let mut chars: Vec<char> = k.expose().chars().collect();
            if chars[pos].is_ascii_lowercase() {
                chars[pos] = chars[pos].to_ascii_uppercase();
                let tampered: String = chars.into_iter().collect();
                assert!(
                    FullKey::parse(&tampered).is_err(),
                    "position {pos} uppercased was accepted"
                );
            }
        }
    }

    #[test]
    fn key_id_accepts_the_bare_id_and_the_prefix() {
        let k = key(6);
        let id = k.id().clone();
        assert_eq!(KeyId::parse(&id.display_prefix()).unwrap(), id);
        assert_eq!(KeyId::parse(id.as_str()).unwrap(), id);
        assert!(KeyId::parse("xyz").is_err());
        assert!(
            KeyId::parse("zzzzzzzzzzzzzzzz").is_err(),
            "w-z are outside base32hex"
        );
    }

    proptest! {
        #[test]
        fn round_trip(seed in any::<u64>()) {
            let k = key(seed);
            let parsed = FullKey::parse(k.expose()).unwrap();
            prop_assert_eq!(parsed.expose(), k.expose());
            prop_assert_eq!(parsed.id(), k.id());
        }

        #[test]
        fn any_single_changed_character_is_rejected(seed in any::<u64>(), pos in 0usize..KEY_LEN, c in "[0-9a-z_A-Z]") {
            let k = key(seed);
            let mut chars: Vec<char> = k.expose().chars().collect();
            let c = c.chars().next().unwrap();
            prop_assume!(chars[pos] != c);
            chars[pos] = c;
            let tampered: String = chars.into_iter().collect();
            prop_assert!(FullKey::parse(&tampered).is_err(), "{} was accepted", pos);
        }
    }
}
