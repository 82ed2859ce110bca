//! Secrets a client holds and the store keeps only as digests: session tokens, and
//! the digest that stands for a guest's token wherever the store needs to know it
//! again.

use std::fmt;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

use super::check::ValidationError;

/// The SHA-256 of a token: what the store keeps and looks tokens up by. A token has
/// at least 128 random bits, so a fast hash is enough: nobody can search the space.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenDigest([u8; 32]);

impl TokenDigest {
    /// The digest of a token's text.
    pub fn of(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    /// A digest read back from storage.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// All 32 bytes in lower-case hex (`Display` shows only the first eight).
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenDigest({self})")
    }
}

/// The first eight bytes in hex: enough to tell digests apart in a log.
impl fmt::Display for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in &self.0[..8] {
            write!(f, "{byte:02x}")?;
        }
        f.write_str("…")
    }
}

/// A session's bearer token, made by the store from 256 random bits and shown to the
/// client once; the store keeps only its [`TokenDigest`]. Its `Debug` shows none of
/// it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SessionToken(String);

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

impl SessionToken {
    /// The length of every token: 32 bytes in unpadded base64url.
    pub const LEN: usize = 43;

    /// A new token from the operating system's random source.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        Self::from_random(bytes)
    }

    /// The token for 32 random bytes (for generators with their own source).
    pub fn from_random(bytes: [u8; 32]) -> Self {
        let mut text = String::with_capacity(Self::LEN);
        let mut bits = 0u32;
        let mut held = 0u32;
        for byte in bytes {
            bits = (bits << 8) | u32::from(byte);
            held += 8;
            while held >= 6 {
                held -= 6;
                text.push(char::from(BASE64URL[((bits >> held) & 63) as usize]));
            }
        }
        if held > 0 {
            text.push(char::from(BASE64URL[((bits << (6 - held)) & 63) as usize]));
        }
        Self(text)
    }

    /// A token as a client sent it back: 43 characters of base64url. Any such text
    /// parses; whether it names a session is the store's to say.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let raw = raw.trim();
        if raw.len() != Self::LEN || !raw.bytes().all(|b| BASE64URL.contains(&b)) {
            return Err(ValidationError::Malformed {
                field: "session token",
                value: String::from("(hidden)"),
                rule: "43 characters of A-Z, a-z, 0-9, '-' and '_'",
            });
        }
        Ok(Self(raw.to_owned()))
    }

    /// The text to give the client.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the store keeps of it.
    pub fn digest(&self) -> TokenDigest {
        TokenDigest::of(&self.0)
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_parse_differ_and_hide_in_debug() {
        let a = SessionToken::generate();
        let b = SessionToken::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), SessionToken::LEN);
        assert_eq!(SessionToken::parse(a.as_str()).unwrap(), a);
        assert_eq!(format!("{a:?}"), "SessionToken(..)");
        assert_ne!(a.digest(), b.digest());
    }

    #[test]
    fn tokens_encode_as_base64url_does() {
        // 32 zero bytes, and 32 bytes of 0xff, in unpadded base64url.
        assert_eq!(
            SessionToken::from_random([0; 32]).as_str(),
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        );
        assert_eq!(
            SessionToken::from_random([0xff; 32]).as_str(),
            "__________________________________________8"
        );
    }

    #[test]
    fn malformed_tokens_are_refused_without_echoing_them() {
        for raw in [
            "",
            "short",
            &"a".repeat(44),
            &format!("{}+", "a".repeat(42)),
        ] {
            let err = SessionToken::parse(raw).unwrap_err();
            assert!(!err.to_string().contains("aaaa"), "{err}");
        }
    }

    #[test]
    fn the_digest_is_sha256_of_the_text() {
        // printf '%s' abc | sha256sum
        assert_eq!(format!("{}", TokenDigest::of("abc")), "ba7816bf8f01cfea…");
    }
}
