//! Opaque page cursors. A listing's or a search's `next` is the store's keyset
//! cursor ([`BrowseCursor`], [`SearchCursor`]) as base64url (no padding) of its
//! JSON: clients pass it back as `after` and never read it. Coming back, it is
//! untrusted input like any other: bounded, decoded, and checked for values the
//! service never makes (a name with a control character, a date PostgreSQL cannot
//! hold), so that a cursor a client made up is `422 invalid_cursor`, never a 500.

use axum::http::StatusCode;
use chrono::Datelike;
use ecom_domain::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// The longest cursor accepted, in characters: a name cursor holds a product name
/// (200 characters of up to four bytes each), which its encoding makes a third
/// longer.
pub(super) const MAX_CURSOR_CHARS: usize = 2048;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// `cursor` as the opaque text a page's `next` carries.
pub(super) fn encode<T: Serialize>(cursor: &T) -> String {
    // A cursor is a struct of numbers, dates and strings: it always serializes.
    base64url(&serde_json::to_vec(cursor).unwrap_or_default())
}

/// A listing's cursor from an `after`, checked.
pub(super) fn browse_cursor(raw: &str) -> Result<BrowseCursor, ApiError> {
    let cursor: BrowseCursor = decode(raw)?;
    let plausible = match &cursor {
        // The database stamps products; its timestamps fit in years 1 to 9999.
        BrowseCursor::Newest { created_at, .. } => (1..=9999).contains(&created_at.year()),
        BrowseCursor::Price { .. } => true,
        // A product's name, as the store holds it.
        BrowseCursor::Name { name, .. } => {
            ProductName::parse(name).is_ok_and(|parsed| parsed.as_str() == name)
        }
    };
    if !plausible {
        return Err(invalid());
    }
    Ok(cursor)
}

/// A search's cursor from an `after`.
pub(super) fn search_cursor(raw: &str) -> Result<SearchCursor, ApiError> {
    decode(raw)
}

fn decode<T: DeserializeOwned>(raw: &str) -> Result<T, ApiError> {
    if raw.len() > MAX_CURSOR_CHARS {
        return Err(invalid());
    }
    let bytes = from_base64url(raw).ok_or_else(invalid)?;
    serde_json::from_slice(&bytes).map_err(|_| invalid())
}

fn invalid() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_cursor",
        "`after` is not a cursor this route made for this order; start again without it",
    )
}

fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        // The chunk's bytes, big-endian, in the top 24 bits' order.
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        // Three bytes make four characters; one or two make two or three.
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

fn from_base64url(text: &str) -> Option<Vec<u8>> {
    // Four characters make three bytes; a lone character is no byte.
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    for chunk in text.as_bytes().chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            let sextet = ALPHABET.iter().position(|a| a == c)?;
            n |= (sextet as u32) << (18 - 6 * i);
        }
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn base64url_round_trips_every_length_and_matches_the_standard() {
        // RFC 4648's test vectors, without padding.
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64url(plain.as_bytes()), encoded);
            assert_eq!(from_base64url(encoded).as_deref(), Some(plain.as_bytes()));
        }
        let every_byte: Vec<u8> = (0..=255).collect();
        let text = base64url(&every_byte);
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(from_base64url(&text), Some(every_byte));
        for bad in ["a", "abcde", "ab+c", "ab/c", "ab=c", "é"] {
            assert_eq!(from_base64url(bad), None, "{bad}");
        }
    }

    #[test]
    fn cursors_the_service_makes_come_back_and_made_up_ones_are_refused() {
        let newest = BrowseCursor::Newest {
            created_at: Utc.with_ymd_and_hms(2026, 12, 2, 11, 5, 28).unwrap(),
            id: ProductId::new(7),
        };
        let by_name = BrowseCursor::Name {
            name: "Café crème".to_owned(),
            id: ProductId::new(9),
        };
        for cursor in [newest, by_name] {
            assert_eq!(browse_cursor(&encode(&cursor)).unwrap(), cursor);
        }
        let search = SearchCursor {
            score: 607_927,
            id: ProductId::new(3),
        };
        assert_eq!(search_cursor(&encode(&search)).unwrap(), search);

        let forged = [
            "not a cursor".to_owned(),
            base64url(b"{\"sort\":\"newest\"}"),
            base64url(b"[1,2,3]"),
            encode(&BrowseCursor::Name {
                name: "nul\0".to_owned(),
                id: ProductId::new(1),
            }),
            encode(&BrowseCursor::Name {
                name: " padded ".to_owned(),
                id: ProductId::new(1),
            }),
            encode(&BrowseCursor::Newest {
                created_at: Utc.with_ymd_and_hms(-40_000, 1, 1, 0, 0, 0).unwrap(),
                id: ProductId::new(1),
            }),
            "A".repeat(MAX_CURSOR_CHARS + 3),
        ];
        for raw in forged {
            let err = browse_cursor(&raw).unwrap_err();
            assert_eq!(
                (err.status(), err.code()),
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_cursor"),
                "{raw}"
            );
        }
        assert_eq!(
            search_cursor(&encode(&ProductId::new(1)))
                .unwrap_err()
                .code(),
            "invalid_cursor"
        );
    }
}
