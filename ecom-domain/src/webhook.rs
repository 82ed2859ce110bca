//! Signed provider reports: how a shop knows a payment webhook came from its provider.
//!
//! The scheme is the one Stripe uses. The provider sends the raw JSON body with a header
//!
//! ```text
//! Signature: t=1733104800,v1=600f0f299fcac4445cf39dad27afaf49a85084cb3a0810303bac4f203b70b03b
//! ```
//!
//! where `v1` is the hex HMAC-SHA256, under a secret both sides share, of the
//! timestamp, a `.`, and the body's bytes exactly as sent. A report is believed when
//! one of its `v1` signatures matches under one of the shop's secrets (several during
//! a rotation) and its timestamp is within the tolerance of the shop's clock, so a
//! captured report cannot be replayed later. Signatures are compared in constant time.
//! Replays inside the tolerance are the store's business: it books each provider
//! event id once.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far a report's timestamp may be from the shop's clock, either way.
pub const DEFAULT_TOLERANCE: Duration = Duration::minutes(5);

/// The shortest secret accepted, in bytes: 128 bits.
pub const MIN_SECRET_BYTES: usize = 16;

/// Why a report was not believed. The texts name the fault, never a secret or the
/// expected signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The signature header is not `t=<seconds>,v1=<hex>...`.
    #[error("malformed signature header: {0}")]
    MalformedHeader(&'static str),
    /// The timestamp is further than the tolerance from the shop's clock.
    #[error(
        "signature timestamp is {age_seconds} s away from now, more than {tolerance_seconds} s"
    )]
    OutsideTolerance {
        /// How far away, in seconds (positive: in the past).
        age_seconds: i64,
        /// The tolerance, in seconds.
        tolerance_seconds: i64,
    },
    /// No `v1` signature matches under any of the shop's secrets.
    #[error("no signature matches")]
    BadSignature,
    /// A verifier needs at least one secret.
    #[error("no webhook secret configured")]
    NoSecrets,
    /// A secret shorter than [`MIN_SECRET_BYTES`].
    #[error("a webhook secret must have at least {MIN_SECRET_BYTES} bytes")]
    SecretTooShort,
}

