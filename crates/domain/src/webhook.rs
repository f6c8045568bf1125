//! Outbound webhooks signed per the Standard Webhooks specification
//! (<https://www.standardwebhooks.com>): each message carries `webhook-id` (stable across
//! retries, so receivers deduplicate), `webhook-timestamp` (Unix seconds) and
//! `webhook-signature: v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>`. The secret
//! is shared as `whsec_<base64>`. Also the retry schedule of a delivery.

use crate::sensitive::Sensitive;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A webhook signing secret: its raw bytes, never shown except as `whsec_…` on purpose.
#[derive(Clone)]
pub struct WebhookSecret(Sensitive<Vec<u8>>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

impl WebhookSecret {
    /// At least 24 bytes (the specification asks for 24 to 64).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, String> {
        if bytes.len() < 24 {
            return Err("a webhook secret must be at least 24 bytes".into());
        }
        Ok(WebhookSecret(Sensitive::new(bytes)))
    }

    /// Reads `whsec_<base64>`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let b64 = text
            .trim()
            .strip_prefix("whsec_")
            .ok_or("a webhook secret starts with `whsec_`")?;
        let bytes = STANDARD
            .decode(b64)
            .map_err(|_| "a webhook secret is `whsec_` then base64".to_string())?;
        Self::from_bytes(bytes)
    }

    /// `whsec_<base64>`, to give to a receiver.
    pub fn to_whsec(&self) -> Sensitive<String> {
        Sensitive::new(format!("whsec_{}", STANDARD.encode(self.0.expose())))
    }

    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
        // HMAC takes a key of any length.
        let mut mac = match Hmac::<Sha256>::new_from_slice(self.0.expose()) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC accepts keys of every length"),
        };
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// The `webhook-signature` header's value: `v1,<base64>`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let tag = self.mac(id, timestamp, body).finalize().into_bytes();
        format!("v1,{}", STANDARD.encode(tag))
    }

    /// Checks a message as a receiver does: one of the space-separated `v1,…` signatures
    /// matches (compared in constant time) and the timestamp is within `tolerance_secs` of `now`.
    pub fn verify(
        &self,
        id: &str,
        timestamp: &str,
        signatures: &str,
        body: &[u8],
        now_secs: i64,
        tolerance_secs: i64,
    ) -> Result<(), String> {
        let ts: i64 = timestamp
            .trim()
            .parse()
            .map_err(|_| "webhook-timestamp is not a number of seconds")?;
        if (now_secs - ts).abs() > tolerance_secs {
            return Err("webhook-timestamp is outside the tolerance".into());
        }
        for sig in signatures.split_whitespace() {
            let Some(b64) = sig.strip_prefix("v1,") else {
                continue;
            };
            let Ok(tag) = STANDARD.decode(b64) else {
                continue;
            };
            if self.mac(id, ts, body).verify_slice(&tag).is_ok() {
                return Ok(());
            }
        }
        Err("no webhook-signature matches".into())
    }
}

/// How long to wait before retrying a delivery that failed `attempts` times (1 after the first
/// failure), or `None` when it is time to give up: 5 s, 30 s, 2 min, 10 min, 30 min, 2 h, 6 h,
/// then done (8 attempts over about 9 hours).
pub fn retry_delay_secs(attempts: u32) -> Option<i64> {
    const SCHEDULE: [i64; 7] = [5, 30, 120, 600, 1_800, 7_200, 21_600];
    attempts
        .checked_sub(1)
        .and_then(|i| SCHEDULE.get(i as usize).copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specifications_example_signs_as_published() {
        // From the Standard Webhooks reference implementation's tests.
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        let sig = secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(secret
            .verify(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                "1614265330",
                &format!("v1,bm90IHRoaXM= {sig}"),
                body,
                1_614_265_331,
                300
            )
            .is_ok());
        assert!(secret
            .verify("msg_other", "1614265330", &sig, body, 1_614_265_331, 300)
            .is_err());
        assert!(secret
            .verify(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                "1614265330",
                &sig,
                body,
                1_614_266_000,
                300
            )
            .is_err());
        assert!(!format!("{secret:?}").contains("MfKQ"));
    }

    #[test]
    fn bad_secrets_are_refused_and_retries_end() {
        assert!(WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(WebhookSecret::parse("whsec_!!!").is_err());
        assert!(WebhookSecret::parse("whsec_c2hvcnQ=").is_err());
        assert_eq!(retry_delay_secs(0), None);
        assert_eq!(retry_delay_secs(1), Some(5));
        assert_eq!(retry_delay_secs(7), Some(21_600));
        assert_eq!(retry_delay_secs(8), None);
    }
}