/// A secret shared with the provider. Its `Debug` shows no byte of it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl WebhookSecret {
    /// A secret of at least [`MIN_SECRET_BYTES`] bytes, as the provider shows it (its
    /// text is used as it is, e.g. `whsec_...`).
    pub fn parse(secret: &str) -> Result<Self, WebhookError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(WebhookError::SecretTooShort);
        }
        Ok(Self(secret.as_bytes().to_vec()))
    }

    fn mac(&self, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any size");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// The signature header a provider holding this secret sends for `body` at `at`.
    pub fn sign(&self, body: &[u8], at: DateTime<Utc>) -> String {
        let timestamp = at.timestamp();
        let digest = self.mac(timestamp, body).finalize().into_bytes();
        format!("t={timestamp},v1={}", hex(&digest))
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

/// Checks signature headers against the shop's current secrets.
#[derive(Debug, Clone)]
pub struct WebhookVerifier {
    secrets: Vec<WebhookSecret>,
    tolerance: Duration,
}

impl WebhookVerifier {
    /// A verifier that believes a signature under any of `secrets` (the new one and
    /// the old one while a rotation is under way), with [`DEFAULT_TOLERANCE`].
    pub fn new(secrets: Vec<WebhookSecret>) -> Result<Self, WebhookError> {
        if secrets.is_empty() {
            return Err(WebhookError::NoSecrets);
        }
        Ok(Self {
            secrets,
            tolerance: DEFAULT_TOLERANCE,
        })
    }

    /// The same verifier with another tolerance.
    pub fn with_tolerance(self, tolerance: Duration) -> Self {
        Self { tolerance, ..self }
    }

    /// Believes `body` when `header` holds a matching signature made within the
    /// tolerance of `now`.
    pub fn verify(
        &self,
        header: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), WebhookError> {
        let header = SignatureHeader::parse(header)?;
        let age_seconds = now.timestamp().saturating_sub(header.timestamp);
        if age_seconds.saturating_abs() > self.tolerance.num_seconds() {
            return Err(WebhookError::OutsideTolerance {
                age_seconds,
                tolerance_seconds: self.tolerance.num_seconds(),
            });
        }
        let matches = self.secrets.iter().any(|secret| {
            header.signatures.iter().any(|signature| {
                // verify_slice compares in constant time.
                secret
                    .mac(header.timestamp, body)
                    .verify_slice(signature)
                    .is_ok()
            })
        });
        if matches {
            Ok(())
        } else {
            Err(WebhookError::BadSignature)
        }
    }
}

/// A parsed `t=...,v1=...` header. Other schemes (`v0=`, future ones) are ignored.
struct SignatureHeader {
    timestamp: i64,
    signatures: Vec<[u8; 32]>,
}

/// More signatures than any rotation needs: a header is not a place for a list.
const MAX_SIGNATURES: usize = 8;

impl SignatureHeader {
    fn parse(header: &str) -> Result<Self, WebhookError> {
        let mut timestamp = None;
        let mut signatures = Vec::new();
        for part in header.split(',') {
            let (key, value) = part
                .trim()
                .split_once('=')
                .ok_or(WebhookError::MalformedHeader("an item is not key=value"))?;
            match key {
                "t" => {
                    if timestamp.is_some() {
                        return Err(WebhookError::MalformedHeader("more than one timestamp"));
                    }
                    let seconds = value.parse::<i64>().map_err(|_| {
                        WebhookError::MalformedHeader("the timestamp is not a number")
                    })?;
                    timestamp = Some(seconds);
                }
                "v1" => {
                    if signatures.len() == MAX_SIGNATURES {
                        return Err(WebhookError::MalformedHeader("too many signatures"));
                    }
                    let signature = unhex(value).ok_or(WebhookError::MalformedHeader(
                        "a v1 signature is not 64 hex digits",
                    ))?;
                    signatures.push(signature);
                }
                _ => {}
            }
        }
        let timestamp = timestamp.ok_or(WebhookError::MalformedHeader("no timestamp"))?;
        if signatures.is_empty() {
            return Err(WebhookError::MalformedHeader("no v1 signature"));
        }
        Ok(Self {
            timestamp,
            signatures,
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(DIGITS[usize::from(byte >> 4)] as char);
        text.push(DIGITS[usize::from(byte & 0x0f)] as char);
    }
    text
}

fn unhex(text: &str) -> Option<[u8; 32]> {
    let digits = text.as_bytes();
    if digits.len() != 64 {
        return None;
    }
    let mut bytes = [0u8; 32];
    for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
        let high = char::from(pair[0]).to_digit(16)?;
        let low = char::from(pair[1]).to_digit(16)?;
        *byte = u8::try_from(high << 4 | low).ok()?;
    }
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    fn secret(text: &str) -> WebhookSecret {
        WebhookSecret::parse(text).unwrap()
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(seconds, 0).unwrap()
    }

    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment.captured"}"#;

    #[test]
    fn a_signature_matches_the_hmac_computed_by_hand() {
        // HMAC-SHA256("whsec_0123456789abcdef", "1733104800.{BODY}"), from
        // `printf '%s' "1733104800.$BODY" | openssl dgst -sha256 -hmac whsec_0123456789abcdef`.
        let header = secret("whsec_0123456789abcdef").sign(BODY, at(1_733_104_800));
        assert_eq!(
            header,
            "t=1733104800,v1=600f0f299fcac4445cf39dad27afaf49a85084cb3a0810303bac4f203b70b03b"
        );
    }

    #[test]
    fn the_signer_is_believed_and_nobody_else() {
        let shop = WebhookVerifier::new(vec![secret("whsec_0123456789abcdef")]).unwrap();
        let now = at(1_733_104_800);
        let header = secret("whsec_0123456789abcdef").sign(BODY, now);
        assert_eq!(shop.verify(&header, BODY, now), Ok(()));

        let forged = secret("whsec_someone-else-entirely").sign(BODY, now);
        assert_eq!(
            shop.verify(&forged, BODY, now),
            Err(WebhookError::BadSignature)
        );
        let tampered = br#"{"id":"evt_1","type":"payment.refunded"}"#;
        assert_eq!(
            shop.verify(&header, tampered, now),
            Err(WebhookError::BadSignature)
        );
        // The timestamp is signed too: moving it breaks the signature.
        let moved = header.replacen("t=1733104800", "t=1733104801", 1);
        assert_eq!(
            shop.verify(&moved, BODY, now),
            Err(WebhookError::BadSignature)
        );
    }

    #[test]
    fn old_and_future_reports_are_refused_outside_the_tolerance() {
        let key = secret("whsec_0123456789abcdef");
        let shop = WebhookVerifier::new(vec![key.clone()]).unwrap();
        let now = at(1_733_104_800);
        for (offset, believed) in [(-300, true), (300, true), (-301, false), (301, false)] {
            let header = key.sign(BODY, at(1_733_104_800 + offset));
            let outcome = shop.verify(&header, BODY, now);
            if believed {
                assert_eq!(outcome, Ok(()), "{offset} s");
            } else {
                assert!(
                    matches!(outcome, Err(WebhookError::OutsideTolerance { age_seconds, tolerance_seconds: 300 }) if age_seconds == -offset),
                    "{offset} s: {outcome:?}"
                );
            }
        }
        let strict = shop.with_tolerance(Duration::seconds(10));
        let header = key.sign(BODY, at(1_733_104_800 - 11));
        assert!(matches!(
            strict.verify(&header, BODY, now),
            Err(WebhookError::OutsideTolerance { .. })
        ));
    }

    #[test]
    fn during_a_rotation_either_secret_is_believed() {
        let (old, new) = (
            secret("whsec_old-0123456789"),
            secret("whsec_new-0123456789"),
        );
        let shop = WebhookVerifier::new(vec![new.clone(), old.clone()]).unwrap();
        let now = at(1_733_104_800);
        assert_eq!(shop.verify(&old.sign(BODY, now), BODY, now), Ok(()));
        assert_eq!(shop.verify(&new.sign(BODY, now), BODY, now), Ok(()));
        // A provider mid-rotation sends both signatures; one match is enough.
        let both = format!("{},v1={}", old.sign(BODY, now), &new.sign(BODY, now)[16..]);
        assert_eq!(shop.verify(&both, BODY, now), Ok(()));
        // After the rotation the old secret is gone.
        let after = WebhookVerifier::new(vec![new]).unwrap();
        assert_eq!(
            after.verify(&old.sign(BODY, now), BODY, now),
            Err(WebhookError::BadSignature)
        );
    }

    #[test]
    fn malformed_headers_and_secrets_get_typed_errors() {
        let shop = WebhookVerifier::new(vec![secret("whsec_0123456789abcdef")]).unwrap();
        let now = at(1_733_104_800);
        let good = "a".repeat(64);
        for header in [
            String::new(),
            "t=1733104800".to_owned(),
            format!("v1={good}"),
            format!("t=soon,v1={good}"),
            format!("t=1733104800,t=1733104800,v1={good}"),
            "t=1733104800,v1=abc".to_owned(),
            format!("t=1733104800,v1={}", "g".repeat(64)),
            format!("t=1733104800,v1={good},garbage"),
            format!(
                "t=1733104800{}",
                format!(",v1={good}").repeat(MAX_SIGNATURES + 1)
            ),
            format!("t=1733104800,v1={}é", "a".repeat(62)),
        ] {
            assert!(
                matches!(
                    shop.verify(&header, BODY, now),
                    Err(WebhookError::MalformedHeader(_))
                ),
                "{header:?}"
            );
        }
        assert_eq!(
            WebhookSecret::parse("short").unwrap_err(),
            WebhookError::SecretTooShort
        );
        assert_eq!(
            WebhookVerifier::new(vec![]).unwrap_err(),
            WebhookError::NoSecrets
        );
        assert_eq!(
            format!("{:?}", secret("whsec_0123456789abcdef")),
            "WebhookSecret(..)"
        );
    }

    #[test]
    fn extreme_timestamps_do_not_overflow() {
        let key = secret("whsec_0123456789abcdef");
        let shop = WebhookVerifier::new(vec![key]).unwrap();
        let now = at(1_733_104_800);
        for t in [i64::MIN, i64::MAX] {
            let header = format!("t={t},v1={}", "a".repeat(64));
            assert!(matches!(
                shop.verify(&header, BODY, now),
                Err(WebhookError::OutsideTolerance { .. })
            ));
        }
    }

    proptest! {
        #[test]
        fn any_change_to_the_body_is_caught(body in proptest::collection::vec(any::<u8>(), 1..256), index in any::<prop::sample::Index>(), flip in 1u8..=255) {
            let key = secret("whsec_0123456789abcdef");
            let shop = WebhookVerifier::new(vec![key.clone()]).unwrap();
            let now = at(1_733_104_800);
            let header = key.sign(&body, now);
            prop_assert_eq!(shop.verify(&header, &body, now), Ok(()));
            let mut changed = body.clone();
            changed[index.index(body.len())] ^= flip;
            prop_assert_eq!(shop.verify(&header, &changed, now), Err(WebhookError::BadSignature));
        }

        #[test]
        fn any_header_text_gets_an_answer_not_a_panic(header in ".{0,300}") {
            let shop = WebhookVerifier::new(vec![secret("whsec_0123456789abcdef")]).unwrap();
            prop_assert!(shop.verify(&header, BODY, at(1_733_104_800)).is_err());
        }
    }
}
